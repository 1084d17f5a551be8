// How the accuracy test decides that an extracted slot is right. A slot is right when it
// holds that slot's facts (recall), does not hold another slot's facts (no ZIP in the need,
// no need in the timing) and stays short enough to be a slot rather than the conversation.
// Kept apart from the extractor on purpose: the measuring stick must not move when the
// thing it measures changes, so it has its own word normalisation.

export type TextSlot = "need" | "timing" | "location";
export type Slot = TextSlot | "timing_start";
export const textSlots: readonly TextSlot[] = ["need", "timing", "location"];
export const slots: readonly Slot[] = ["need", "timing", "timing_start", "location"];

export type SlotValues = Record<Slot, string | null>;

// Words that carry no fact in either language; they neither count as a hit nor as a stray fact.
const stop = new Set(
  ("a an the and or of for my our to in on at is it its be am are i im we me you your this that with from by as " +
    "if can will would so no not de la el los las un una y o para mi mis en con del al por se es lo si que").split(" "),
);

export function words(text: string): string[] {
  const folded = text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  return (folded.match(/[a-z0-9]+/g) ?? []).filter((t) => !stop.has(t));
}

/**
 * The same word, allowing for inflection: equal, or sharing a prefix of at least four letters
 * that leaves at most two letters of the shorter word unmatched (leak/leaking, clean/cleaned,
 * serviced/service). Numbers and short words must be equal, so "7" does not match "78617".
 */
export function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const shorter = Math.min(a.length, b.length);
  if (shorter < 4 || /^\d+$/.test(a) || /^\d+$/.test(b)) return false;
  let common = 0;
  while (common < shorter && a[common] === b[common]) common++;
  return common >= Math.max(4, shorter - 2);
}

const contains = (haystack: string[], word: string) => haystack.some((h) => sameWord(h, word));

/** Share of the expected words each slot must find, and the most words it may add beyond them. */
export const rules: Record<TextSlot, { recall: number; extraWords: number }> = {
  // A need may carry its details ("sink clogged and backing up into the other side").
  need: { recall: 0.6, extraWords: 8 },
  // "Any weekday next week after 10am" for "next week after 10am".
  timing: { recall: 0.6, extraWords: 4 },
  // A street line may bring its unit, city, state and ZIP.
  location: { recall: 1, extraWords: 6 },
};

export interface Verdict {
  ok: boolean;
  /** Why it is wrong, for the miss list; null when right. */
  why: string | null;
}

const right: Verdict = { ok: true, why: null };
const wrong = (why: string): Verdict => ({ ok: false, why });

/** Scores one text slot of one conversation against all of that conversation's expected values. */
export function scoreTextSlot(slot: TextSlot, expected: SlotValues, actual: string | null): Verdict {
  const want = expected[slot];
  if (want === null || actual === null) {
    return want === actual ? right : wrong(want === null ? "should be empty" : "missing");
  }
  const wanted = words(want);
  const got = words(actual);
  const found = wanted.filter((w) => contains(got, w)).length;
  if (found / wanted.length < rules[slot].recall) return wrong(`found ${found} of ${wanted.length} expected words`);
  // Another slot's facts, unless the same word is also one of this slot's (a need that names a time).
  const others = textSlots
    .filter((s) => s !== slot && expected[s] !== null)
    .flatMap((s) => words(expected[s]!))
    .filter((w) => !contains(wanted, w));
  const stray = got.filter((w) => contains(others, w));
  if (stray.length > 0) return wrong(`holds another slot's words: ${[...new Set(stray)].join(", ")}`);
  const extra = got.length - wanted.length;
  if (extra > rules[slot].extraWords) return wrong(`${extra} words beyond the expected ${wanted.length}`);
  return right;
}

export function scoreInstant(expected: string | null, actual: string | null): Verdict {
  if (expected === null || actual === null) {
    return expected === actual ? right : wrong(expected === null ? "should be empty" : "missing");
  }
  return new Date(expected).getTime() === new Date(actual).getTime() ? right : wrong("another instant");
}

export function scoreSlot(slot: Slot, expected: SlotValues, actual: SlotValues): Verdict {
  return slot === "timing_start" ? scoreInstant(expected.timing_start, actual.timing_start) : scoreTextSlot(slot, expected, actual[slot]);
}
