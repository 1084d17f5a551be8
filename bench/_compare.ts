// A/B comparison of two ways to do the same work on a shared 2-core machine: batches alternate ABBA over
// several rounds, and each batch is measured in wall time and in CPU time. CPU time comes from the kernel's
// per-thread accounting (/proc/<pid>/task/<tid>/schedstat, nanoseconds on a CPU) of every process on the
// path: the benchmark's own (the client), the gateway's, and the Postgres backends serving either side.
// Wall time at a fixed concurrency is what a user feels, but it moves with whatever else the machine runs;
// CPU per operation is what the work costs and barely moves, so it is the figure goals are set on.
import { readdirSync, readFileSync } from "node:fs";

export interface Side {
  /** One operation; `i` numbers the operations of the whole comparison. */
  op: (i: number) => Promise<void>;
}

export interface BatchFigures {
  ms: number;
  cpuMs: number;
  /** CPU milliseconds per group of processes (client, gateway, postgres, …). */
  cpuByGroup: Record<string, number>;
}

export interface Comparison {
  perRound: number;
  concurrency: number;
  a: BatchFigures[];
  b: BatchFigures[];
}

/** Nanoseconds the process `pid` (all its threads) has spent on a CPU; 0 for a process that is gone. */
export function cpuNanos(pid: number): number {
  let total = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return total;
}

/** Runs `count` operations, `concurrency` at a time; returns the elapsed milliseconds. */
export async function timed(count: number, concurrency: number, op: (i: number) => Promise<void>, first = 0): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await op(first + next++);
    }),
  );
  return performance.now() - started;
}

/**
 * Runs `rounds` rounds of `perRound` operations of each side; even rounds run A first, odd rounds B first.
 * `pids()` names the processes whose CPU counts, by group (asked before every batch, so new backends are included).
 */
export async function compare(
  opts: { rounds: number; perRound: number; concurrency: number; pids: () => Promise<Record<string, number[]>> },
  a: Side,
  b: Side,
): Promise<Comparison> {
  const result: Comparison = { perRound: opts.perRound, concurrency: opts.concurrency, a: [], b: [] };
  let n = 0;
  const batch = async (side: Side): Promise<BatchFigures> => {
    const groups = Object.entries(await opts.pids());
    const snapshot = () => groups.map(([, pids]) => pids.reduce((t, p) => t + cpuNanos(p), 0));
    const cpu0 = snapshot();
    const ms = await timed(opts.perRound, opts.concurrency, side.op, n);
    const cpu1 = snapshot();
    n += opts.perRound;
    const cpuByGroup = Object.fromEntries(groups.map(([name], i) => [name, (cpu1[i] - cpu0[i]) / 1e6]));
    return { ms, cpuMs: Object.values(cpuByGroup).reduce((a, b) => a + b, 0), cpuByGroup };
  };
  for (let round = 0; round < opts.rounds; round++) {
    if (round % 2 === 0) {
      result.a.push(await batch(a));
      result.b.push(await batch(b));
    } else {
      result.b.push(await batch(b));
      result.a.push(await batch(a));
    }
  }
  return result;
}

export const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/** The p-th percentile (nearest rank) of ascending samples. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Prints both sides' rates and CPU per operation; returns the medians of the per-round B/A ratios. */
export function report(label: string, names: [string, string], c: Comparison): { cpuRatio: number; timeRatio: number } {
  const per = (f: BatchFigures[]) => {
    const rate = (c.perRound * 1000) / median(f.map((x) => x.ms));
    const cpu = median(f.map((x) => x.cpuMs / c.perRound));
    const groups = Object.keys(f[0].cpuByGroup)
      .map((g) => `${g} ${median(f.map((x) => x.cpuByGroup[g] / c.perRound)).toFixed(2)}`)
      .join(", ");
    return `${rate.toFixed(0)}/s, ${cpu.toFixed(2)} ms CPU each (${groups})`;
  };
  const cpuRatios = c.a.map((a, i) => c.b[i].cpuMs / a.cpuMs);
  const timeRatios = c.a.map((a, i) => c.b[i].ms / a.ms);
  const cpuRatio = median(cpuRatios);
  const timeRatio = median(timeRatios);
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
  console.log(`${label}: ${c.a.length} rounds of ${c.perRound} per side at concurrency ${c.concurrency}`);
  console.log(`  ${names[0].padEnd(8)} ${per(c.a)}   (medians)`);
  console.log(`  ${names[1].padEnd(8)} ${per(c.b)}`);
  console.log(`  ${names[1]}/${names[0]} per round: CPU ${list(cpuRatios)} (median ${cpuRatio.toFixed(2)}x); time ${list(timeRatios)} (median ${timeRatio.toFixed(2)}x)`);
  return { cpuRatio, timeRatio };
}
