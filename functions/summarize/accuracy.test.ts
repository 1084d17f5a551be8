// Measures the built-in extractor on the conversations in tests/fixtures/conversations, beside a
// trivial echo baseline (all of the lead's text in every slot) scored the same way in the same
// run. A slot counts only when it holds that slot's facts and not another's, within a length
// bound (see accuracy-scoring.ts). The test fails when the extractor drops below its floors or
// no longer beats the echo by a clear margin on every slot.
import assert from "node:assert";
import { summarize } from "../_shared/summarizer.ts";
import { scoreSlot, scoreTextSlot, type Slot, slots, type SlotValues, words } from "./accuracy-scoring.ts";

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
  expected: SlotValues;
}

type Extractor = (f: Fixture) => Promise<SlotValues>;

const extractors: Record<"extractor" | "echo", Extractor> = {
  extractor: async (f) => {
    const { summary } = await summarize({ lead: f.lead, messages: f.messages, locale: f.locale, timezone: f.timezone, now: f.now });
    return summary;
  },
  // What a recall-only score cannot tell from an extractor: everything the lead wrote, in every
  // slot. It has no instant to offer, so its timing_start is always empty.
  echo: (f) => {
    const text = [f.lead.message, ...f.messages.filter((m) => m.direction === "inbound").map((m) => m.body)]
      .filter((t) => t && t.trim()).join(" ") || null;
    return Promise.resolve({ need: text, timing: text, timing_start: null, location: text });
  },
};

async function loadFixtures(): Promise<Fixture[]> {
  const fixtures: Fixture[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".json")) fixtures.push(JSON.parse(await Deno.readTextFile(new URL(entry.name, dir))));
  }
  return fixtures.sort((a, b) => a.id.localeCompare(b.id));
}

interface Measurement {
  n: number;
  hits: Record<Slot, number>;
  rate: Record<Slot, number>;
  misses: string[];
}

async function measure(fixtures: Fixture[], extract: Extractor): Promise<Measurement> {
  const hits: Record<Slot, number> = { need: 0, timing: 0, timing_start: 0, location: 0 };
  const misses: string[] = [];
  for (const f of fixtures) {
    const actual = await extract(f);
    for (const slot of slots) {
      const verdict = scoreSlot(slot, f.expected, actual);
      if (verdict.ok) hits[slot]++;
      else misses.push(`${f.id} ${slot}: ${verdict.why}; expected ${JSON.stringify(f.expected[slot])} got ${JSON.stringify(actual[slot])}`);
    }
  }
  const rate = Object.fromEntries(slots.map((s) => [s, hits[s] / fixtures.length])) as Record<Slot, number>;
  return { n: fixtures.length, hits, rate, misses };
}

function report(name: string, extractor: Measurement, echo: Measurement) {
  const cell = (m: Measurement, s: Slot) => `${String(m.hits[s]).padStart(2)}/${m.n} ${(100 * m.rate[s]).toFixed(1).padStart(5)}%`;
  const lines = slots.map((s) =>
    `${s.padEnd(12)} ${cell(extractor, s)}   ${cell(echo, s)}   ${(100 * (extractor.rate[s] - echo.rate[s])).toFixed(1).padStart(6)}`
  );
  console.log(`\n${name} (${extractor.n} conversations)\n  ${"".padEnd(12)} extractor       echo baseline   margin\n  ${lines.join("\n  ")}`);
  if (extractor.misses.length) console.log(`  extractor misses:\n    ${extractor.misses.join("\n    ")}`);
}

// Floors sit just under the measured result: the dev set was used to tune the extractor, the
// holdout was written afterwards and never tuned on, so its figures are the honest ones.
// The echo baseline scores under 25% on every slot of both sets; the extractor must stay at
// least this far above it on every slot, or its figures say nothing.
const floors: Record<"dev" | "holdout", Record<Slot, number>> = {
  dev: { need: 0.95, timing: 0.95, timing_start: 0.95, location: 0.95 },
  holdout: { need: 0.85, timing: 0.85, timing_start: 0.85, location: 0.85 },
};
const minMarginOverEcho = 0.5;
// History of the holdout (each measured once, blind, then fixed on and moved to the dev set):
// holdout-* (14), then blind-* (14), now fresh-* (14). Figures quoted before the score counted
// precision are withdrawn: under that score the echo baseline reached need 13/14 and timing and
// location 12/14 on the holdout, so they did not show what the extractor adds.

Deno.test("built-in extractor accuracy on the conversation fixtures, beside the echo baseline", async () => {
  const fixtures = await loadFixtures();
  const sets = {
    dev: fixtures.filter((f) => f.split !== "holdout"),
    holdout: fixtures.filter((f) => f.split === "holdout"),
  };
  assert(sets.dev.length >= 40, `dev set has ${sets.dev.length} conversations, expected at least 40`);
  assert(sets.holdout.length >= 10, `holdout has ${sets.holdout.length} conversations`);
  for (const split of ["dev", "holdout"] as const) {
    const extractor = await measure(sets[split], extractors.extractor);
    const echo = await measure(sets[split], extractors.echo);
    report(split === "dev" ? "dev set (tuned on)" : "holdout (never tuned on)", extractor, echo);
    for (const slot of slots) {
      const got = extractor.rate[slot];
      assert(got >= floors[split][slot], `${split} ${slot} accuracy ${got.toFixed(3)} is below the floor ${floors[split][slot]}`);
      const margin = got - echo.rate[slot];
      assert(margin >= minMarginOverEcho, `${split} ${slot}: extractor ${got.toFixed(3)} beats the echo baseline by only ${margin.toFixed(3)}`);
    }
  }
});

// ---------- the score itself must be able to fail ----------

const expected: SlotValues = {
  need: "water heater leaking",
  timing: "tomorrow morning",
  timing_start: "2026-03-10T14:00:00.000Z",
  location: "4512 Oak Hollow Dr",
};

Deno.test("score: a slot with only its own facts counts, with inflections and details", () => {
  assert(scoreTextSlot("need", expected, "Water heater is leaking in the garage").ok);
  assert(scoreTextSlot("timing", expected, "Tomorrow morning, early if you can").ok);
  assert(scoreTextSlot("location", expected, "4512 Oak Hollow Dr, Austin TX 78745").ok);
  assert(scoreSlot("timing_start", expected, { ...expected, timing_start: "2026-03-10T09:00:00-05:00" }).ok);
});

Deno.test("score: another slot's facts, missing facts, or the whole conversation do not count", () => {
  const echo = "Water heater leaking. Tomorrow morning please, 4512 Oak Hollow Dr";
  for (const slot of ["need", "timing", "location"] as const) {
    const verdict = scoreTextSlot(slot, expected, echo);
    assert(!verdict.ok && /another slot/.test(verdict.why!), `${slot}: ${verdict.why}`);
  }
  assert(!scoreTextSlot("need", expected, "water heater leaking 78745 4512 Oak Hollow").ok, "a ZIP and street in the need");
  assert(!scoreTextSlot("need", expected, "heater").ok, "one of three words is not enough");
  assert(!scoreTextSlot("location", expected, "Oak Hollow").ok, "a location needs every expected word");
  assert(!scoreTextSlot("timing", expected, "tomorrow morning if that works, otherwise any day next week or the one after").ok, "too long");
  assert(!scoreTextSlot("timing", { ...expected, timing: null }, "soon").ok, "an empty slot must stay empty");
  assert(!scoreTextSlot("timing", expected, null).ok, "a missing slot");
  assert(!scoreSlot("timing_start", expected, { ...expected, timing_start: null }).ok);
});

Deno.test("score: numbers and short words match only themselves", () => {
  assert.deepStrictEqual(words("Mañana a las 7, en el 78617"), ["manana", "7", "78617"]);
  assert(!scoreTextSlot("location", { ...expected, location: "7" }, "78617").ok);
  assert(!scoreTextSlot("need", { ...expected, need: "tapado" }, "se tapó").ok, "a 3-letter stem is not a match");
});
