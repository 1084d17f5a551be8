// `npm test`: every check and test in the repository against its own "test" instance (its own cluster
// and ports, so it passes whether or not `npm start` runs beside it), one summary at the end.
// Checks pass or fail as a whole (type checks); phases report counts per test file (testing/runner.ts).
// To add a check or a phase, add an entry below.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { instanceConfig, projectRoot } from "./config.ts";
import { ensureSystemPackages, prepareDatabase, stopCluster } from "./db/cluster.ts";
import { denoEnvironment, startStack } from "./stack.ts";
import { parseDenoJunit, parseNodeRecords, parsePgProve } from "./testing/parse.ts";
import { run, runSuite, type Check, type Phase } from "./testing/runner.ts";

const config = instanceConfig("test");
// The end-to-end tests drive Debian's Chromium; Playwright's own browser download cannot work here.
ensureSystemPackages([{ pkg: "chromium", path: "/usr/bin/chromium" }]);

const tsc = join(projectRoot, "node_modules", ".bin", "tsc");
const deno = join(projectRoot, "node_modules", ".bin", "deno");

/** Files under `dirs` (relative to the project root) whose names match, sorted, as project-relative paths. */
function findFiles(dirs: string[], matches: (name: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      if (entry === "node_modules" || entry === "dist" || entry.startsWith(".")) continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (matches(entry)) found.push(relative(projectRoot, path));
    }
  };
  for (const dir of dirs) walk(join(projectRoot, dir));
  return found.sort();
}

const checks: Check[] = [
  { name: "tsc: local, tests, bench", command: tsc, args: ["-p", "tsconfig.json"] },
  { name: "tsc: dashboard", command: tsc, args: ["-p", "web/tsconfig.json"] },
  { name: "tsc: widget", command: tsc, args: ["-p", "widget/tsconfig.json"] },
  { name: "deno check: functions", command: deno, args: ["check", "--quiet", "--config", "functions/deno.json", "functions/"], env: denoEnvironment },
];

const phases: Phase[] = [
  {
    name: "database (pgTAP via pg_prove)",
    files: findFiles(["supabase/tests"], (n) => n.endsWith(".sql")),
    async run(files) {
      await prepareDatabase(config, { reset: true, seed: true });
      const { code, output } = await run(
        "pg_prove",
        ["--verbose", "--host", "127.0.0.1", "--port", String(config.ports.db), "--username", "postgres", "--dbname", "postgres", ...files],
        { PGPASSWORD: "postgres" },
      );
      return { exitCode: code, files: parsePgProve(output) };
    },
  },
  {
    name: "edge functions (deno test)",
    files: findFiles(["functions"], (n) => n.endsWith(".test.ts")),
    async run(files) {
      const report = join(config.stateDir, "deno-junit.xml");
      rmSync(report, { force: true });
      // The "deno check: functions" check already type-checks these files; checking them twice costs time.
      const args = ["test", "--allow-all", "--no-prompt", "--no-check", `--junit-path=${report}`, ...files];
      const { code } = await run(deno, args, denoEnvironment);
      const xml = existsSync(report) ? readFileSync(report, "utf8") : "";
      return { exitCode: code, files: parseDenoJunit(xml, projectRoot, projectRoot) };
    },
  },
  {
    name: "integration, local services, web and widget (node --test against the test stack)",
    files: findFiles(["tests", "local", "web", "widget"], (n) => n.endsWith(".test.ts") || n.endsWith(".test.tsx")),
    wantsQuietMachine: true,
    async run(files) {
      const report = join(config.stateDir, "node-tests.jsonl");
      rmSync(report, { force: true });
      const stack = await startStack(config, { useLlmFake: true });
      try {
        const reporter = join(projectRoot, "local", "testing", "node-reporter.mjs");
        const { code } = await run(
          process.execPath,
          [
            "--import", "tsx", "--test", "--test-timeout=180000", "--test-concurrency=1",
            "--test-reporter=spec", "--test-reporter-destination=stdout",
            `--test-reporter=${reporter}`, `--test-reporter-destination=${report}`,
            ...files,
          ],
          { LEADLOOP_INSTANCE: config.name, NO_COLOR: "1" },
        );
        return { exitCode: code, files: parseNodeRecords(existsSync(report) ? readFileSync(report, "utf8") : "", projectRoot) };
      } finally {
        await stack.stop();
      }
    },
  },
];

const passed = await runSuite(checks, phases);
stopCluster(config);
process.exit(passed ? 0 : 1);
