import { assert, assertEquals, assertMatch } from "./testing/assert.ts";
import { conversationContextSchema, decideTurn } from "./conversation-engine.ts";
import { makeContext } from "./testing/fakes.ts";

const now = new Date("2026-11-26T15:00:00Z"); // Thursday 9:00 in Chicago

function withReply(ctx: ReturnType<typeof makeContext>, body: string) {
  return {
    ...ctx,
    transcript: [...ctx.transcript, { direction: "inbound", kind: "inbound", body, created_at: now.toISOString() }],
  };
}

Deno.test("a need from the form is never asked; a timing reply leads to the location question", () => {
  const ctx = withReply(makeContext(), "tomorrow morning please");
  const d = decideTurn(ctx, "tomorrow morning please", now);
  assertEquals(d.slots.need, "Kitchen sink is clogged");
  assertEquals(d.slots.timing, "tomorrow morning");
  assertEquals(d.complete, false);
  assertEquals(d.outbound?.kind, "question");
  assertMatch(d.outbound!.body, /address or ZIP/);
  assertMatch(d.outbound!.body, /^Thanks!/, "acknowledges what the lead just said");
});

Deno.test("when everything is known the engine closes politely and completes with slots_filled", () => {
  const ctx = withReply(makeContext(), "Tomorrow after 3, 4512 Oak Hollow Dr Austin 78745");
  const d = decideTurn(ctx, "Tomorrow after 3, 4512 Oak Hollow Dr Austin 78745", now);
  assertEquals(d.complete, true);
  assertEquals(d.completionReason, "slots_filled");
  assertEquals(d.outbound?.kind, "closing");
  assertMatch(d.outbound!.body, /Thanks Dana! Lone Star Plumbing/);
  assertMatch(d.slots.location!, /4512 Oak Hollow Dr/);
});

Deno.test("a vague form asks for the need first, one question at a time", () => {
  const ctx = withReply(makeContext({ lead: { name: "Sam", phone: "+15125550101", message: "" } }), "hi");
  const d = decideTurn(ctx, "hi", now);
  assertEquals(d.outbound?.kind, "question");
  assertMatch(d.outbound!.body, /What can we help you with\?$/);
  assertEquals(d.outbound!.body.split("?").length - 1, 1, "exactly one question");
});

Deno.test("a bare answer to a single-slot question fills that slot", () => {
  const ctx = makeContext({
    slots: { need: "sink clogged", timing: "tomorrow", location: null, constraints: [] },
    question_count: 1,
    transcript: [
      { direction: "outbound", kind: "question", body: "Thanks! What's the address or ZIP code for the job?", created_at: null },
      { direction: "inbound", kind: "inbound", body: "Round Rock", created_at: null },
    ],
  });
  const d = decideTurn(ctx, "Round Rock", now);
  assertEquals(d.slots.location, "Round Rock");
  assertEquals(d.completionReason, "slots_filled");
});

Deno.test("stops at max_questions and closes", () => {
  const ctx = withReply(makeContext({ question_count: 2, max_questions: 2 }), "ok");
  const d = decideTurn(ctx, "ok", now);
  assertEquals(d.complete, true);
  assertEquals(d.completionReason, "max_questions");
  assertEquals(d.outbound?.kind, "closing");
});

Deno.test("a slot asked once and not answered is not asked again", () => {
  const ctx = makeContext({
    slots: { need: "sink clogged", timing: null, location: null, constraints: [] },
    question_count: 1,
    transcript: [
      { direction: "outbound", kind: "question", body: "Got it. When would you like this done?", created_at: null },
      { direction: "inbound", kind: "inbound", body: "not sure", created_at: null },
    ],
  });
  const d = decideTurn(ctx, "not sure", now);
  assertEquals(d.outbound?.kind, "question");
  assertMatch(d.outbound!.body, /address or ZIP/);
});

for (
  const [text, reason, pattern] of [
    ["just call me", "call_requested", /will call you/],
    ["Can you call me instead? 512-555-0101", "call_requested", /will call you/],
    ["Not interested anymore, we hired someone", "not_interested", /won't text you/],
    ["wrong number", "wrong_number", /won't text this number/],
    ["Número equivocado", "wrong_number", /No volveremos/],
    ["no gracias, ya no lo necesito", "not_interested", /No le enviaremos/],
    ["llámeme por favor", "call_requested", /le llamará/],
  ] as const
) {
  Deno.test(`understands "${text}" as ${reason}`, () => {
    const d = decideTurn(withReply(makeContext(), text), text, now);
    assertEquals(d.complete, true);
    assertEquals(d.completionReason, reason);
    assertEquals(d.outbound?.kind, "closing");
    assertMatch(d.outbound!.body, pattern);
  });
}

Deno.test("don't call is not a call request", () => {
  const d = decideTurn(
    withReply(makeContext(), "please don't call me, I'm at work. tomorrow works"),
    "please don't call me, I'm at work. tomorrow works",
    now,
  );
  assertEquals(d.completionReason, null);
  assert(d.slots.constraints.some((c) => /don't call/i.test(c)));
});

Deno.test("answers in Spanish when the lead writes Spanish, even briefly", () => {
  const long = "Hola, necesito que vengan mañana por la tarde por favor";
  const d1 = decideTurn(withReply(makeContext(), long), long, now);
  assertEquals(d1.locale, "es");
  assertMatch(d1.outbound!.body, /dirección o el código postal/);
  const d2 = decideTurn(withReply(makeContext(), "sí, mañana"), "sí, mañana", now);
  assertEquals(d2.locale, "es");
  assertEquals(d2.slots.timing?.toLowerCase(), "mañana");
});

Deno.test("a reply without language signal keeps the conversation's locale", () => {
  const ctx = withReply(makeContext({ locale: "es" }), "78745");
  const d = decideTurn(ctx, "78745", now);
  assertEquals(d.locale, "es");
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
    locale: null,
    slots: { need: null, timing: null, location: null, constraints: [] },
    lead: { name: null, phone: "+15125550101", email: null, message: null, source_url: null },
    business: { name: "B", timezone: "America/Chicago", default_locale: "en" },
    transcript: [{ direction: "outbound", kind: "text_back", body: "Hi", created_at: "2026-11-26T15:00:00Z" }],
  });
  assertEquals(parsed.slots.constraints, []);
});
