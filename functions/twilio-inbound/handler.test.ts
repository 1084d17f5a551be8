import { assert, assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { createInboundHandler } from "./handler.ts";
import { fakeRpc, makeContext, type RpcScript, signedTwilioRequest, webhookEnv } from "../_shared/testing/fakes.ts";

const now = () => new Date("2026-11-26T15:00:00Z");
const conversationId = "11111111-1111-4111-8111-111111111111";
const fields = {
  MessageSid: "SM" + "1".repeat(32),
  From: "+15125550101",
  To: "+15005550006",
  Body: "tomorrow morning",
  NumMedia: "0",
};

function handlerWith(script: RpcScript) {
  const r = fakeRpc(script);
  return { ...r, handler: createInboundHandler({ rpc: r.rpc, env: webhookEnv, now }) };
}

/** The two steps: the message is stored, then processed into `outcome`. */
const received = (outcome: () => unknown): RpcScript => ({
  receive_inbound_sms: () => ({ stored: true, processed: false }),
  process_inbound_sms: outcome,
});

const replyOutcome = (body = fields.Body) => ({
  outcome: "reply",
  message_id: "44444444-4444-4444-8444-444444444444",
  business_id: "22222222-2222-4222-8222-222222222222",
  conversation_id: conversationId,
  context: {
    ...makeContext(),
    transcript: [...makeContext().transcript, { direction: "inbound", kind: "inbound", body, asks: [], created_at: now().toISOString() }],
  },
});

Deno.test("a reply runs the engine, applies the turn and answers empty TwiML", async () => {
  const t = handlerWith({
    ...received(() => replyOutcome()),
    apply_conversation_turn: () => ({ applied: true, version: 4 }),
  });
  const res = await t.handler(await signedTwilioRequest("twilio-inbound", fields));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/xml");
  assertMatch(await res.text(), /<Response\/>$/);
  // Stored first, then processed: two calls.
  assertEquals(t.callsTo("receive_inbound_sms")[0].args, {
    p_message_sid: fields.MessageSid,
    p_from: fields.From,
    p_to: fields.To,
    p_body: fields.Body,
  });
  assertEquals(t.callsTo("process_inbound_sms")[0].args, { p_message_sid: fields.MessageSid });
  const [apply] = t.callsTo("apply_conversation_turn");
  // The engine says what to ask; the database words it in the conversation's language.
  assertEquals(apply.args, {
    p_conversation_id: conversationId,
    p_expected_version: 3,
    p_slots: { need: "Kitchen sink is clogged", timing: "tomorrow morning", location: null, constraints: [] },
    p_asks: ["location"],
    p_acknowledge: true,
    p_complete: false,
  });
});

Deno.test("a version conflict re-reads the context and retries once", async () => {
  const t = handlerWith({
    ...received(() => replyOutcome()),
    apply_conversation_turn: (_a, i) => ({ applied: i > 0, version: 5 }),
    get_conversation_context: () => ({ ...replyOutcome().context, version: 5 }),
  });
  const res = await t.handler(await signedTwilioRequest("twilio-inbound", fields));
  assertEquals(res.status, 200);
  const applies = t.callsTo("apply_conversation_turn");
  assertEquals(applies.map((c) => c.args.p_expected_version), [3, 5]);
  assertEquals(t.callsTo("get_conversation_context").length, 1);
});

Deno.test("two conflicts in a row give up without a third try, still 200", async () => {
  const t = handlerWith({
    ...received(() => replyOutcome()),
    apply_conversation_turn: () => ({ applied: false, version: 9 }),
    get_conversation_context: () => ({ ...replyOutcome().context, version: 9 }),
  });
  const res = await t.handler(await signedTwilioRequest("twilio-inbound", fields));
  assertEquals(res.status, 200);
  assertEquals(t.callsTo("apply_conversation_turn").length, 2);
});

Deno.test("a conversation closed meanwhile is not touched on retry", async () => {
  const t = handlerWith({
    ...received(() => replyOutcome()),
    apply_conversation_turn: () => ({ applied: false, version: 6 }),
    get_conversation_context: () => ({ ...replyOutcome().context, version: 6, status: "completed" }),
  });
  await t.handler(await signedTwilioRequest("twilio-inbound", fields));
  assertEquals(t.callsTo("apply_conversation_turn").length, 1);
});

Deno.test("an engine/apply failure after the message is stored still answers 200 (a retry would be a duplicate)", async () => {
  const t = handlerWith({
    ...received(() => replyOutcome()),
    apply_conversation_turn: () => {
      throw new Error("db gone");
    },
  });
  const res = await t.handler(await signedTwilioRequest("twilio-inbound", fields));
  assertEquals(res.status, 200);
});

Deno.test("a reply without context in the result reads it with get_conversation_context", async () => {
  const t = handlerWith({
    ...received(() => ({ ...replyOutcome(), context: null })),
    get_conversation_context: () => replyOutcome().context,
    apply_conversation_turn: () => ({ applied: true, version: 4 }),
  });
  await t.handler(await signedTwilioRequest("twilio-inbound", fields));
  assertEquals(t.callsTo("get_conversation_context").length, 1);
  assertEquals(t.callsTo("apply_conversation_turn").length, 1);
});

for (
  const outcome of ["duplicate", "unknown_number", "opted_out", "opted_in", "help", "wrong_number", "not_interested", "ambiguous", "no_conversation"]
) {
  Deno.test(`outcome ${outcome}: no engine turn, empty TwiML`, async () => {
    const t = handlerWith({
      ...received(() => ({ outcome, message_id: null, business_id: null, conversation_id: null })),
    });
    const res = await t.handler(await signedTwilioRequest("twilio-inbound", { ...fields, Body: "STOP", OptOutType: "STOP" }));
    assertEquals(res.status, 200);
    assertMatch(await res.text(), /<Response\/>/);
    assertEquals(t.calls.map((c) => c.name), ["receive_inbound_sms", "process_inbound_sms"]);
  });
}

Deno.test("OptOutType from Twilio Advanced Opt-Out is passed through", async () => {
  const t = handlerWith({
    ...received(() => ({ outcome: "opted_out", message_id: null, business_id: null, conversation_id: null })),
  });
  await t.handler(await signedTwilioRequest("twilio-inbound", { ...fields, Body: "stop", OptOutType: "STOP" }));
  assertEquals(t.callsTo("receive_inbound_sms")[0].args.p_opt_out_type, "STOP");
});

for (
  const [name, opts] of [
    ["missing signature", { signature: null }],
    ["wrong signature", { signature: "bm90LWEtc2lnbmF0dXJl" }],
    ["signature made with another auth token", { token: "someone-elses-token" }],
    ["signature over the internal request URL", { signatureUrl: "http://127.0.0.1:9999/twilio-inbound" }],
    ["signature over another function's URL", { signatureUrl: `${webhookEnv.TWILIO_WEBHOOK_BASE_URL}/twilio-status` }],
  ] as const
) {
  Deno.test(`${name}: 403 and nothing stored`, async () => {
    const t = handlerWith({});
    const res = await t.handler(await signedTwilioRequest("twilio-inbound", fields, opts));
    assertEquals(res.status, 403);
    assertEquals(t.calls.length, 0);
  });
}

Deno.test("the query string is part of the signed URL", async () => {
  const t = handlerWith({
    ...received(() => ({ outcome: "duplicate", message_id: null, business_id: null, conversation_id: null })),
  });
  const ok = await t.handler(await signedTwilioRequest("twilio-inbound", fields, { query: "?source=sms" }));
  assertEquals(ok.status, 200);
  const signedWithoutQuery = await signedTwilioRequest("twilio-inbound", fields, {
    query: "?source=sms",
    signatureUrl: `${webhookEnv.TWILIO_WEBHOOK_BASE_URL}/twilio-inbound`,
  });
  assertEquals((await t.handler(signedWithoutQuery)).status, 403);
});

Deno.test("a tampered body fails the signature", async () => {
  const t = handlerWith({});
  const req = await signedTwilioRequest("twilio-inbound", fields);
  const tampered = new Request(req.url, {
    method: "POST",
    headers: req.headers,
    body: new URLSearchParams({ ...fields, Body: "changed" }),
  });
  assertEquals((await t.handler(tampered)).status, 403);
  assertEquals(t.calls.length, 0);
});

Deno.test("a signed form without MessageSid is a 400 naming the field", async () => {
  const t = handlerWith({});
  const { MessageSid: _drop, ...rest } = fields;
  const res = await t.handler(await signedTwilioRequest("twilio-inbound", rest));
  assertEquals(res.status, 400);
  assertMatch((await res.json()).message, /MessageSid/);
  assertEquals(t.calls.length, 0);
});

Deno.test("non-form bodies are 415 and non-POST is 405", async () => {
  const t = handlerWith({});
  const json = new Request("http://fn/twilio-inbound", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "{}",
  });
  assertEquals((await t.handler(json)).status, 415);
  assertEquals((await t.handler(new Request("http://fn/twilio-inbound"))).status, 405);
});

Deno.test("a database failure while storing answers 5xx so Twilio retries", async () => {
  const t = handlerWith({
    receive_inbound_sms: () => {
      throw new Error("db down");
    },
  });
  const res = await t.handler(await signedTwilioRequest("twilio-inbound", fields));
  assert(res.status >= 500);
  assertEquals(t.calls.map((c) => c.name), ["receive_inbound_sms"], "nothing is processed before it is stored");
});

Deno.test("a failure while processing a stored STOP answers 200: it is kept, and the sweep applies it", async () => {
  const t = handlerWith({
    ...received(() => {
      throw new Error("canceling statement due to lock timeout");
    }),
  });
  const res = await t.handler(await signedTwilioRequest("twilio-inbound", { ...fields, Body: "STOP" }));
  assertEquals(res.status, 200);
  assertMatch(await res.text(), /<Response\/>/);
  assertEquals(t.calls.map((c) => c.name), ["receive_inbound_sms", "process_inbound_sms"]);
});
