// Shared setup for the database benchmarks: a connection to the instance in LEADLOOP_INSTANCE and a
// throwaway business that is removed afterwards (bulk rows are deleted without per-row cascades).
import pg from "pg";
import { instanceConfig } from "../local/config.ts";
import { createBusiness, registerTwilioNumber } from "../tests/support/fixtures.ts";
import { loadStack } from "../tests/support/stack.ts";

export async function connect(): Promise<pg.Client> {
  const config = instanceConfig();
  const client = new pg.Client({ connectionString: config.dbUrl });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `cannot reach the database of instance "${config.name}" at ${config.dbUrl} (${(error as Error).message}). ` +
        `Start it with: LEADLOOP_INSTANCE=${config.name} npx tsx local/db/cli.ts start`,
    );
  }
  return client;
}

export interface BenchBusiness {
  businessId: string;
  widgetId: string;
  origin: string;
}

/**
 * The shared test business (tests/support/fixtures.ts), with limits high enough for a benchmark; `owner` makes
 * that user its member. `textsGoOut` registers its sending number with the running stack's Twilio emulator,
 * so the texts its leads queue are sent as a real business's are, rather than refused by Twilio (21606) and
 * each turned into a dead letter, an owner notice and an email while the benchmark is timing.
 */
export async function createBenchBusiness(client: pg.Client, options: { owner?: string; textsGoOut?: boolean } = {}): Promise<BenchBusiness> {
  const origin = "https://bench.example";
  const business = await createBusiness(client, { name: "Bench Co", origins: [origin], quota: 1_000_000, leadsPerHour: 100_000, owner: options.owner });
  if (options.textsGoOut) await registerTwilioNumber(loadStack(), business);
  return { businessId: business.id, widgetId: business.widgetId, origin };
}

/** Removes the bench business and everything under it; replica mode skips per-row cascade triggers. */
export async function dropBenchBusiness(client: pg.Client, businessId: string): Promise<void> {
  await client.query("begin");
  await client.query("set local session_replication_role = replica");
  for (const table of ["owner_notifications", "messages", "opt_outs", "conversations", "leads", "widgets", "subscriptions", "business_members", "businesses"]) {
    const column = table === "businesses" ? "id" : "business_id";
    await client.query(`delete from public.${table} where ${column} = $1`, [businessId]);
  }
  for (const table of ["daily_sms_counts", "phone_verifications"]) {
    await client.query(`delete from private.${table} where business_id = $1`, [businessId]);
  }
  await client.query("delete from private.rate_counters where bucket like $1", [`business:${businessId}`]);
  await client.query("commit");
}

export function formatRate(count: number, ms: number): string {
  return `${((count * 1000) / ms).toFixed(0)}/s`;
}

/**
 * Waits until the business's texts are settled: sent and their delivery callbacks answered (deferred ones,
 * due later, do not count), so what is measured next does not run behind them. Bounded: a stuck outbox is
 * reported, not waited for forever. `pollMs` short for a few texts, longer for thousands.
 */
export async function waitUntilTextsSettle(
  db: pg.ClientBase | pg.Pool,
  businessId: string,
  { timeoutMs = 180_000, pollMs = 500 }: { timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows: [left] } = await db.query<{ n: number }>(
      "select count(*)::int as n from public.messages where business_id = $1 and status in ('queued', 'sending', 'sent') and send_after <= now()",
      [businessId],
    );
    if (left.n === 0) return;
    if (Date.now() > deadline) {
      console.log(`  (${left.n} texts still unsettled after ${timeoutMs / 1000} s; what follows may feel them)`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Waits until every active logical replication slot (the gateway's realtime stream) has read the WAL written so
 * far: a bulk load of history is decoded for seconds after it commits, and a measurement taken meanwhile
 * shares the machine with that decoding. Bounded, like the wait for texts.
 */
export async function waitForReplication(db: pg.ClientBase | pg.Pool, timeoutMs = 120_000): Promise<void> {
  const { rows: [{ lsn }] } = await db.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows: [behind] } = await db.query<{ n: number }>(
      "select count(*)::int as n from pg_replication_slots where slot_type = 'logical' and active and confirmed_flush_lsn < $1::pg_lsn",
      [lsn],
    );
    if (behind.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.log(`  (a logical replication slot was still reading after ${timeoutMs / 1000} s)`);
}
