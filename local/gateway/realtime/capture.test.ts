// The replication stream under big transactions: one transaction's changes are delivered in chunks of at
// most `captureChunkSize` (a million-row insert once exhausted the gateway's heap in a single result),
// changes of tables nobody subscribes to are never turned into rows, and with no subscriptions at all
// the slot still moves past everything. Table names with odd characters still get through.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import type { RealtimePostgresChangesPayload, SupabaseClient } from "@supabase/supabase-js";
import { instanceConfig } from "../../config.ts";
import { createTenantFixture, realtimeClient, sleep, startRealtimeHarness, waitFor, type RealtimeHarness } from "./test-harness.ts";

type Change = RealtimePostgresChangesPayload<Record<string, unknown>>;

function subscribeInserts(client: SupabaseClient, name: string, table: string, events: Change[]): Promise<void> {
  return new Promise((resolve, reject) => {
    client
      .channel(name)
      .on("postgres_changes", { event: "INSERT", schema: "public", table }, (payload) => events.push(payload as Change))
      .on("system", {}, (payload: { extension?: string; status?: string; message?: string }) => {
        if (payload.extension !== "postgres_changes") return;
        if (payload.status === "ok") resolve();
        else reject(new Error(`subscription failed: ${payload.message}`));
      })
      .subscribe((status, error) => {
        if (status === "CHANNEL_ERROR" || status === "TIMED_OUT") reject(error ?? new Error(status));
      });
  });
}

function totalParsed(h: RealtimeHarness): number {
  let total = 0;
  for (const count of h.realtime!.captureStats().parsedByTable.values()) total += count;
  return total;
}

describe("realtime change capture", { timeout: 180_000 }, () => {
  const config = instanceConfig();
  const db = new pg.Client({ connectionString: config.dbUrl });
  const bulk = `rt_bulk_${randomUUID().replace(/-/g, "").slice(0, 10)}`;

  before(async () => {
    await db.connect();
    await db.query(`
      create table public.${bulk} (id bigint primary key, payload text not null);
      grant all on public.${bulk} to service_role;
      alter publication supabase_realtime add table public.${bulk};
    `);
  });
  after(async () => {
    await db.query(`drop table if exists public.${bulk}`);
    await db.end();
  });

  it("delivers every row of one big transaction, never more than chunkSize changes at once", async () => {
    const chunkSize = 100;
    const h = await startRealtimeHarness(0, config, { captureChunkSize: chunkSize });
    const f = await createTenantFixture(config);
    const client = await realtimeClient(h, h.config.keys.serviceRoleKey);
    try {
      const events: Change[] = [];
      await subscribeInserts(client, "bulk-items", f.items, events);
      await f.db.query(
        `insert into public.${f.items} (business_id, title) select $1, 'row ' || n from generate_series(1, 3000) n`,
        [f.businessA],
      );
      await waitFor(events, () => events.length >= 3000, 90_000);
      const titles = new Set(events.map((e) => (e.new as Record<string, unknown>).title));
      assert.equal(titles.size, 3000);
      for (let n = 1; n <= 3000; n++) assert.ok(titles.has(`row ${n}`), `row ${n} was delivered`);
      const stats = h.realtime!.captureStats();
      assert.equal(stats.parsedByTable.get(`public.${f.items}`), 3000);
      assert.ok(stats.largestChunk > 0 && stats.largestChunk <= chunkSize, `largest chunk ${stats.largestChunk} <= ${chunkSize}`);
    } finally {
      await client.removeAllChannels();
      await f.drop();
      await h.stop();
    }
  });

  it("never turns changes of a table nobody subscribes to into rows, while a subscribed table still gets its change", async () => {
    const h = await startRealtimeHarness(0, config);
    const f = await createTenantFixture(config);
    const client = await realtimeClient(h, h.config.keys.serviceRoleKey);
    try {
      const events: Change[] = [];
      await subscribeInserts(client, "only-items", f.items, events);
      await db.query(`insert into public.${bulk} (id, payload) select n, repeat('x', 100) from generate_series(1, 20000) n`);
      await f.db.query(`insert into public.${f.items} (business_id, title) values ($1, 'after the bulk insert')`, [f.businessA]);
      // Changes arrive in commit order, so this one means the poller has read past the bulk transaction.
      await waitFor(events, (e) => (e.new as Record<string, unknown>).title === "after the bulk insert", 30_000);
      const stats = h.realtime!.captureStats();
      assert.equal(stats.parsedByTable.get(`public.${bulk}`) ?? 0, 0, "no row of the unsubscribed table was parsed");
      assert.equal(stats.parsedByTable.get(`public.${f.items}`), 1);
    } finally {
      await client.removeAllChannels();
      await f.drop();
      await h.stop();
    }
  });

  it("with no subscriptions, moves the slot past a big transaction without turning it into rows, then delivers to a new subscriber", async () => {
    const h = await startRealtimeHarness(0, config);
    const f = await createTenantFixture(config);
    const client = await realtimeClient(h, h.config.keys.serviceRoleKey);
    try {
      const slotName = await waitForOwnSlot();
      await db.query(`insert into public.${bulk} (id, payload) select n, repeat('y', 100) from generate_series(100001, 120000) n`);
      const { rows: [{ lsn }] } = await db.query<{ lsn: string }>("select pg_current_wal_insert_lsn()::text as lsn");
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { rows } = await db.query<{ passed: boolean }>(
          "select confirmed_flush_lsn >= $2::pg_lsn as passed from pg_replication_slots where slot_name = $1",
          [slotName, lsn],
        );
        if (rows[0]?.passed) break;
        assert.ok(Date.now() < deadline, "the slot moved past the bulk insert");
        await sleep(50);
      }
      const stats = h.realtime!.captureStats();
      assert.equal(totalParsed(h), 0, "nothing was turned into rows");
      assert.ok(stats.skippedUnwanted >= 20000, `${stats.skippedUnwanted} changes were skipped`);

      const events: Change[] = [];
      await subscribeInserts(client, "late", f.items, events);
      await f.db.query(`insert into public.${f.items} (business_id, title) values ($1, 'late subscriber')`, [f.businessA]);
      await waitFor(events, (e) => (e.new as Record<string, unknown>).title === "late subscriber", 10_000);
      assert.equal(totalParsed(h), 1);
    } finally {
      await client.removeAllChannels();
      await f.drop();
      await h.stop();
    }

    async function waitForOwnSlot(): Promise<string> {
      const { rows } = await db.query<{ slot_name: string }>(
        "select slot_name from pg_replication_slots where starts_with(slot_name, $1) order by slot_name",
        [`leadloop_realtime_${process.pid}_`],
      );
      assert.equal(rows.length, 1, "this process runs exactly one realtime slot");
      return rows[0].slot_name;
    }
  });

  it("subscribes to tables whose names have dots, commas, stars and quotes", async () => {
    const odd = `rt odd.na,me*'${randomUUID().slice(0, 8)}`;
    const quoted = `public."${odd.replace(/"/g, '""')}"`;
    await db.query(`create table ${quoted} (id bigint primary key, note text); grant all on ${quoted} to service_role;
                    alter publication supabase_realtime add table ${quoted}`);
    const h = await startRealtimeHarness(0, config);
    const client = await realtimeClient(h, h.config.keys.serviceRoleKey);
    try {
      const events: Change[] = [];
      await subscribeInserts(client, "odd", odd, events);
      await db.query(`insert into ${quoted} (id, note) values (1, 'odd name')`);
      const event = await waitFor(events, () => true, 10_000);
      assert.equal((event.new as Record<string, unknown>).note, "odd name");
      assert.equal(event.table, odd);
    } finally {
      await client.removeAllChannels();
      await h.stop();
      await db.query(`drop table if exists ${quoted}`);
    }
  });
});
