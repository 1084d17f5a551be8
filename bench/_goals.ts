// One way for every benchmark to state its goals: each figure is printed as its ratio to the threshold,
// and recorded so `npm run bench -- --check` can fail on a goal missed by more than the noise measured
// for it. A figure is "lower is better" (a time, a size, a slowdown ratio); ratio = value / threshold.
//
// `tolerance` is the run-to-run noise of that figure, as a fraction of it (0.1 = 10 %), measured by
// running the benchmark three times (say where the number comes from beside it). A goal counts as missed
// for --check only when value > threshold * (1 + tolerance): within the noise it is reported, not failed.
//
// Under local/bench.ts the records go to the file named by BENCH_GOALS_FILE and the runner decides; a
// benchmark run on its own with --check (or BENCH_CHECK=1) sets a failing exit code itself.
import { appendFileSync, writeSync } from "node:fs";
import { basename } from "node:path";

export interface GoalRecord {
  bench: string;
  name: string;
  value: number;
  threshold: number;
  unit: string;
  tolerance: number;
  /** value <= threshold */
  met: boolean;
  /** value > threshold * (1 + tolerance): missed by more than the noise */
  failed: boolean;
}

export const GOALS_FILE_ENV = "BENCH_GOALS_FILE";

export function checkRequested(argv = process.argv, env = process.env): boolean {
  return argv.includes("--check") || env.BENCH_CHECK === "1";
}

const recorded: GoalRecord[] = [];
const benchName = basename(process.argv[1] ?? "bench", ".ts");

function format(value: number, unit: string): string {
  const digits = unit === "x" ? 2 : Math.abs(value) >= 100 ? 0 : 1;
  return unit === "x" ? `${value.toFixed(digits)}x` : `${value.toFixed(digits)} ${unit}`;
}

/** Prints one goal line and records it. */
export function goal(name: string, value: number, threshold: number, opts: { unit?: string; tolerance: number }): GoalRecord {
  if (!Number.isFinite(value) || !(threshold > 0) || !(opts.tolerance >= 0)) {
    throw new Error(`goal "${name}": value ${value}, threshold ${threshold} and tolerance ${opts.tolerance} must be numbers (threshold > 0)`);
  }
  const unit = opts.unit ?? "x";
  const record: GoalRecord = {
    bench: benchName,
    name,
    value,
    threshold,
    unit,
    tolerance: opts.tolerance,
    met: value <= threshold,
    failed: value > threshold * (1 + opts.tolerance),
  };
  recorded.push(record);
  const verdict = record.met ? "met" : record.failed ? "MISSED" : "missed within noise";
  console.log(
    `  GOAL ${name}: ${format(value, unit)} vs threshold ${format(threshold, unit)}, ratio ${(value / threshold).toFixed(2)}` +
      ` (noise ±${(opts.tolerance * 100).toFixed(0)} %) ${verdict}`,
  );
  const file = process.env[GOALS_FILE_ENV];
  if (file) appendFileSync(file, JSON.stringify(record) + "\n");
  return record;
}

export interface NoGoalRecord {
  bench: string;
  /** Why this benchmark states no goal (and how it fails instead, if it does). */
  noGoal: string;
}

/**
 * Says that this benchmark has no goal to state (its issue sets no threshold), so --check does not count
 * it as silent by accident. Correctness checks such a benchmark makes fail it through its exit code.
 */
export function noGoal(why: string): void {
  console.log(`  no goal: ${why}`);
  const file = process.env[GOALS_FILE_ENV];
  if (file) appendFileSync(file, JSON.stringify({ bench: benchName, noGoal: why } satisfies NoGoalRecord) + "\n");
}

// Run on its own with --check: the process fails when a goal was missed by more than its noise.
process.on("exit", (code) => {
  if (code !== 0 || process.env[GOALS_FILE_ENV] || !checkRequested()) return;
  const failed = recorded.filter((r) => r.failed);
  if (failed.length) {
    // Synchronously: an exit handler's asynchronous writes to a pipe may never arrive.
    writeSync(2, `goals missed by more than their noise: ${failed.map((r) => r.name).join("; ")}\n`);
    process.exitCode = 1;
  }
});
