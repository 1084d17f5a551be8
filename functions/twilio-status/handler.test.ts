import { assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { createStatusHandler } from "./handler.ts";
import { fakeRpc, type RpcScript, signedTwilioRequest, webhookEnv } from "../_shared/testing/fakes.ts";

const sid = "SM" + "2".repeat(32);
function handlerWith(script: RpcScript) {
  const r = fakeRpc(script);
  return { ...r, handler: createStatusHandler({ rpc: r.rpc, env: webhookEnv }) };
}

Deno.test("records the delivery status and answers 204", async () => {
  const t = handlerWith({ record_message_status: () => ({ found: true, status: "delivered" }) });
  const res = await t.handler(
    await signedTwilioRequest("twilio-status", { MessageSid: sid, MessageStatus: "delivered", AccountSid: "AC1" }),
  );
  assertEquals(res.status, 204);
  // No ErrorCode: the argument is left out (the RPC defaults it to null).
  assertEquals(t.callsTo("record_message_status")[0].args, { p_twilio_sid: sid, p_status: "delivered" });
});

Deno.test("an error code (e.g. carrier opt-out 21610) is passed to the database", async () => {
  const t = handlerWith({ record_message_status: () => ({ found: true, status: "failed" }) });
  await t.handler(await signedTwilioRequest("twilio-status", { MessageSid: sid, MessageStatus: "failed", ErrorCode: "21610" }));
  assertEquals(t.callsTo("record_message_status")[0].args.p_error_code, "21610");
});

Deno.test("SmsStatus is accepted when MessageStatus is absent; an unknown sid is still 204", async () => {
  const t = handlerWith({ record_message_status: () => ({ found: false, status: null }) });
  const res = await t.handler(await signedTwilioRequest("twilio-status", { MessageSid: sid, SmsStatus: "sent" }));
  assertEquals(res.status, 204);
  assertEquals(t.callsTo("record_message_status")[0].args.p_status, "sent");
});

Deno.test("bad or missing signature: 403, nothing recorded", async () => {
  const t = handlerWith({});
  for (const opts of [{ signature: null }, { signatureUrl: `${webhookEnv.TWILIO_WEBHOOK_BASE_URL}/twilio-inbound` }]) {
    const res = await t.handler(
      await signedTwilioRequest("twilio-status", { MessageSid: sid, MessageStatus: "delivered" }, opts),
    );
    assertEquals(res.status, 403);
  }
  assertEquals(t.calls.length, 0);
});

Deno.test("a status callback without a status is a 400", async () => {
  const t = handlerWith({});
  const res = await t.handler(await signedTwilioRequest("twilio-status", { MessageSid: sid }));
  assertEquals(res.status, 400);
  assertMatch((await res.json()).message, /MessageStatus/);
});

async function warningsDuring(run: () => Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(" "));
  try {
    await run();
  } finally {
    console.warn = original;
  }
  return warnings;
}

Deno.test("a status for a SID not recorded yet (deferred by the database) is 204 without a warning", async () => {
  const t = handlerWith({ record_message_status: () => ({ found: false, status: null, deferred: true }) });
  let status = 0;
  const warnings = await warningsDuring(async () => {
    const res = await t.handler(await signedTwilioRequest("twilio-status", { MessageSid: sid, MessageStatus: "delivered" }));
    status = res.status;
  });
  assertEquals(status, 204);
  assertEquals(warnings, []);
});

Deno.test("an unknown SID that was not deferred is still warned about", async () => {
  const t = handlerWith({ record_message_status: () => ({ found: false, status: null }) });
  const warnings = await warningsDuring(async () => {
    await t.handler(await signedTwilioRequest("twilio-status", { MessageSid: sid, MessageStatus: "delivered" }));
  });
  assertEquals(warnings.length, 1);
  assertMatch(warnings[0], /no message with sid/);
});
