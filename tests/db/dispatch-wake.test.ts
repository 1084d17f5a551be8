// Wakes are coalesced without a queue on their row (private.wake_function, private.answer_wake; shown for
// sms-dispatch and its claim, public.claim_outbound_messages): a transaction that skips its wake because one
// is pending holds the claim back until it commits, and one that commits while a claim answers the wake
// posts a wake of its own.
// Each interleaving is forced by holding one side's transaction open on its own connection.
// Runs against the database of the instance in LEADLOOP_INSTANCE (needs `npx tsx local/db/cli.ts start`).
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { randomPhone } from "../support/fixtures.ts";
import { useSessions } from "../support/sessions.ts";

const sessions = useSessions(3, { name: "Wake Co", origins: ["https://wake.example"] });
const { connections } = sessions;

/** A wake was posted just now and no claim has answered it yet. */
async function wakePending(client: pg.Client): Promise<void> {
  await client.query("update private.function_wakes set wake_pending = true, last_wake_at = now() where function_name = 'sms-dispatch'");
}

/** Whether the backend `pid` is waiting on a lock within a second (it is blocked by another transaction). */
async function waitsOnLock(client: pg.Client, pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const { rows } = await client.query<{ waiting: boolean }>(
      "select coalesce(bool_or(wait_event_type = 'Lock'), false) as waiting from pg_stat_activity where pid = $1",
      [pid],
    );
    if (rows[0].waiting) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

test("a transaction that skips its wake holds the claim back until it commits, so the claim sends its owner alert", async () => {
  const [admin, lead, claim] = connections;
  await wakePending(admin);
  const phone = randomPhone();
  await lead.query("begin");
  await lead.query(
    "insert into public.leads (widget_id, name, phone, message, sms_consent) values ($1, 'Wake lead', $2, 'Leaking pipe under the sink', true)",
    [sessions.business.widgetId, phone],
  );
  const { rows: [skipped] } = await lead.query<{ posted: boolean }>("select private.wake_function('sms-dispatch') as posted");
  assert.equal(skipped.posted, false, "the pending wake covers this transaction");

  const { rows: [{ pid }] } = await claim.query<{ pid: number }>("select pg_backend_pid() as pid");
  const claimed = claim.query<{ to_phone: string; kind: string }>("select to_phone, kind from public.claim_outbound_messages(500, 60)");
  assert.ok(await waitsOnLock(admin, pid), "the claim answering the wake waits for the transaction that skipped its own");
  await lead.query("commit");
  const { rows } = await claimed;
  const { rows: [business] } = await admin.query<{ owner_phone: string }>("select owner_phone from public.businesses where id = $1", [sessions.business.id]);
  assert.ok(rows.some((r) => r.kind === "owner_alert" && r.to_phone === business.owner_phone), "the claim saw the owner alert committed while it waited");
  const { rows: [state] } = await admin.query<{ wake_pending: boolean }>("select wake_pending from private.function_wakes where function_name = 'sms-dispatch'");
  assert.equal(state.wake_pending, false, "the claim answered the wake");
});

test("a transaction that commits while a claim answers the wake posts a wake of its own, without waiting for the claim", async () => {
  const [admin, answering, other] = connections;
  await wakePending(admin);
  // A claim's first step, its transaction still open.
  await answering.query("begin");
  await answering.query("select private.answer_wake('sms-dispatch')");
  try {
    await other.query("begin");
    await other.query("set local lock_timeout = '2s'");
    const { rows: [result] } = await other.query<{ posted: boolean }>("select private.wake_function('sms-dispatch') as posted");
    assert.equal(result.posted, true, "the claim may not see this transaction's texts: it wakes sms-dispatch itself");
    await other.query("commit");
  } finally {
    await answering.query("rollback");
  }
});

// Both find no wake pending. The second waits on the first's wake row; once the first commits, the claim its
// wake starts cannot answer that wake before the second commits too (the second holds the wake lock shared),
// so the interleaving holds even while the stack's own sms-dispatch runs.
test("two transactions that find no wake pending post one wake between them: the second waits for the first's and skips", async () => {
  const [admin, first, second] = connections;
  await admin.query("update private.function_wakes set wake_pending = false where function_name = 'sms-dispatch'");
  await first.query("begin");
  const { rows: [a] } = await first.query<{ posted: boolean }>("select private.wake_function('sms-dispatch') as posted");
  assert.equal(a.posted, true);
  await second.query("begin");
  const { rows: [{ pid }] } = await second.query<{ pid: number }>("select pg_backend_pid() as pid");
  const secondWake = second.query<{ posted: boolean }>("select private.wake_function('sms-dispatch') as posted");
  assert.ok(await waitsOnLock(admin, pid), "the second waits for the first's wake row");
  await first.query("commit");
  const { rows: [b] } = await secondWake;
  assert.equal(b.posted, false, "coalesced into the first one's wake");
  await second.query("commit");
});
