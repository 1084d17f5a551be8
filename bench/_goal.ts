// One line per goal of issue 13, the same shape for every benchmark, so a reader (or `npm run bench --
// --check`) can find them: `goal <name>: <value> <unit> / threshold <t> <unit> = <ratio>x (ok|MISSED)`.
// A ratio at or below 1 meets the goal; "lower is better" for every goal printed this way.

export interface GoalResult {
  name: string;
  value: number;
  threshold: number;
  unit: string;
  ratio: number;
  met: boolean;
}

export function printGoal(name: string, value: number, threshold: number, unit: string): GoalResult {
  const ratio = value / threshold;
  const met = ratio <= 1;
  console.log(`goal ${name}: ${value.toFixed(1)} ${unit} / threshold ${threshold} ${unit} = ${ratio.toFixed(2)}x (${met ? "ok" : "MISSED"})`);
  return { name, value, threshold, unit, ratio, met };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}
