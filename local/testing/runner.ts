// The test runner's engine: checks (pass/fail commands such as type checks) and phases (tools that run
// test files and report counts per file). Adding either is one entry in local/test.ts. The run fails when
// a check fails, a test fails or is cancelled, a phase exits non-zero, or a phase or file ran no test.
import { spawn } from "node:child_process";
import { projectRoot } from "../config.ts";
import { addCounts, describeCounts, noCounts, ranCount, type Counts, type FileCounts } from "./counts.ts";

export interface Check {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export interface PhaseRun {
  exitCode: number;
  /** Counts per test file, as the tool reported them. */
  files: FileCounts;
}

export interface Phase {
  name: string;
  /** Test files (relative to the project root) this phase must run; each must run at least one test. */
  files: string[];
  /** Wait for the checks to finish first: the phase is timing-sensitive (browsers, a full stack). */
  wantsQuietMachine?: boolean;
  run(files: string[]): Promise<PhaseRun>;
}

interface CheckResult {
  name: string;
  ok: boolean;
  output: string;
  seconds: number;
}

interface PhaseResult {
  name: string;
  counts: Counts;
  fileCount: number;
  problems: string[];
  seconds: number;
}

/** Runs a command from the project root; streams its output unless `quiet`, and returns it. */
export function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  { quiet = false }: { quiet?: boolean } = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString();
      if (!quiet) stream.write(chunk);
    };
    child.stdout.on("data", collect(process.stdout));
    child.stderr.on("data", collect(process.stderr));
    child.on("error", (error) => {
      output += `${command}: ${error.message}\n`;
    });
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Runs the checks two at a time with their output held back, so it never interleaves with a phase's. */
async function runChecks(checks: Check[]): Promise<CheckResult[]> {
  const results: CheckResult[] = new Array(checks.length);
  let next = 0;
  const worker = async () => {
    while (next < checks.length) {
      const index = next++;
      const check = checks[index];
      const started = Date.now();
      const { code, output } = await run(check.command, check.args, check.env, { quiet: true });
      results[index] = { name: check.name, ok: code === 0, output, seconds: (Date.now() - started) / 1000 };
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

export async function runPhase(phase: Phase): Promise<PhaseResult> {
  console.log(`\n=== ${phase.name} ===`);
  const started = Date.now();
  const problems: string[] = [];
  const counts = noCounts();
  if (phase.files.length === 0) {
    problems.push("found no test files");
    return { name: phase.name, counts, fileCount: 0, problems, seconds: 0 };
  }
  let outcome: PhaseRun;
  try {
    outcome = await phase.run(phase.files);
  } catch (error) {
    problems.push(`could not run: ${(error as Error).message}`);
    return { name: phase.name, counts, fileCount: phase.files.length, problems, seconds: (Date.now() - started) / 1000 };
  }
  for (const file of phase.files) {
    const c = outcome.files.get(file);
    if (!c || ranCount(c) === 0) problems.push(`${file} ran no test`);
  }
  for (const c of outcome.files.values()) addCounts(counts, c);
  if (outcome.exitCode !== 0 && counts.failed + counts.cancelled === 0) {
    problems.push(`exited with code ${outcome.exitCode} although no test failed`);
  }
  return { name: phase.name, counts, fileCount: phase.files.length, problems, seconds: (Date.now() - started) / 1000 };
}

/** Runs every check and phase and prints one summary; resolves to whether the run passed. */
export async function runSuite(checks: Check[], phases: Phase[]): Promise<boolean> {
  const checking = runChecks(checks);
  let checkResults: CheckResult[] | undefined;
  const checksDone = async () => {
    if (checkResults) return checkResults;
    checkResults = await checking;
    console.log(`\n=== checks ===`);
    for (const r of checkResults) {
      console.log(`--- ${r.name}: ${r.ok ? "ok" : "FAILED"} (${r.seconds.toFixed(1)} s)`);
      if (r.output.trim()) process.stdout.write(r.output.endsWith("\n") ? r.output : `${r.output}\n`);
    }
    return checkResults;
  };

  const phaseResults: PhaseResult[] = [];
  for (const phase of phases) {
    if (phase.wantsQuietMachine) await checksDone();
    phaseResults.push(await runPhase(phase));
  }
  const checkList = await checksDone();

  const total = noCounts();
  for (const r of phaseResults) addCounts(total, r.counts);
  const checksPassed = checkList.filter((r) => r.ok).length;
  console.log("\n=== summary ===");
  for (const r of checkList) console.log(`${r.ok ? "ok  " : "FAIL"} check: ${r.name} (${r.seconds.toFixed(1)} s)`);
  for (const r of phaseResults) {
    const ok = r.problems.length === 0 && r.counts.failed + r.counts.cancelled === 0;
    console.log(`${ok ? "ok  " : "FAIL"} ${r.name}: ${describeCounts(r.counts)} in ${r.fileCount} files (${r.seconds.toFixed(1)} s)`);
    for (const problem of r.problems) console.log(`       ${problem}`);
  }
  const passed =
    checksPassed === checkList.length &&
    total.failed + total.cancelled === 0 &&
    phaseResults.every((r) => r.problems.length === 0);
  console.log(`tests: ${describeCounts(total)}; checks: ${checksPassed} of ${checkList.length} passed`);
  console.log(passed ? "PASSED" : "FAILED");
  return passed;
}
