// The SMS loop end to end through the running stack: widget-style lead insert -> database
// -> pg_net wake -> sms-dispatch -> Twilio emulator phones; lead replies come back as
// signed webhooks to twilio-inbound; summaries go through summarize.
// Needs a running stack for LEADLOOP_INSTANCE (npm test starts one; or npm start for dev).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import Twilio from "twilio";
import { after, test } from "node:test";
import {
  closeDb,
  createBusiness,
  db,
  deleteBusiness,
  invokeFunction,
  randomPhone,
  inboundWebhooks,
  received,
  sleep,
  stack,
  submitLead,
  type TestBusiness,
  textFrom,
  twilio,
  waitFor,
  waitForReceived,
} from "./loop-support.ts";

const businesses: TestBusiness[] = [];
async function business(options?: Parameters<typeof createBusiness>[0]) {
  const b = await createBusiness(options);
  businesses.push(b);
  return b;
}

after(async () => {
  for (const b of businesses) await deleteBusiness(b);
  await closeDb();
});

async function conversationOf(businessId: string, leadPhone: string) {
  const { rows } = await db().query(
    `select c.id, c.version, c.status, c.completion_reason, c.slots, c.summary, c.summary_status, c.current_locale
       from public.conversations c where c.business_id = $1 and c.lead_phone = $2`,
    [businessId, leadPhone],
  );
  return rows[0] as
    | { id: string; version: number; status: string; completion_reason: string | null; slots: Record<string, unknown>; summary: Record<string, unknown> | null; summary_status: string; current_locale: string }
    | undefined;
}

/** Submits a lead and waits for the text-back on the lead's phone. */
async function leadWithTextBack(b: TestBusiness, message: string, name = "Dana Whitfield") {
  const phone = randomPhone();
  await submitLead(b, { name, phone, message });
  const [textBack] = await waitForReceived(phone, 1);
  return { phone, textBack };
}

/** Drives a conversation to completion and waits until its summary is due or done. */
async function completedConversation(b: TestBusiness) {
  const { phone } = await leadWithTextBack(b, "Water heater is leaking in the garage");
  await textFrom(phone, b.twilioNumber, "Tomorrow morning please. 4512 Oak Hollow Dr, Austin TX 78745. We have a dog");
  await waitForReceived(phone, 2); // the closing text
  const conversation = await waitFor("the conversation to complete", async () => {
    const c = await conversationOf(b.id, phone);
    return c?.status === "completed" ? c : null;
  });
  return { phone, conversation };
}

const isSummary = (body: string) => /^Lead summary/.test(body);

test("a submitted lead puts the owner alert on the owner's emulated phone", async () => {
  const b = await business();
  const lead = randomPhone();
  await submitLead(b, { name: "Maria Lopez", phone: lead, message: "AC blowing warm air" });
  const [alert] = await waitForReceived(b.ownerPhone, 1);
  assert.equal(alert.from, b.twilioNumber);
  assert.match(alert.body, /Maria Lopez/);
  assert.match(alert.body, /AC blowing warm air/);
  assert.match(alert.body, new RegExp(`tel:\\${lead}`));
  // The emulator's signed status callbacks reach twilio-status and move the message forward.
  await waitFor("the owner alert to be delivered", async () => {
    const { rows } = await db().query(
      "select status, twilio_sid from public.messages where business_id = $1 and kind = 'owner_alert'",
      [b.id],
    );
    return rows[0]?.status === "delivered" && rows[0].twilio_sid === alert.sid;
  });
});

test("a reply gets the next question, and the last answer gets a polite closing", async () => {
  const b = await business();
  const { phone, textBack } = await leadWithTextBack(b, "Water heater is leaking");
  assert.match(textBack.body, /when/i);
  await textFrom(phone, b.twilioNumber, "tomorrow morning");
  const afterReply = await waitForReceived(phone, 2);
  assert.match(afterReply[1].body, /address or ZIP code/);
  await textFrom(phone, b.twilioNumber, "78745");
  const afterAnswer = await waitForReceived(phone, 3);
  assert.match(afterAnswer[2].body, /^Thanks Dana!/);
  const c = await waitFor("completion", async () => {
    const row = await conversationOf(b.id, phone);
    return row?.status === "completed" ? row : null;
  });
  assert.equal(c.completion_reason, "slots_filled");
  assert.equal(c.slots.timing, "tomorrow morning");
  assert.equal(c.slots.location, "78745");
});

test("a Spanish reply is answered in Spanish", async () => {
  const b = await business();
  const { phone } = await leadWithTextBack(b, "Tengo una fuga en el baño", "Rosa Jiménez");
  await textFrom(phone, b.twilioNumber, "Hola, mañana por la tarde si se puede");
  const messages = await waitForReceived(phone, 2);
  assert.match(messages[1].body, /dirección o el código postal/);
  assert.equal((await conversationOf(b.id, phone))?.current_locale, "es");
});

test("STOP gets one confirmation and then silence", async () => {
  const b = await business();
  const { phone } = await leadWithTextBack(b, "Need my gutters cleaned");
  await textFrom(phone, b.twilioNumber, "STOP");
  const [, confirmation] = await waitForReceived(phone, 2);
  assert.match(confirmation.body, /STOP|unsubscribed|opted out|no recibir/i);
  const later = [await textFrom(phone, b.twilioNumber, "STOP"), await textFrom(phone, b.twilioNumber, "hello? tomorrow works")];
  // Both reached twilio-inbound and were accepted, so the silence below is the function's answer.
  for (const sid of later) assert.equal((await inboundWebhooks(sid))[0].httpStatus, 200);
  const stored = await db().query("select count(*)::int as n from public.messages where twilio_sid = any($1) and direction = 'inbound'", [later]);
  assert.equal(stored.rows[0].n, 2, "both later texts are stored");
  // Whatever the database will ever send for them is queued by now: only the text-back and the confirmation.
  const outbound = await db().query("select kind from public.messages where to_phone = $1 and direction = 'outbound' order by created_at", [phone]);
  assert.equal(outbound.rows.length, 2, `outbound to the lead: ${outbound.rows.map((r) => r.kind).join(", ")}`);
  const all = await received(phone);
  assert.equal(all.length, 2, `expected only the text-back and one confirmation, got: ${all.map((m) => m.body).join(" | ")}`);
  const { rows } = await db().query("select count(*)::int as n from public.opt_outs where business_id = $1 and phone = $2", [b.id, phone]);
  assert.equal(rows[0].n, 1);
});

test("a bad or missing signature gets 403 and nothing is stored; the same form signed is stored", async () => {
  const b = await business();
  const url = `${stack.functionsUrl}/twilio-inbound`;
  const formFor = (sid: string) => ({ MessageSid: sid, From: randomPhone(), To: b.twilioNumber, Body: "tomorrow", AccountSid: stack.twilio.accountSid });
  const post = async (form: Record<string, string>, signature: string | null) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...(signature ? { "X-Twilio-Signature": signature } : {}) },
      body: new URLSearchParams(form),
    });
    await res.body?.cancel();
    return res.status;
  };
  const stored = async (sid: string) =>
    (await db().query("select count(*)::int as n from public.messages where twilio_sid = $1", [sid])).rows[0].n;
  const forged = formFor("SM" + randomBytes(16).toString("hex"));
  for (const signature of ["bm90IGEgc2lnbmF0dXJl", Twilio.getExpectedTwilioSignature("not-the-auth-token", url, forged), null]) {
    assert.equal(await post(forged, signature), 403);
  }
  assert.equal(await stored(forged.MessageSid), 0);
  // The control: signed with the account's token, the same kind of form is accepted and stored,
  // so the 403s above are the signature check and the count above could have seen a row.
  const signed = formFor("SM" + randomBytes(16).toString("hex"));
  assert.equal(await post(signed, Twilio.getExpectedTwilioSignature(stack.twilio.authToken, url, signed)), 200);
  assert.equal(await stored(signed.MessageSid), 1);
});

test("a repeated webhook stores one message and answers once", async () => {
  const b = await business();
  const { phone } = await leadWithTextBack(b, "Roof leaking over the kitchen");
  const sid = await textFrom(phone, b.twilioNumber, "this weekend");
  await waitForReceived(phone, 2);
  const turnsBefore = await conversationOf(b.id, phone);
  await twilio.redeliver(sid);
  // The function was reached twice with the same MessageSid, and accepted both.
  const deliveries = await inboundWebhooks(sid, 2);
  assert.equal(deliveries.length, 2);
  for (const delivery of deliveries) {
    assert.equal(delivery.httpStatus, 200);
    assert.equal(delivery.params.MessageSid, sid);
  }
  const { rows } = await db().query("select direction, from_phone from public.messages where twilio_sid = $1", [sid]);
  assert.deepEqual(rows, [{ direction: "inbound", from_phone: phone }], "the reply is stored once");
  // The second delivery was answered synchronously: had it been taken as a new reply, the
  // conversation would have moved and a second question would be queued by now.
  const turnsAfter = await conversationOf(b.id, phone);
  assert.deepEqual(turnsAfter, turnsBefore, "the conversation did not take the reply twice");
  const outbound = await db().query("select count(*)::int as n from public.messages where to_phone = $1 and direction = 'outbound'", [phone]);
  assert.equal(outbound.rows[0].n, 2, "text-back and one question, nothing more queued");
  assert.equal((await received(phone)).length, 2, "the repeated webhook must not produce a second question");
});

test("Twilio 500s are retried until the message is sent", async () => {
  const b = await business();
  const lead = randomPhone();
  // Every send fails with HTTP 500 until this test's message has failed at least once; the
  // rule is global on the emulator, so it is removed right after (others just retry too).
  await twilio.fault({ mode: "http500" });
  try {
    await submitLead(b, { name: "Retry Test", phone: lead, message: "Furnace not turning on" });
    const failedOnce = await waitFor("a 500 recorded on this business's messages", async () => {
      const { rows } = await db().query(
        "select error_code, error_message from public.messages where business_id = $1 and error_code is not null and status = 'queued'",
        [b.id],
      );
      return rows.length > 0 ? rows : null;
    });
    // The emulator answers 500 with Twilio's body (code 20500); a bare 500 would be http_500.
    assert.match(failedOnce[0].error_code, /^(20500|http_500)$/);
  } finally {
    await twilio.clearFaults();
  }
  // Skip the backoff wait (30 s and up) and wake the dispatcher the way the sweep would.
  await waitFor("every message sent", async () => {
    await db().query("update public.messages set next_attempt_at = now() where business_id = $1 and status = 'queued'", [b.id]);
    await invokeFunction("sms-dispatch");
    const { rows } = await db().query(
      "select count(*) filter (where status not in ('sent', 'delivered'))::int as pending, max(attempts)::int as attempts from public.messages where business_id = $1 and direction = 'outbound'",
      [b.id],
    );
    return rows[0].pending === 0 ? rows[0] : null;
  }, 30_000);
  const { rows } = await db().query("select max(attempts)::int as attempts from public.messages where business_id = $1", [b.id]);
  assert.ok(rows[0].attempts >= 2, "at least one message needed a second attempt");
  const [alert] = await waitForReceived(b.ownerPhone, 1);
  assert.match(alert.body, /Retry Test/);
});

test("a permanent error ends failed with its reason visible", async () => {
  const b = await business();
  // A landline: Twilio accepts the text, then the carrier refuses it for good (30006). Twilio's magic
  // +1 500 test numbers cannot stand in here: leadloop never texts non-geographic numbers (SMS pumping).
  const landline = randomPhone();
  await twilio.setPhone({ phone: landline, lineType: "landline" });
  await submitLead(b, { name: "Landline Phone", phone: landline, message: "Need a deep clean" });
  const failed = await waitFor("the text-back to fail", async () => {
    const { rows } = await db().query(
      "select status, error_code, attempts from public.messages where business_id = $1 and kind = 'text_back'",
      [b.id],
    );
    return ["undelivered", "failed"].includes(rows[0]?.status) ? rows[0] : null;
  });
  assert.equal(failed.error_code, "30006");
  assert.equal(failed.attempts, 1, "a permanent error is not retried");
  const { rows } = await waitFor("the lead to show why", async () => {
    const result = await db().query("select phone_status, delivery_problem from public.leads where business_id = $1", [b.id]);
    return result.rows[0]?.phone_status === "landline" ? result : null;
  });
  assert.match(rows[0].delivery_problem, /Landline number: call, don't text/);
  await waitForReceived(b.ownerPhone, 1); // the owner still hears about the lead
});

test("an LLM that is down still yields the built-in summary", async (t) => {
  if (!stack.llmUrl) {
    t.skip("the stack runs without the LLM fake (start it with useLlmFake / npm start -- --llm-fake)");
    return;
  }
  const control = stack.llmUrl.replace(/\/v1\/?$/, "") + "/fake/mode";
  const setMode = (mode: string) => fetch(control, { method: "POST", body: JSON.stringify({ mode }) }).then((r) => r.text());
  await setMode("down");
  try {
    const b = await business();
    const { conversation } = await completedConversation(b);
    await invokeFunction("summarize");
    const done = await waitFor("the summary", async () => {
      const c = await conversationOf(b.id, (await db().query("select lead_phone from public.conversations where id = $1", [conversation.id])).rows[0].lead_phone);
      return c?.summary ? c : null;
    });
    assert.equal(done.summary!.source, "builtin");
    assert.match(String(done.summary!.fallback_reason), /network|timeout|http/);
    assert.equal(done.summary!.location, "4512 Oak Hollow Dr, Austin TX 78745");
    const owner = await waitFor("the owner summary", async () => (await received(b.ownerPhone)).find((m) => isSummary(m.body)));
    assert.match(owner.body, /Need: Water heater is leaking/);
  } finally {
    await setMode("ok");
  }
});

test("the owner gets exactly one summary per conversation, however often summarize runs", async () => {
  const b = await business();
  const { conversation } = await completedConversation(b);
  await Promise.all([invokeFunction("summarize"), invokeFunction("summarize"), invokeFunction("summarize")]);
  await waitFor("the owner summary", async () => (await received(b.ownerPhone)).find((m) => isSummary(m.body)));
  // Make the summary due again as a retried job would, and run it again.
  await db().query("update public.conversations set summary_status = 'due', summary_due_at = now() where id = $1", [conversation.id]);
  await invokeFunction("summarize");
  await invokeFunction("sms-dispatch");
  await sleep(2500);
  const summaries = (await received(b.ownerPhone)).filter((m) => isSummary(m.body));
  assert.equal(summaries.length, 1);
  const { rows } = await db().query(
    "select count(*)::int as n from public.messages where conversation_id = $1 and kind = 'owner_summary'",
    [conversation.id],
  );
  assert.equal(rows[0].n, 1);
  assert.match(summaries[0].body, /tel:\+1\d{10}\nText sms:\+1\d{10}$/);
});

test("overlapping dispatch invocations send every message exactly once", async () => {
  const b = await business();
  const leads = Array.from({ length: 12 }, () => randomPhone());
  // The inserts wake sms-dispatch themselves; three more invocations overlap with those.
  await Promise.all([
    ...leads.map((phone, i) => submitLead(b, { name: `Overlap ${i}`, phone, message: "Need a quote for a new water heater" })),
    invokeFunction("sms-dispatch"),
    invokeFunction("sms-dispatch"),
    invokeFunction("sms-dispatch"),
  ]);
  await Promise.all([invokeFunction("sms-dispatch"), invokeFunction("sms-dispatch")]);
  const alerts = await waitForReceived(b.ownerPhone, leads.length);
  await sleep(2000);
  const final = await received(b.ownerPhone);
  assert.equal(final.length, leads.length, "one owner alert per lead, none twice");
  for (const phone of leads) {
    assert.equal(alerts.filter((m) => m.body.includes(phone)).length, 1, `one alert for ${phone}`);
    assert.equal((await received(phone)).length, 1, `one text-back to ${phone}`);
  }
  const { rows } = await db().query(
    "select count(*)::int as n from public.messages where business_id = $1 and direction = 'outbound' and attempts <> 1",
    [b.id],
  );
  assert.equal(rows[0].n, 0, "no message was claimed twice");
});
