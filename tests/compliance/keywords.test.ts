// Issue 15 item 1 on the emulator: what a lead's text means, end to end (phone -> signed webhook ->
// twilio-inbound -> the database's keyword rules -> the outbox -> the phone). "Yes" answers a nudge,
// the opt-out wordings opt out with one confirmation, "wrong number" stops texts for good, an
// ambiguous text gets one question, and Spanish is understood and answered in Spanish.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  closeDb,
  createBusiness,
  db,
  deleteBusiness,
  inboundWebhooks,
  randomPhone,
  received,
  sleep,
  submitLead,
  type TestBusiness,
  textFrom,
  waitFor,
  waitForReceived,
  zoneWhereItIs,
} from "../loop/loop-support.ts";

const businesses: TestBusiness[] = [];
async function business() {
  const b = await createBusiness();
  businesses.push(b);
  return b;
}
after(async () => {
  for (const b of businesses) await deleteBusiness(b);
  await closeDb();
});

/** A lead that got its text-back. */
async function textedLead(b: TestBusiness, message = "Need my water heater looked at") {
  const phone = randomPhone();
  await submitLead(b, { name: "Sam Rivera", phone, message });
  await waitForReceived(phone, 1);
  // ...and sms-dispatch has recorded it (the conversation awaits the reply).
  await waitFor("the text-back recorded as sent", async () => {
    const { rows } = await db().query("select status from public.conversations where business_id = $1 and lead_phone = $2", [b.id, phone]);
    return rows[0]?.status === "awaiting_reply";
  });
  return phone;
}

/** The lead texts the business and the webhook is answered 200; returns the inbound row as processed. */
async function leadTexts(b: TestBusiness, phone: string, body: string) {
  const sid = await textFrom(phone, b.twilioNumber, body);
  assert.equal((await inboundWebhooks(sid))[0].httpStatus, 200);
  return waitFor(`inbound ${sid} processed`, async () => {
    const { rows } = await db().query(
      "select outcome, matched_rule from private.inbound_sms where message_sid = $1 and processed_at is not null",
      [sid],
    );
    return rows[0] as { outcome: string; matched_rule: string | null } | undefined;
  });
}

async function optOut(b: TestBusiness, phone: string) {
  const { rows } = await db().query("select source, matched_rule from public.opt_outs where business_id = $1 and phone = $2", [b.id, phone]);
  return rows[0] as { source: string; matched_rule: string } | undefined;
}

test('"Yes" to a nudge is an answer: the conversation moves on and the waiting nudge is canceled', async () => {
  const b = await business();
  const phone = await textedLead(b);
  // The lead has gone quiet and it is night where they are now: the sweep's nudge waits for the morning.
  await db().query(`update public.leads set timezones = array[$3], timezone_source = 'device' where business_id = $1 and phone = $2`, [
    b.id,
    phone,
    await zoneWhereItIs("02:00"),
  ]);
  await db().query("update public.conversations set next_action_at = now() - interval '1 second' where business_id = $1 and lead_phone = $2", [b.id, phone]);
  await db().query("select private.lifecycle_sweep()");
  const nudge = await waitFor("the deferred nudge", async () => {
    const { rows } = await db().query("select id, status, status_reason from public.messages where business_id = $1 and to_phone = $2 and kind = 'nudge'", [b.id, phone]);
    return rows[0];
  });
  assert.equal(`${nudge.status} ${nudge.status_reason}`, "deferred quiet_hours");

  const processed = await leadTexts(b, phone, "Yes");
  assert.equal(processed.outcome, "reply");
  assert.equal(processed.matched_rule, "keyword:YES (not opted out: a reply)");
  const { rows: [after] } = await db().query("select status, status_reason from public.messages where id = $1", [nudge.id]);
  assert.equal(`${after.status} ${after.status_reason}`, "canceled lead_replied", "the nudge no longer goes out");
  const conversation = await waitFor("the engine's turn", async () => {
    const { rows } = await db().query("select status, turn_count, question_count from public.conversations where business_id = $1 and lead_phone = $2", [b.id, phone]);
    return rows[0]?.question_count >= 1 ? rows[0] : null;
  });
  assert.equal(conversation.status, "active");
  assert.equal(conversation.turn_count, 1);
  const { rows: acks } = await db().query("select count(*)::int as n from public.messages where to_phone = $1 and kind = 'opt_in_ack'", [phone]);
  assert.equal(acks[0].n, 0, "no START confirmation for a number that never opted out");
});

for (const [body, rule] of [
  ["stop it", "phrase:stop it"],
  ["I said stop", "phrase:i said stop"],
  ["quit texting me", "phrase:stop texting me"],
  ["remove my number", "phrase:remove my number"],
  ["end texts", "phrase:end texts"],
] as const) {
  test(`"${body}" opts out (${rule}), with one confirmation and then silence`, async () => {
    const b = await business();
    const phone = await textedLead(b);
    const processed = await leadTexts(b, phone, body);
    assert.equal(processed.outcome, "opted_out");
    assert.deepEqual(await optOut(b, phone), { source: "keyword", matched_rule: rule });
    const [, confirmation] = await waitForReceived(phone, 2);
    assert.match(confirmation.body, /unsubscribed/);
    await leadTexts(b, phone, "hello? are you coming");
    await sleep(1500);
    assert.equal((await received(phone)).length, 2, "nothing after the confirmation");
  });
}

test('"wrong number" puts the number on the do-not-text list: the promise is kept, even for a new form', async () => {
  const b = await business();
  const phone = await textedLead(b);
  const processed = await leadTexts(b, phone, "Sorry, wrong number");
  assert.equal(processed.outcome, "wrong_number");
  assert.deepEqual(await optOut(b, phone), { source: "reply", matched_rule: "phrase:wrong number" });
  const [, confirmation] = await waitForReceived(phone, 2);
  assert.match(confirmation.body, /We won't text this number again/);
  const { rows: [c] } = await db().query("select status, completion_reason, summary_status from public.conversations where business_id = $1 and lead_phone = $2", [b.id, phone]);
  assert.deepEqual(c, { status: "completed", completion_reason: "wrong_number", summary_status: c.summary_status });
  // Someone submits the form with that number again later: the owner hears of it, the number is not texted.
  await db().query("update public.businesses set duplicate_window_minutes = 0 where id = $1", [b.id]);
  await submitLead(b, { name: "Sam Rivera", phone, message: "Need my water heater looked at" });
  const { rows: [lead] } = await db().query("select not_texted_reason from public.leads where business_id = $1 and phone = $2 order by created_at desc limit 1", [b.id, phone]);
  assert.equal(lead.not_texted_reason, "opted_out");
  await sleep(1500);
  assert.equal((await received(phone)).length, 2);
});

test("an ambiguous text gets one question asking for STOP; the next ambiguous one gets none", async () => {
  const b = await business();
  const phone = await textedLead(b);
  assert.equal((await leadTexts(b, phone, "who is this?")).outcome, "ambiguous");
  const [, question] = await waitForReceived(phone, 2);
  assert.match(question.body, new RegExp(`Reply STOP to stop texts from ${b.name}`));
  assert.equal((await leadTexts(b, phone, "can you stop")).outcome, "ambiguous");
  await sleep(1500);
  assert.equal((await received(phone)).length, 2, "asked once");
  assert.equal(await optOut(b, phone), undefined, "an ambiguous text opts nobody out");
});

test("a Spanish opt-out is understood and confirmed in Spanish", async () => {
  const b = await business();
  const phone = randomPhone();
  await submitLead(b, { name: "Rosa Jiménez", phone, message: "Tengo una fuga en el baño" });
  await waitForReceived(phone, 1);
  const processed = await leadTexts(b, phone, "No me escriban más, por favor");
  assert.equal(processed.outcome, "opted_out");
  assert.equal(processed.matched_rule, "phrase_es:no me escriba");
  const [, confirmation] = await waitForReceived(phone, 2);
  assert.match(confirmation.body, /se ha dado de baja/);
});
