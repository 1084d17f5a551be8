// Issue 15 item 4, product side, on the emulator: a business number's webhooks carry Twilio's retry
// overrides and a fallback (functions/twilio-numbers/webhook-urls.ts), so a STOP that cannot be stored
// at once is retried by Twilio, and twilio-inbound keeps the message before it does anything with it,
// so a STOP that meets a database hiccup in the conversation step is not lost either: the webhook is
// answered, the raw message waits, and the sweep applies it once the hiccup is over.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import pg from "pg";
import { numberWebhooks } from "../../functions/twilio-numbers/webhook-urls.ts";
import {
  closeDb,
  createBusiness,
  db,
  deleteBusiness,
  inboundWebhooks,
  randomPhone,
  received,
  stack,
  submitLead,
  type TestBusiness,
  textFrom,
  twilio,
  waitFor,
  waitForReceived,
} from "../loop/loop-support.ts";

const businesses: TestBusiness[] = [];
after(async () => {
  for (const b of businesses) await deleteBusiness(b);
  await closeDb();
});

/** A business whose number has the webhooks twilio-numbers gives every number: the retry overrides and the fallback. */
async function businessWithProductWebhooks(): Promise<TestBusiness> {
  const b = await createBusiness();
  businesses.push(b);
  const urls = numberWebhooks(stack.functionsUrl);
  await twilio.configureNumber({ phoneNumber: b.twilioNumber, smsUrl: urls.smsUrl, smsFallbackUrl: urls.smsFallbackUrl });
  return b;
}

/** Holds an exclusive lock on the raw inbound table (storing fails after its 2 s lock timeout) until released. */
async function storageOutage() {
  const holder = new pg.Client({ connectionString: stack.dbUrl });
  await holder.connect();
  await holder.query("begin");
  await holder.query("lock table private.inbound_sms in access exclusive mode");
  return {
    async end() {
      await holder.query("rollback");
      await holder.end();
    },
  };
}

async function optedOut(b: TestBusiness, phone: string): Promise<boolean> {
  const { rows } = await db().query("select 1 from public.opt_outs where business_id = $1 and phone = $2", [b.id, phone]);
  return rows.length > 0;
}

test("a STOP that meets a locked conversation is kept, answered 200, and applied by the sweep", async () => {
  const b = await createBusiness();
  businesses.push(b);
  const phone = randomPhone();
  await submitLead(b, { name: "Pat Lee", phone, message: "Fence repair, 20 ft" });
  await waitForReceived(phone, 1);
  await waitFor("the conversation to await the reply", async () => {
    const { rows } = await db().query("select status from public.conversations where business_id = $1 and lead_phone = $2", [b.id, phone]);
    return rows[0]?.status === "awaiting_reply";
  });

  // Another transaction holds the conversation (a long migration, a stuck job): the STOP's opt-out
  // must end the conversation and cannot get it within the handler's lock timeout.
  const holder = new pg.Client({ connectionString: stack.dbUrl });
  await holder.connect();
  let sid: string;
  try {
    await holder.query("begin");
    await holder.query("select 1 from public.conversations where business_id = $1 and lead_phone = $2 for update", [b.id, phone]);
    sid = await textFrom(phone, b.twilioNumber, "STOP");
    const [webhook] = await inboundWebhooks(sid);
    assert.equal(webhook.httpStatus, 200, "stored, so the webhook is answered (a retry would only be a duplicate)");
    const { rows: [raw] } = await db().query("select processed_at, body from private.inbound_sms where message_sid = $1", [sid]);
    assert.deepEqual(raw, { processed_at: null, body: "STOP" }, "the STOP is kept, not yet applied");
    assert.equal(await optedOut(b, phone), false);
  } finally {
    await holder.query("rollback");
    await holder.end();
  }

  // The minute sweep processes what was received and not processed (called here instead of waiting).
  await db().query("select private.process_pending_inbound(now() + interval '1 minute')");
  assert.equal(await optedOut(b, phone), true, "the STOP is applied");
  const { rows: [raw] } = await db().query("select outcome, matched_rule, processed_at is not null as processed from private.inbound_sms where message_sid = $1", [sid]);
  assert.deepEqual(raw, { outcome: "opted_out", matched_rule: "keyword:STOP", processed: true });
  const [, confirmation] = await waitForReceived(phone, 2);
  assert.match(confirmation.body, /unsubscribed/);

  // Twilio retrying the same message later changes nothing.
  await twilio.redeliver(sid);
  await inboundWebhooks(sid, 2);
  const { rows: stored } = await db().query("select count(*)::int as n from public.messages where twilio_sid = $1", [sid]);
  assert.equal(stored[0].n, 1);
  assert.equal((await received(phone)).length, 2);
});

test("a STOP that cannot be stored at first is retried by Twilio (rc=3, rp=5xx) and stored once", async () => {
  const b = await businessWithProductWebhooks();
  const phone = randomPhone();
  const outage = await storageOutage();
  let sid: string;
  try {
    sid = await textFrom(phone, b.twilioNumber, "STOP");
    // The first try waits 2 s for the table, answers 5xx, and Twilio tries again: end the outage then.
    await waitFor("a failed first try", async () => (await twilio.webhooks(sid)).some((w) => w.kind === "inbound" && !w.ok));
  } finally {
    await outage.end();
  }
  const tries = await waitFor("a successful retry", async () => {
    const all = (await twilio.webhooks(sid)).filter((w) => w.kind === "inbound");
    return all.some((w) => w.ok) ? all : null;
  });
  assert.ok(tries.length >= 2, `tries: ${tries.map((w) => w.httpStatus).join(", ")}`);
  assert.ok(tries.filter((w) => !w.ok).every((w) => (w.httpStatus ?? 0) >= 500), "the failures Twilio retried were 5xx");
  assert.equal(await waitFor("the opt-out", () => optedOut(b, phone)), true);
  const { rows } = await db().query("select count(*)::int as n from private.inbound_sms where message_sid = $1", [sid]);
  assert.equal(rows[0].n, 1, "stored once");
});

test("when every retry fails, Twilio's fallback URL (the same handler) stores the STOP", async () => {
  const b = await businessWithProductWebhooks();
  const phone = randomPhone();
  const outage = await storageOutage();
  let sid: string;
  try {
    sid = await textFrom(phone, b.twilioNumber, "STOP");
    // The primary URL and its three retries all fail; end the outage as the fallback request begins.
    await waitFor("the primary's retries to be spent", async () =>
      (await twilio.webhooks(sid)).filter((w) => w.kind === "inbound" && !w.fallback && !w.ok).length >= 4, 30_000);
  } finally {
    await outage.end();
  }
  const fallback = await waitFor("the fallback request", async () =>
    (await twilio.webhooks(sid)).find((w) => w.kind === "inbound" && w.fallback && w.ok), 30_000);
  assert.match(fallback.url ?? "", /\/twilio-inbound\?fallback=1$/);
  assert.equal(await waitFor("the opt-out", () => optedOut(b, phone)), true);
});
