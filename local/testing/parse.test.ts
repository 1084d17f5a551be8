// The runner's readers of each tool's report: per-file counts, files without tests, crashes and hooks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { noCounts } from "./counts.ts";
import { parseDenoJunit, parseNodeRecords, parsePgProve } from "./parse.ts";

const root = "/repo";
const c = (over: Partial<ReturnType<typeof noCounts>>) => ({ ...noCounts(), ...over });

describe("node:test records", () => {
  const line = (r: Record<string, unknown>) => JSON.stringify({ suite: false, skip: false, todo: false, cancelled: false, outcome: "pass", ...r });

  test("counts tests per file, not suites; skip, todo and cancelled apart", () => {
    const records = [
      line({ file: "/repo/a.test.ts", name: "x" }),
      line({ file: "/repo/a.test.ts", name: "s", skip: true }),
      line({ file: "/repo/a.test.ts", name: "t", todo: true }),
      line({ file: "/repo/a.test.ts", name: "suite", suite: true }),
      line({ file: "/repo/b.test.ts", name: "y", outcome: "fail", failureType: "testCodeFailure" }),
      line({ file: "/repo/b.test.ts", name: "z", outcome: "fail", cancelled: true, failureType: "cancelledByParent" }),
      line({ file: "/repo/b.test.ts", name: "outer", suite: true, outcome: "fail", failureType: "subtestsFailed" }),
    ].join("\n");
    const files = parseNodeRecords(records, root);
    assert.deepEqual(files.get("a.test.ts"), c({ passed: 1, skipped: 1, todo: 1 }));
    assert.deepEqual(files.get("b.test.ts"), c({ failed: 1, cancelled: 1 }));
  });

  test("a file without tests counts nothing; a file that cannot load and a failing hook are failures", () => {
    const records = [
      line({ file: "/repo/empty.test.ts", name: "/repo/empty.test.ts" }),
      line({ file: "/repo/broken.test.ts", name: "/repo/broken.test.ts", outcome: "fail", failureType: "testCodeFailure" }),
      line({ file: "/repo/hook.test.ts", name: "a", outcome: "fail", cancelled: true, failureType: "cancelledByParent" }),
      line({ file: "/repo/hook.test.ts", name: "h", suite: true, outcome: "fail", failureType: "hookFailed" }),
    ].join("\n");
    const files = parseNodeRecords(records, root);
    assert.deepEqual(files.get("empty.test.ts"), noCounts());
    assert.deepEqual(files.get("broken.test.ts"), c({ failed: 1 }));
    assert.deepEqual(files.get("hook.test.ts"), c({ failed: 1, cancelled: 1 }));
  });
});

test("pg_prove --verbose: TAP per file, with SKIP and TODO directives", () => {
  const output = [
    "supabase/tests/00_a.test.sql ...... ",
    "1..4",
    "ok 1 - one",
    "not ok 2 - two",
    "# Failed test 2",
    "ok 3 # skip not today",
    "not ok 4 - later # TODO not built",
    "supabase/tests/01_b.test.sql .. ",
    "1..0 # SKIP nothing here",
    "Files=2, Tests=4",
  ].join("\n");
  const files = parsePgProve(output);
  assert.deepEqual(files.get("supabase/tests/00_a.test.sql"), c({ passed: 1, failed: 1, skipped: 1, todo: 1 }));
  assert.deepEqual(files.get("supabase/tests/01_b.test.sql"), noCounts());
});

test("deno JUnit: tests per suite, steps not counted, ignored as skipped", () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="5" failures="1" errors="0" time="0.1">
    <testsuite name="./functions/a.test.ts" tests="4" disabled="1" errors="0" failures="1">
        <testcase name="one &amp; two" classname="./functions/a.test.ts" time="0.001" line="1" col="6">
        </testcase>
        <testcase name="ign" classname="./functions/a.test.ts" time="0.000" line="2" col="6">
            <skipped/>
        </testcase>
        <testcase name="steps" classname="./functions/a.test.ts" time="0.001" line="3" col="6">
            <failure message="boom">boom</failure>
        </testcase>
        <testcase name="steps &gt; s1" classname="./functions/a.test.ts" time="0.000" line="3" col="43">
        </testcase>
    </testsuite>
    <testsuite name="./functions/b.test.ts" tests="0" disabled="0" errors="0" failures="0">
    </testsuite>
</testsuites>`;
  const files = parseDenoJunit(xml, root, root);
  assert.deepEqual(files.get("functions/a.test.ts"), c({ passed: 1, failed: 1, skipped: 1 }));
  assert.deepEqual(files.get("functions/b.test.ts"), noCounts());
});
