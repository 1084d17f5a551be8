// `npm run bench [-- name…] [-- --check]`: every benchmark in bench/ against a fresh "bench" instance of the
// whole stack (its own cluster and ports), one after another so they do not disturb each other. Each
// benchmark prints its figures as ratios against a baseline from the same run, and states its goals
// through bench/_goals.ts; this runner collects them and prints them together at the end.
// With --check (or BENCH_CHECK=1) it exits non-zero when a goal is missed by more than the noise measured
// for it, or when a benchmark states no goals at all and does not say why (bench/_goals.ts noGoal), so
// nothing goes unchecked by accident.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkRequested, GOALS_FILE_ENV, type GoalRecord, type NoGoalRecord } from "../bench/_goals.ts";
import { instanceConfig, projectRoot } from "./config.ts";
import { stopCluster } from "./db/cluster.ts";
import { startStack } from "./stack.ts";

const config = instanceConfig("bench");
const args = process.argv.slice(2);
const check = checkRequested(args);
const only = args.filter((a) => !a.startsWith("--"));
const benches = readdirSync(join(projectRoot, "bench"))
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .filter((f) => only.length === 0 || only.some((name) => f.startsWith(name)))
  .sort();
if (benches.length === 0) {
  console.error(`no benchmark matches ${only.join(", ")}`);
  process.exit(2);
}

const goalsDir = mkdtempSync(join(tmpdir(), "leadloop-bench-goals-"));
const goalsFile = join(goalsDir, "goals.jsonl");
const stack = await startStack(config, { reset: true });
const failures: string[] = [];
try {
  for (const file of benches) {
    console.log(`\n=== bench/${file} ===`);
    // Asynchronously: this process serves the stack the benchmark talks to.
    const child = spawn(process.execPath, ["--import", "tsx", join("bench", file)], {
      cwd: projectRoot,
      stdio: "inherit",
      // The instance this runner started, whatever LEADLOOP_INSTANCE said: LEADLOOP_PORT_BASE applies only to
      // the instance LEADLOOP_INSTANCE names, so both go to the benchmark together.
      env: { ...process.env, LEADLOOP_INSTANCE: config.name, LEADLOOP_PORT_BASE: String(config.portBase), [GOALS_FILE_ENV]: goalsFile },
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (code !== 0) failures.push(file);
  }
} finally {
  await stack.stop();
  stopCluster(config);
}

let records: (GoalRecord | NoGoalRecord)[] = [];
try {
  records = readFileSync(goalsFile, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as GoalRecord | NoGoalRecord);
} catch {
  // no benchmark stated a goal
}
const goals = records.filter((r): r is GoalRecord => !("noGoal" in r));
const withoutGoals = records.filter((r): r is NoGoalRecord => "noGoal" in r);
rmSync(goalsDir, { recursive: true, force: true });

console.log("\n=== goals (ratio = figure / threshold; --check fails above 1 + the noise measured for the goal) ===");
for (const g of goals) {
  const verdict = g.met ? "met" : g.failed ? "MISSED" : "missed within noise";
  const figure = g.unit === "x" ? `${g.value.toFixed(2)}x` : `${g.value.toFixed(1)} ${g.unit}`;
  const threshold = g.unit === "x" ? `${g.threshold}x` : `${g.threshold} ${g.unit}`;
  console.log(`  ${`bench/${g.bench}`.padEnd(20)} ${g.name.padEnd(64)} ${figure.padStart(10)} / ${threshold.padEnd(8)} ratio ${(g.value / g.threshold).toFixed(2)}  ±${(g.tolerance * 100).toFixed(0)}%  ${verdict}`);
}
for (const r of withoutGoals) console.log(`  ${`bench/${r.bench}`.padEnd(20)} no goal: ${r.noGoal}`);
const silent = benches.filter((file) => !failures.includes(file) && !records.some((r) => r.bench === file.replace(/\.ts$/, "")));
if (silent.length) console.log(`  benchmarks that stated no goal: ${silent.join(", ")}`);

let exitCode = 0;
if (failures.length) {
  console.error(`\nbenchmarks that failed: ${failures.join(", ")}`);
  exitCode = 1;
}
if (check) {
  const missed = goals.filter((g) => g.failed);
  if (missed.length) console.error(`\n--check: goals missed by more than their noise: ${missed.map((g) => `${g.bench}: ${g.name}`).join("; ")}`);
  if (silent.length) console.error(`\n--check: benchmarks without goals cannot be checked: ${silent.join(", ")}`);
  if (missed.length || silent.length) exitCode = 1;
  else if (!failures.length) console.log("\n--check: every goal met or within its noise");
}
process.exit(exitCode);
