// Measures the built-in extractor on the dev set in tests/fixtures/conversations and fails
// when a slot drops below its floor. Floors are set a little under the measured result so
// a regression fails while the numbers stay honest (see the report printed by the test).
import assert from "node:assert";
import { summarize } from "../_shared/summarizer.ts";
import { fold } from "../_shared/language.ts";

const dir = new URL("../../tests/fixtures/conversations/", import.meta.url);

interface Fixture {
  id: string;
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
const has = (haystack: string[], t: string) => haystack.some((h) => h.startsWith(t.slice(0, 4)) || t.startsWith(h.slice(0, 4)) && h.length >= 3);

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

const floors = { need: 0.8, timing: 0.75, timing_start: 0.7, location: 0.85 };

Deno.test("built-in extractor accuracy on the conversation dev set", async () => {
  const fixtures: Fixture[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".json")) fixtures.push(JSON.parse(await Deno.readTextFile(new URL(entry.name, dir))));
  }
  fixtures.sort((a, b) => a.id.localeCompare(b.id));
  assert(fixtures.length >= 40, `dev set has ${fixtures.length} conversations, expected at least 40`);
  const hits = { need: 0, timing: 0, timing_start: 0, location: 0 };
  const misses: string[] = [];
  for (const f of fixtures) {
    const { summary } = await summarize({ lead: f.lead, messages: f.messages, locale: f.locale, timezone: f.timezone, now: f.now });
    const checks = {
      need: textMatches(f.expected.need, summary.need, 0.6),
      timing: textMatches(f.expected.timing, summary.timing, 0.6),
      timing_start: instantMatches(f.expected.timing_start, summary.timing_start),
      location: textMatches(f.expected.location, summary.location, 1),
    };
    for (const [slot, ok] of Object.entries(checks) as [keyof typeof hits, boolean][]) {
      if (ok) hits[slot]++;
      else {
        const expected = f.expected[slot];
        const actual = summary[slot];
        misses.push(`${f.id} ${slot}: expected ${JSON.stringify(expected)} got ${JSON.stringify(actual)}`);
      }
    }
  }
  const n = fixtures.length;
  const report = Object.entries(hits).map(([slot, h]) => `${slot} ${h}/${n} = ${(100 * h / n).toFixed(1)}%`);
  console.log(`\nextractor accuracy on ${n} conversations:\n  ${report.join("\n  ")}`);
  if (misses.length) console.log(`misses:\n  ${misses.join("\n  ")}`);
  for (const [slot, floor] of Object.entries(floors) as [keyof typeof hits, number][]) {
    assert(hits[slot] / n >= floor, `${slot} accuracy ${(hits[slot] / n).toFixed(3)} is below the floor ${floor}`);
  }
});
