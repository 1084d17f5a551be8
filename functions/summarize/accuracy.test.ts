// Measures the built-in extractor on the dev set in tests/fixtures/conversations and fails
// when a slot drops below its floor. Floors are set a little under the measured result so
// a regression fails while the numbers stay honest (see the report printed by the test).
import assert from "node:assert";
import { summarize } from "../_shared/summarizer.ts";
import { fold } from "../_shared/language.ts";

const dir = new URL("../../tests/fixtures/conversations/", import.meta.url);

interface Fixture {
  id: string;
  /** "holdout" conversations were written after the extractor was tuned on the rest ("dev"). */
  split?: "holdout" | "dev";
  locale: string;
  timezone: string;
  now: string;
  lead: { name: string; phone: string; message: string };
  messages: { direction: string; kind: string; body: string; created_at: string }[];
  expected: { need: string | null; timing: string | null; timing_start: string | null; location: string | null };
}

const stop = new Set("a an the and or of for my to de la el los las un una y o para mi en con del".split(" "));
const tokens = (s: string) => (fold(s).match(/[a-z0-9]+/g) ?? []).filter((t) => !stop.has(t));
// Prefix match so "leaking" matches "leak", "clogged" matches "clog".
const has = (haystack: string[], t: string) =>
  haystack.some((h) => h.startsWith(t.slice(0, 4)) || t.startsWith(h.slice(0, 4)) && h.length >= 3);

/** Free text slots: both absent, or most expected words present in what was extracted. */
function textMatches(expected: string | null, actual: string | null, recall: number): boolean {
  if (expected === null || actual === null) return expected === actual;
  const want = tokens(expected);
  const got = tokens(actual);
  const hit = want.filter((t) => has(got, t)).length;
  return hit / want.length >= recall;
}

function instantMatches(expected: string | null, actual: string | null): boolean {
  if (expected === null || actual === null) return expected === actual;
  return new Date(expected).getTime() === new Date(actual).getTime();
}

type Slot = "need" | "timing" | "timing_start" | "location";
const slots: Slot[] = ["need", "timing", "timing_start", "location"];

async function loadFixtures(): Promise<Fixture[]> {
  const fixtures: Fixture[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".json")) fixtures.push(JSON.parse(await Deno.readTextFile(new URL(entry.name, dir))));
  }
  return fixtures.sort((a, b) => a.id.localeCompare(b.id));
}

async function measure(fixtures: Fixture[]) {
  const hits: Record<Slot, number> = { need: 0, timing: 0, timing_start: 0, location: 0 };
  const misses: string[] = [];
  for (const f of fixtures) {
    const { summary } = await summarize({
      lead: f.lead,
      messages: f.messages,
      locale: f.locale,
      timezone: f.timezone,
      now: f.now,
    });
    const checks: Record<Slot, boolean> = {
      need: textMatches(f.expected.need, summary.need, 0.6),
      timing: textMatches(f.expected.timing, summary.timing, 0.6),
      timing_start: instantMatches(f.expected.timing_start, summary.timing_start),
      location: textMatches(f.expected.location, summary.location, 1),
    };
    for (const slot of slots) {
      if (checks[slot]) hits[slot]++;
      else misses.push(`${f.id} ${slot}: expected ${JSON.stringify(f.expected[slot])} got ${JSON.stringify(summary[slot])}`);
    }
  }
  const rate = Object.fromEntries(slots.map((s) => [s, hits[s] / fixtures.length])) as Record<Slot, number>;
  return { hits, rate, misses, n: fixtures.length };
}

function report(name: string, m: Awaited<ReturnType<typeof measure>>) {
  const lines = slots.map((s) => `${s.padEnd(12)} ${String(m.hits[s]).padStart(2)}/${m.n} = ${(100 * m.rate[s]).toFixed(1)}%`);
  console.log(`\n${name} (${m.n} conversations):\n  ${lines.join("\n  ")}`);
  if (m.misses.length) console.log(`  misses:\n    ${m.misses.join("\n    ")}`);
}

// Floors sit just under the measured result: the dev set was used to tune the extractor,
// the holdout was written afterwards and never tuned on, so its floors are the honest ones.
// History (each holdout measured once, blind, then fixed on and moved to the dev set):
//   holdout-* (14): need 85.7%, timing 92.9%, timing_start 92.9%, location 100%
//   blind-*   (14): need 71.4%, timing 92.9%, timing_start 78.6%, location 92.9%
//   fresh-*   (14): need 100%,  timing 92.9%, timing_start 92.9%, location 92.9%  <- current holdout
const floors: Record<"dev" | "holdout", Record<Slot, number>> = {
  dev: { need: 0.95, timing: 0.95, timing_start: 0.95, location: 0.95 },
  holdout: { need: 0.85, timing: 0.85, timing_start: 0.85, location: 0.85 },
};

Deno.test("built-in extractor accuracy on the conversation fixtures (dev and holdout)", async () => {
  const fixtures = await loadFixtures();
  const dev = fixtures.filter((f) => f.split !== "holdout");
  const holdout = fixtures.filter((f) => f.split === "holdout");
  assert(dev.length >= 40, `dev set has ${dev.length} conversations, expected at least 40`);
  assert(holdout.length >= 10, `holdout has ${holdout.length} conversations`);
  const results = { dev: await measure(dev), holdout: await measure(holdout) };
  report("dev set (tuned on)", results.dev);
  report("holdout (never tuned on)", results.holdout);
  for (const split of ["dev", "holdout"] as const) {
    for (const slot of slots) {
      const got = results[split].rate[slot];
      assert(got >= floors[split][slot], `${split} ${slot} accuracy ${got.toFixed(3)} is below the floor ${floors[split][slot]}`);
    }
  }
});
