// The runner's verdict on a phase: files that ran no test, a phase with no files, a non-zero exit with no
// failing test, and a phase that throws are all problems that fail the run.
import assert from "node:assert/strict";
import { test } from "node:test";
import { noCounts } from "./counts.ts";
import { runPhase, type Phase } from "./runner.ts";

function phase(files: string[], outcome: Awaited<ReturnType<Phase["run"]>> | Error): Phase {
  return {
    name: "fake",
    files,
    run: async () => {
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  };
}

test("a file that ran no test, or only skipped ones, is a problem; one that ran tests is not", async () => {
  const files = new Map([
    ["a.test.ts", { ...noCounts(), passed: 2 }],
    ["b.test.ts", { ...noCounts(), skipped: 3 }],
  ]);
  const result = await runPhase(phase(["a.test.ts", "b.test.ts", "c.test.ts"], { exitCode: 0, files }));
  assert.deepEqual(result.problems, ["b.test.ts ran no test", "c.test.ts ran no test"]);
  assert.equal(result.counts.passed, 2);
  assert.equal(result.counts.skipped, 3);
});

test("a phase without files, a silent non-zero exit and a phase that throws are problems", async () => {
  assert.deepEqual((await runPhase(phase([], { exitCode: 0, files: new Map() }))).problems, ["found no test files"]);
  const silent = await runPhase(phase(["a.test.ts"], { exitCode: 3, files: new Map([["a.test.ts", { ...noCounts(), passed: 1 }]]) }));
  assert.deepEqual(silent.problems, ["exited with code 3 although no test failed"]);
  const thrown = await runPhase(phase(["a.test.ts"], new Error("no database")));
  assert.deepEqual(thrown.problems, ["could not run: no database"]);
});
