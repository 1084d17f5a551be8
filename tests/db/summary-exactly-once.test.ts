// Two lifecycle sweeps running at once, then summary completions retried from several connections,
// must still produce exactly one completion and exactly one owner summary per conversation.
// Runs against the database of the instance in LEADLOOP_INSTANCE (needs `npx tsx local/db/cli.ts start`).
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { useSessions } from "../support/sessions.ts";

const conversationCount = 30;
const sessions = useSessions(4, { name: "Concurrency Co", origins: ["https://concurrency.example"], duplicateWindowMinutes: 0 }, async ({ connections: [setup], business }) => {
  // Committed fixtures (several connections must see them), all under the sessions' fresh business.
  await setup.query("begin");
  await setup.query(
    `insert into public.leads (widget_id, name, phone, message, sms_consent)
     select $1, 'Lead ' || n, pg_temp.fixture_phone(), 'Need a plumber for a leak', true
       from generate_series(1, $2::int) as n`,
    [business.widgetId, conversationCount],
  );
  // Every conversation got its text-back and its nudge long ago: the next sweep must close it (no_reply).
  await setup.query(
    `update public.messages set status = 'sent', sent_at = now() - interval '2 days' where business_id = $1 and status in ('queued', 'deferred')`,
    [business.id],
  );
  await setup.query(
    `update public.conversations set status = 'awaiting_reply', nudge_count = 1, next_action_at = now() - interval '1 minute'
      where business_id = $1`,
    [business.id],
  );
  await setup.query("commit");
});
const { connections } = sessions;

test("two sweeps at once complete each idle conversation exactly once", async () => {
  const [first, second] = connections;
  const versionsBefore = await first.query<{ id: string; version: number }>(
    "select id, version from public.conversations where business_id = $1",
    [sessions.business.id],
  );
  assert.equal(versionsBefore.rowCount, conversationCount);

  // The first sweep holds its row locks while the second runs; then both run again together.
  await first.query("begin");
  await first.query("select private.lifecycle_sweep(now(), 10)");
  const concurrent = second.query("select private.lifecycle_sweep(now(), 500)");
  await new Promise((resolve) => setTimeout(resolve, 100));
  await first.query("commit");
  await concurrent;
  await Promise.all([first.query("select private.lifecycle_sweep()"), second.query("select private.lifecycle_sweep()")]);

  const after = await first.query<{ id: string; status: string; version: number; summary_status: string }>(
    "select id, status, version, summary_status from public.conversations where business_id = $1",
    [sessions.business.id],
  );
  const before = new Map(versionsBefore.rows.map((row) => [row.id, row.version]));
  for (const row of after.rows) {
    assert.equal(row.status, "no_reply", `conversation ${row.id} is closed as no_reply`);
    assert.equal(row.version, before.get(row.id)! + 1, `conversation ${row.id} was transitioned exactly once`);
    assert.ok(["due", "claimed", "done"].includes(row.summary_status), `conversation ${row.id} has its summary due`);
  }
});

test("retried and concurrent summary completions queue exactly one owner summary", async () => {
  const ids = (
    await connections[0].query<{ id: string }>("select id from public.conversations where business_id = $1", [sessions.business.id])
  ).rows.map((row) => row.id);
  assert.equal(ids.length, conversationCount);

  // A completion Postgres picks as a deadlock victim (40P01: it rolled back, nothing of it stays) is
  // retried, as the summarize function's next claim retries it; exactly-once must hold either way.
  const complete = async (client: pg.Client, id: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.query<{ result: { queued: boolean } }>(
          "select public.complete_conversation_summary($1, $2::jsonb, $3::text[]) as result",
          [id, JSON.stringify({ need: "leak" }), ["Lead summary", "Need: a plumber for a leak."]],
        );
      } catch (error) {
        if ((error as { code?: string }).code !== "40P01" || attempt === 5) throw error;
      }
    }
  };
  // Every connection completes every conversation, interleaved, then the whole round is retried.
  // (On a running stack the real summarize function may complete some of them first: then none of
  // ours reports queued=true for those, which is exactly the property under test.)
  const queuedByRound: boolean[][] = [[], []];
  for (const round of [0, 1]) {
    await Promise.all(
      connections.map(async (client, index) => {
        // Each connection walks the conversations in its own order so completions collide.
        const order = index % 2 === 0 ? ids : [...ids].reverse();
        for (const id of order) queuedByRound[round].push((await complete(client, id)).rows[0].result.queued);
      }),
    );
  }
  assert.ok(queuedByRound[0].filter(Boolean).length <= conversationCount, "at most one completion per conversation reported queued=true");
  assert.equal(queuedByRound[1].filter(Boolean).length, 0, "the retried round queues nothing");

  const summaries = await connections[0].query<{ conversation_id: string; count: string }>(
    `select conversation_id, count(*) from public.messages
      where business_id = $1 and kind = 'owner_summary' group by conversation_id`,
    [sessions.business.id],
  );
  assert.equal(summaries.rowCount, conversationCount, "every conversation has an owner summary");
  for (const row of summaries.rows) assert.equal(Number(row.count), 1, `conversation ${row.conversation_id} has exactly one`);
  const done = await connections[0].query("select count(*)::int as n from public.conversations where business_id = $1 and summary_status = 'done'", [sessions.business.id]);
  assert.equal(done.rows[0].n, conversationCount);
});
