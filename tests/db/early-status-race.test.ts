// A Twilio status callback racing sms-dispatch's mark_message_sent for the same SID, on two
// connections, must never be lost: either the callback finds the recorded SID, or it is kept and
// mark_message_sent applies it. Each race is forced by holding one side's transaction open.
// Runs against the database of the instance in LEADLOOP_INSTANCE (needs `npx tsx local/db/cli.ts start`).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import pg from "pg";
import { randomPhone } from "../support/fixtures.ts";
import { useSessions } from "../support/sessions.ts";

const sessions = useSessions(2, { name: "Race Co", origins: ["https://race.example"] });
const { connections } = sessions;

function randomSid(): string {
  return "SM" + randomUUID().replaceAll("-", "");
}

// A committed lead whose text-back is being sent (as if claimed by sms-dispatch); returns its id.
async function sendingTextBack(client: pg.Client): Promise<string> {
  const phone = randomPhone();
  await client.query(
    `insert into public.leads (widget_id, name, phone, message, sms_consent) values ($1, 'Race lead', $2, 'Leaking pipe', true)`,
    [sessions.business.widgetId, phone],
  );
  const { rows } = await client.query<{ id: string }>(
    `update public.messages set status = 'sending', lease_until = now() + interval '60 seconds', attempts = 1
      where business_id = $1 and to_phone = $2 and kind = 'text_back' returning id`,
    [sessions.business.id, phone],
  );
  assert.equal(rows.length, 1);
  return rows[0].id;
}

// Resolves to true when the promise is still pending after a moment (it waits on a lock).
async function stillWaiting(promise: Promise<unknown>): Promise<boolean> {
  const timeout = new Promise((resolve) => setTimeout(() => resolve("waiting"), 300));
  return (await Promise.race([promise.then(() => "done"), timeout])) === "waiting";
}

test("a callback arriving while mark_message_sent is uncommitted waits for it and finds the message", async () => {
  const [dispatch, status] = connections;
  const messageId = await sendingTextBack(dispatch);
  const sid = randomSid();

  await dispatch.query("begin");
  await dispatch.query("select public.mark_message_sent($1, $2)", [messageId, sid]);
  const callback = status.query<{ result: { found: boolean; status: string | null } }>(
    "select public.record_message_status($1, 'delivered') as result",
    [sid],
  );
  assert.equal(await stillWaiting(callback), true, "the callback waits for the SID being recorded");
  await dispatch.query("commit");

  assert.deepEqual((await callback).rows[0].result, { found: true, status: "delivered" });
  const { rows } = await dispatch.query("select status from public.messages where id = $1", [messageId]);
  assert.equal(rows[0].status, "delivered");
});

test("mark_message_sent arriving while an early callback is uncommitted waits for it and applies it", async () => {
  const [dispatch, status] = connections;
  const messageId = await sendingTextBack(dispatch);
  const sid = randomSid();

  await status.query("begin");
  const early = await status.query("select public.record_message_status($1, 'delivered') as result", [sid]);
  assert.deepEqual(early.rows[0].result, { found: false, status: null, deferred: true });
  const marked = dispatch.query<{ sent: boolean }>("select public.mark_message_sent($1, $2) as sent", [messageId, sid]);
  assert.equal(await stillWaiting(marked), true, "mark_message_sent waits for the early callback");
  await status.query("commit");

  assert.equal((await marked).rows[0].sent, true);
  const { rows } = await dispatch.query("select status from public.messages where id = $1", [messageId]);
  assert.equal(rows[0].status, "delivered");
  const left = await dispatch.query("select count(*)::int as n from private.early_message_statuses where twilio_sid = $1", [sid]);
  assert.equal(left.rows[0].n, 0, "the early status is applied and removed");
});
