import { assert, assertEquals } from "./testing/assert.ts";
import { conversationContextSchema, type TranscriptEntry } from "./contracts.ts";
import { decideTurn } from "./conversation-engine.ts";
import { makeContext } from "./testing/fakes.ts";

const now = new Date("2026-11-26T15:00:00Z"); // Thursday 9:00 in Chicago

function withReply(ctx: ReturnType<typeof makeContext>, body: string) {
  return {
    ...ctx,
    transcript: [...ctx.transcript, { direction: "inbound", kind: "inbound", body, asks: [], created_at: now.toISOString() }],
  };
}

const question = (asks: TranscriptEntry["asks"], body = "(worded by the database)"): TranscriptEntry => ({
  direction: "outbound",
  kind: "question",
  body,
  asks,
  created_at: null,
});
const reply = (body: string): TranscriptEntry => ({ direction: "inbound", kind: "inbound", body, asks: [], created_at: null });

Deno.test("a need from the form is never asked; a timing reply leads to the location question", () => {
  const d = decideTurn(withReply(makeContext(), "tomorrow morning please"), "tomorrow morning please", now);
  assertEquals(d.slots.need, "Kitchen sink is clogged");
  assertEquals(d.slots.timing, "tomorrow morning");
  assertEquals(d.complete, false);
  assertEquals(d.ask, "location");
  assertEquals(d.acknowledge, true, "thanks the lead for what they just said");
});

Deno.test("when everything is known the engine completes with slots_filled", () => {
  const d = decideTurn(withReply(makeContext(), "Tomorrow after 3, 4512 Oak Hollow Dr Austin 78745"), "Tomorrow after 3, 4512 Oak Hollow Dr Austin 78745", now);
  assertEquals(d.complete, true);
  assertEquals(d.completionReason, "slots_filled");
  assertEquals(d.ask, null);
  assert(/4512 Oak Hollow Dr/.test(d.slots.location!));
});

Deno.test("a vague form asks for the need first, one slot at a time, without thanks for nothing", () => {
  const d = decideTurn(withReply(makeContext({ lead: { name: "Sam", phone: "+15125550101", message: "" } }), "hi"), "hi", now);
  assertEquals(d.ask, "need");
  assertEquals(d.acknowledge, false);
});

Deno.test("a bare answer to a text that asked one slot fills that slot", () => {
  const ctx = makeContext({
    slots: { need: "sink clogged", timing: "tomorrow", location: null, constraints: [] },
    question_count: 1,
    transcript: [question(["location"]), reply("Round Rock")],
  });
  const d = decideTurn(ctx, "Round Rock", now);
  assertEquals(d.slots.location, "Round Rock");
  assertEquals(d.completionReason, "slots_filled");
});

Deno.test("what was asked comes from asks, never from the wording", () => {
  // The body talks about an address, but the text recorded that it asked when: "Round Rock" is no answer.
  const ctx = makeContext({
    slots: { need: "sink clogged", timing: null, location: null, constraints: [] },
    question_count: 1,
    transcript: [question(["timing"], "What's the address or ZIP code for the job?"), reply("Round Rock")],
  });
  assertEquals(decideTurn(ctx, "Round Rock", now).slots.location, null);
});

Deno.test("a bare answer to the first text, which asked everything at once, fills nothing", () => {
  const ctx = makeContext({
    lead: { name: "Sam", phone: "+15125550101", message: "" },
    transcript: [{ ...question(["need", "timing", "location"]), kind: "text_back" }, reply("Round Rock")],
  });
  const d = decideTurn(ctx, "Round Rock", now);
  assertEquals(d.slots.location, null);
  assertEquals(d.ask, "need");
});

Deno.test("stops at max_questions and closes", () => {
  const d = decideTurn(withReply(makeContext({ question_count: 2, max_questions: 2 }), "ok"), "ok", now);
  assertEquals(d.complete, true);
  assertEquals(d.completionReason, "max_questions");
});

Deno.test("a slot asked once and not answered is not asked again", () => {
  const ctx = makeContext({
    slots: { need: "sink clogged", timing: null, location: null, constraints: [] },
    question_count: 1,
    transcript: [question(["timing"]), reply("not sure")],
  });
  const d = decideTurn(ctx, "not sure", now);
  assertEquals(d.ask, "location");
});

for (
  const [text, reason] of [
    ["just call me", "call_requested"],
    ["Can you call me instead? 512-555-0101", "call_requested"],
    ["llámeme por favor", "call_requested"],
  ] as const
) {
  Deno.test(`understands "${text}" as ${reason}`, () => {
    const d = decideTurn(withReply(makeContext(), text), text, now);
    assertEquals(d.complete, true);
    assertEquals(d.completionReason, reason);
    assertEquals(d.ask, null);
  });
}

// "Wrong number" and "not interested" also put the number on the do-not-text list, so the database
// decides them (private.inbound_keyword_rules) before the engine runs; the engine never ends a
// conversation for them on its own.
for (const text of ["Not interested anymore, we hired someone", "wrong number", "no gracias, ya no lo necesito"]) {
  Deno.test(`leaves "${text}" to the database's keyword rules`, () => {
    const d = decideTurn(withReply(makeContext(), text), text, now);
    assert(!["not_interested", "wrong_number"].includes(String(d.completionReason)), `closed as ${d.completionReason}`);
  });
}

Deno.test("don't call is not a call request", () => {
  const text = "please don't call me, I'm at work. tomorrow works";
  const d = decideTurn(withReply(makeContext(), text), text, now);
  assertEquals(d.completionReason, null);
  assert(d.slots.constraints.some((c) => /don't call/i.test(c)));
});

Deno.test("understands short Spanish replies", () => {
  const d = decideTurn(withReply(makeContext({ locale: "es" }), "sí, mañana"), "sí, mañana", now);
  assertEquals(d.slots.timing?.toLowerCase(), "mañana");
  assertEquals(d.ask, "location");
});

Deno.test("a ZIP alone is a location", () => {
  const d = decideTurn(withReply(makeContext({ locale: "es" }), "78745"), "78745", now);
  assertEquals(d.slots.location, "78745");
});

Deno.test("the new message is used even when the context does not contain it yet", () => {
  const d = decideTurn(makeContext(), "next Tuesday after 3", now);
  assertEquals(d.slots.timing, "next Tuesday after 3");
});

Deno.test("context schema accepts the database shape with json nulls", () => {
  const parsed = conversationContextSchema.parse({
    conversation_id: "11111111-1111-4111-8111-111111111111",
    version: 1,
    status: "awaiting_reply",
    turn_count: 0,
    question_count: 0,
    max_questions: 3,
    locale: "es",
    slots: { need: null, timing: null, location: null, constraints: [] },
    lead: { name: "Ana", phone: "+15125550101", email: null, message: null, source_url: null, created_at: "2026-11-26T14:59:00Z" },
    business: { name: "B", timezone: "America/Chicago", default_locale: "en" },
    transcript: [{ direction: "outbound", kind: "text_back", body: "Hola", asks: ["need", "timing"], created_at: "2026-11-26T15:00:00Z" }],
  });
  assertEquals(parsed.slots.constraints, []);
  assertEquals(parsed.transcript[0].asks, ["need", "timing"]);
});

Deno.test("context schema refuses what the database never sends", () => {
  const base = makeContext();
  assert(!conversationContextSchema.safeParse({ ...base, locale: "fr" }).success, "an unknown locale");
  assert(!conversationContextSchema.safeParse({ ...base, transcript: [{ ...base.transcript[0], asks: ["weather"] }] }).success, "an unknown ask");
});
