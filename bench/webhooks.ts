// Outgoing webhooks in the database, two ratios from one run:
// 1. what capturing costs intake: a lead saved (every intake trigger and what settles at commit) for a business
//    with 1 and with 5 endpoints subscribed to every event / the same for a business without any (lead.created
//    is one event row and a delivery row per endpoint in the lead's transaction);
// 2. flatness of the sender's claim: claim_webhook_deliveries(10) with 200,000 deliveries in the log / with
//    2,000, the same number due each time (the claim reads a partial index of what is pending).
// Every measured statement runs in a transaction that is rolled back, with deferred work made immediate, so
// the runs see the same rows and no wake leaves the database. Each figure is the median of its runs.
//   LEADLOOP_INSTANCE=dev npx tsx bench/webhooks.ts   (env BENCH_LEADS, BENCH_DUE, BENCH_SMALL, BENCH_LARGE)
import type pg from "pg";
import { type BenchBusiness, connect, createBenchBusiness, dropBenchBusiness } from "./_db.ts";
import { noGoal } from "./_goals.ts";

const leadRuns = Number(process.env.BENCH_LEADS ?? 200);
const dueCount = Number(process.env.BENCH_DUE ?? 50);
const smallLog = Number(process.env.BENCH_SMALL ?? 2_000);
const largeLog = Number(process.env.BENCH_LARGE ?? 200_000);
const claimRuns = 9;
for (const [name, value] of Object.entries({ BENCH_LEADS: leadRuns, BENCH_DUE: dueCount, BENCH_SMALL: smallLog, BENCH_LARGE: largeLog })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
}
if (!(dueCount < smallLog && smallLog < largeLog)) throw new Error("need BENCH_DUE < BENCH_SMALL < BENCH_LARGE");

const ALL_EVENTS = ["lead.created", "lead.updated", "conversation.completed", "summary.ready", "lead.opted_out"];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

let nextPhone = Math.floor(Math.random() * 1_000_000);
/** A textable phone not used before in this run (exchanges 200-799: no N11, 555 or 976). */
function phone(): string {
  const n = nextPhone++ % 6_000_000;
  return `+1512${200 + Math.floor(n / 10_000)}${String(n % 10_000).padStart(4, "0")}`;
}

async function addEndpoints(client: pg.Client, businessId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await client.query("insert into public.webhook_endpoints (business_id, url, events) values ($1, $2, $3)",
      [businessId, `https://hook${i}.example.com/in`, ALL_EVENTS]);
  }
}

/**
 * Median time of saving one lead for each business, each lead in its own rolled-back transaction. The
 * businesses take turns, so a slow moment of the shared machine falls on all of them alike.
 */
async function timeIntake(client: pg.Client, businesses: BenchBusiness[]): Promise<number[]> {
  const timings: number[][] = businesses.map(() => []);
  for (let i = -20; i < leadRuns; i++) {
    for (const [k, business] of businesses.entries()) {
      await client.query("begin");
      await client.query("set constraints all immediate");
      const started = performance.now();
      await client.query(
        "insert into public.leads (widget_id, name, phone, message, source_url, sms_consent) values ($1, 'Bench Lead', $2, 'Gutter came loose', $3, true)",
        [business.widgetId, phone(), `${business.origin}/contact`],
      );
      if (i >= 0) timings[k].push(performance.now() - started); // the first 20 rounds only warm the caches
      await client.query("rollback");
    }
  }
  return timings.map(median);
}

/** `count` delivered deliveries of old events (history), set-based; replica mode skips the per-row triggers. */
async function addHistory(client: pg.Client, businessId: string, endpointId: string, count: number): Promise<void> {
  await client.query("begin");
  await client.query("set local session_replication_role = replica");
  await client.query(
    `with events as (
       insert into public.webhook_events (business_id, type, payload, created_at)
       select $1, 'lead.created', '{"type": "lead.created", "version": 1, "data": {}}', now() - interval '1 day' + n * interval '1 millisecond'
         from generate_series(1, $3::int) n
       returning id, created_at)
     insert into public.webhook_deliveries (business_id, endpoint_id, event_id, event_type, status, attempts, next_attempt_at,
                                           delivered_at, response_status, latency_ms, created_at)
     select $1, $2, id, 'lead.created', 'succeeded', 1, created_at, created_at, 200, 40, created_at from events`,
    [businessId, endpointId, count],
  );
  await client.query("commit");
  await client.query("vacuum analyze public.webhook_events");
  await client.query("vacuum analyze public.webhook_deliveries");
}

/** Median time of claiming a batch of 10 with `dueCount` due, the newest deliveries made due inside the transaction. */
async function timeClaims(client: pg.Client, businessId: string): Promise<number> {
  const timings: number[] = [];
  for (let i = -1; i < claimRuns; i++) {
    await client.query("begin");
    await client.query(
      `update public.webhook_deliveries set status = 'pending', delivered_at = null, next_attempt_at = now() - interval '1 second'
        where id in (select id from public.webhook_deliveries where business_id = $1 order by created_at desc limit $2)`,
      [businessId, dueCount],
    );
    const started = performance.now();
    const { rows } = await client.query("select * from public.claim_webhook_deliveries(10, 60)");
    if (i >= 0) timings.push(performance.now() - started);
    await client.query("rollback");
    if (rows.length !== 10) throw new Error(`expected a full batch of 10, claimed ${rows.length}`);
  }
  return median(timings);
}

async function removeWebhooks(client: pg.Client, businessId: string): Promise<void> {
  await client.query("begin");
  await client.query("set local session_replication_role = replica");
  await client.query("delete from public.webhook_deliveries where business_id = $1", [businessId]);
  await client.query("delete from public.webhook_events where business_id = $1", [businessId]);
  await client.query("commit");
  await client.query("delete from public.webhook_endpoints where business_id = $1", [businessId]); // its trigger empties the vault
}

async function main(): Promise<void> {
  const client = await connect();
  const plain = await createBenchBusiness(client);
  const single = await createBenchBusiness(client);
  const hooked = await createBenchBusiness(client);
  try {
    await addEndpoints(client, single.businessId, 1);
    await addEndpoints(client, hooked.businessId, 5);
    const [withoutMs, oneMs, fiveMs] = await timeIntake(client, [plain, single, hooked]);
    console.log(`intake, one lead (median of ${leadRuns}): no endpoint ${withoutMs.toFixed(2)} ms, 1 endpoint ${oneMs.toFixed(2)} ms, ` +
      `5 endpoints ${fiveMs.toFixed(2)} ms`);
    console.log(`capture cost: with 1 endpoint / without = ${(oneMs / withoutMs).toFixed(2)}, with 5 / without = ${(fiveMs / withoutMs).toFixed(2)}`);

    const { rows: [endpoint] } = await client.query<{ id: string }>(
      "select id from public.webhook_endpoints where business_id = $1 order by created_at limit 1", [hooked.businessId]);
    await addHistory(client, hooked.businessId, endpoint.id, smallLog);
    const smallMs = await timeClaims(client, hooked.businessId);
    await addHistory(client, hooked.businessId, endpoint.id, largeLog - smallLog);
    const largeMs = await timeClaims(client, hooked.businessId);
    console.log(`claim of 10 with ${dueCount} due (median of ${claimRuns}): ${smallLog} in the log ${smallMs.toFixed(2)} ms, ` +
      `${largeLog} ${largeMs.toFixed(2)} ms`);
    console.log(`claim flatness: ${largeLog} / ${smallLog} = ${(largeMs / smallMs).toFixed(2)}`);
    noGoal("issue 11 sets no threshold for webhooks: the figures show what capturing costs intake and that the claim stays flat");
  } finally {
    for (const business of [plain, single, hooked]) {
      await removeWebhooks(client, business.businessId);
      await dropBenchBusiness(client, business.businessId);
    }
    await client.end();
  }
}

await main();
