// Leads per second through the full intake path (anon role, request headers, BEFORE/AFTER triggers and
// what settles at commit: owner alert, conversation, text-back, rate limits, billing gate, daily SMS
// count, wake) against plain inserts of the same rows into a table without triggers, with the same
// per-request session setup. Two figures, from one run:
// 1. the cost of the rules: intake time / plain insert time, with 10,000 leads already stored (goal <= 3);
// 2. flatness: intake time with 1,000,000 leads stored / with 10,000 (goal <= 1.2). The stored leads
//    belong to the benchmark's own business and widget, spread over the past year, so every per-business,
//    per-widget and per-phone lookup meets them.
// Each timing is the best of two rounds: the machine is shared, and a round that another process slowed
// down says nothing about intake.
//   LEADLOOP_INSTANCE=dev npx tsx bench/intake.ts   (env BENCH_LEADS, BENCH_CONNECTIONS, BENCH_STORED_SMALL, BENCH_STORED_LARGE)
import type pg from "pg";
import { cpuNanos } from "./_compare.ts";
import { connect, createBenchBusiness, dropBenchBusiness, formatRate, waitForReplication, waitUntilTextsSettle } from "./_db.ts";
import { goal } from "./_goals.ts";

const totalLeads = Number(process.env.BENCH_LEADS ?? 2000);
// Noise: the largest deviation from the median in three full `npm run bench` runs on the shared 2-core
// machine (6.42, 8.47, 10.42, measured before intake's rework and this bench's best-of-two), rounded up to 5 %.
const INTAKE_TOLERANCE = 0.25;
// Flatness: one run only so far (0.80; a run takes six minutes on the loaded machine), 15 % until three
// runs give its spread.
const FLAT_TOLERANCE = 0.15;
const connectionCount = Number(process.env.BENCH_CONNECTIONS ?? 4);
const storedSmall = Number(process.env.BENCH_STORED_SMALL ?? 10_000);
const storedLarge = Number(process.env.BENCH_STORED_LARGE ?? 1_000_000);
if (!Number.isInteger(totalLeads) || totalLeads < connectionCount || !Number.isInteger(connectionCount) || connectionCount < 1) {
  throw new Error("BENCH_LEADS and BENCH_CONNECTIONS must be positive integers, BENCH_LEADS >= BENCH_CONNECTIONS");
}

interface Row {
  name: string;
  phone: string;
  message: string;
  headers: string;
}

// Distinct, textable phones for every row of the run (exchanges 200-899 avoid N11, 555 and 976 below 900),
// so no lead is a duplicate and each does the full work.
let nextPhone = Math.floor(Math.random() * 1_000_000);
let nextAddress = 0;

function makeRows(origin: string, count: number): Row[] {
  return Array.from({ length: count }, (_, i) => {
    const n = nextPhone++ % 6_000_000;
    const exchange = 200 + Math.floor(n / 10_000);
    const a = nextAddress++;
    return {
      name: `Bench Lead ${i}`,
      phone: `+1559${exchange % 100 === 11 || exchange === 555 ? exchange + 1 : exchange}${String(n % 10_000).padStart(4, "0")}`,
      message: "Water heater is leaking in the garage, need someone this week",
      headers: JSON.stringify({ origin, "cf-connecting-ip": `10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`, "user-agent": "leadloop-bench" }),
    };
  });
}

/** Backend CPU (ms) spent by the benchmark's own connections, per table, summed over the timed rounds. */
const backendCpuMs = new Map<string, number>();
let backendPids: number[] = [];

/** One PostgREST-shaped transaction per lead, spread over the connections; returns elapsed ms. */
async function run(clients: pg.Client[], rows: Row[], table: string, widgetId: string): Promise<number> {
  const cpuBefore = backendPids.reduce((sum, pid) => sum + cpuNanos(pid), 0);
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, index) => {
      for (let i = index; i < rows.length; i += clients.length) {
        const row = rows[i];
        await client.query("begin");
        await client.query("set local role anon");
        await client.query("select set_config('request.headers', $1, true), set_config('request.jwt.claims', '{\"role\":\"anon\"}', true)", [row.headers]);
        await client.query(
          `insert into ${table} (widget_id, name, phone, message, source_url, sms_consent, honeypot) values ($1, $2, $3, $4, 'https://bench.example/contact', true, '')`,
          [widgetId, row.name, row.phone, row.message],
        );
        await client.query("commit");
      }
    }),
  );
  const elapsed = performance.now() - started;
  const cpu = (backendPids.reduce((sum, pid) => sum + cpuNanos(pid), 0) - cpuBefore) / 1e6;
  backendCpuMs.set(table, cpu / rows.length);
  return elapsed;
}

/** Stores leads of the business (no triggers: history, not intake) until it holds `target`. */
async function storeLeads(admin: pg.Client, businessId: string, widgetId: string, target: number): Promise<void> {
  const { rows } = await admin.query<{ n: number }>("select count(*)::int as n from public.leads where business_id = $1", [businessId]);
  const missing = target - rows[0].n;
  if (missing <= 0) return;
  await admin.query("begin");
  await admin.query("set local session_replication_role = replica");
  await admin.query(
    `insert into public.leads (widget_id, business_id, name, phone, message, sms_consent, ip, locale, followup_status, not_texted_reason,
                               owner_alert_status, created_at)
     select $2, $1, 'Stored Lead', '+1' || (200 + g % 700)::text || (200 + (g / 700) % 700)::text || lpad((g % 10000)::text, 4, '0'),
            'An older request', false, ('10.200.' || (g / 256 % 256) || '.' || (g % 256))::inet, 'en', 'not_texted', 'no_consent', 'delivered',
            now() - interval '2 days' - (g % 363) * interval '1 day' - (g % 86400) * interval '1 second'
       from generate_series(1, $3) g`,
    [businessId, widgetId, missing],
  );
  await admin.query("commit");
  await admin.query("vacuum analyze public.leads");
}

async function bestOfTwo(measure: () => Promise<number>): Promise<number> {
  return Math.min(await measure(), await measure());
}

/** The business's texts today start from zero: a round must not meet the daily SMS cap (a new day). */
async function newDay(admin: pg.Client, businessId: string): Promise<void> {
  await admin.query("delete from private.daily_sms_counts where business_id = $1", [businessId]);
}

/**
 * Dropping the business deletes a million leads: their dead rows are vacuumed now rather than by
 * autovacuum during the next benchmark, and the realtime stream (leads are published) is given the time to
 * read past those deletes before this benchmark ends.
 */
async function leaveTheDatabaseQuiet(admin: pg.Client): Promise<void> {
  await admin.query("vacuum (analyze) public.leads, public.messages, public.conversations");
  await waitForReplication(admin);
}

async function main(): Promise<void> {
  const admin = await connect();
  const clients = await Promise.all(Array.from({ length: connectionCount }, () => connect()));
  backendPids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0].pid));
  const bench = await createBenchBusiness(admin, { textsGoOut: true });
  await admin.query("drop schema if exists bench_baseline cascade");
  await admin.query("create schema bench_baseline");
  await admin.query(
    `create table bench_baseline.plain_leads (id uuid primary key default gen_random_uuid(), widget_id uuid, name text, phone text,
       email text, message text, source_url text, sms_consent boolean, honeypot text, created_at timestamptz default now())`,
  );
  await admin.query("grant usage on schema bench_baseline to anon; grant insert on bench_baseline.plain_leads to anon");
  try {
    const intake = async () => {
      // Each round times its own leads, not the previous round's thousands of texts still going out.
      await waitUntilTextsSettle(admin, bench.businessId);
      await newDay(admin, bench.businessId);
      return run(clients, makeRows(bench.origin, totalLeads), "public.leads", bench.widgetId);
    };
    const plain = () => run(clients, makeRows(bench.origin, totalLeads), "bench_baseline.plain_leads", bench.widgetId);

    await storeLeads(admin, bench.businessId, bench.widgetId, storedSmall);
    // Warm both paths (plans, caches) before timing.
    await run(clients, makeRows(bench.origin, connectionCount * 10), "bench_baseline.plain_leads", bench.widgetId);
    await run(clients, makeRows(bench.origin, connectionCount * 10), "public.leads", bench.widgetId);
    const plainMs = await bestOfTwo(plain);
    const plainCpu = backendCpuMs.get("bench_baseline.plain_leads")!;
    const smallMs = await bestOfTwo(intake);
    const intakeCpu = backendCpuMs.get("public.leads")!;

    const { rows: [outcome] } = await admin.query<{ started: number; messages: number; refused: number }>(
      `select (select count(*)::int from public.conversations where business_id = $1) as started,
              (select count(*)::int from public.messages where business_id = $1 and coalesce(status_reason, '') <> 'daily_sms_cap') as messages,
              (select count(*)::int from public.leads where business_id = $1 and created_at > now() - interval '1 hour' and followup_status = 'not_texted') as refused`,
      [bench.businessId],
    );
    const expected = totalLeads * 2 + connectionCount * 10;
    if (outcome.started !== expected || outcome.messages !== expected * 2 || outcome.refused !== 0) {
      throw new Error(`intake did not do the full work: ${JSON.stringify(outcome)}, expected ${expected} conversations and ${expected * 2} texts`);
    }

    await storeLeads(admin, bench.businessId, bench.widgetId, storedLarge);
    await run(clients, makeRows(bench.origin, connectionCount * 10), "public.leads", bench.widgetId);
    const largeMs = await bestOfTwo(intake);

    const cost = smallMs / plainMs;
    const flat = largeMs / smallMs;
    console.log(`intake benchmark: ${totalLeads} leads, ${connectionCount} connections, one transaction per lead, best of two rounds`);
    console.log(`  plain insert (no triggers):            ${plainMs.toFixed(0)} ms  ${formatRate(totalLeads, plainMs)}`);
    console.log(`  full intake, ${storedSmall.toLocaleString("en-US")} leads stored:     ${smallMs.toFixed(0)} ms  ${formatRate(totalLeads, smallMs)}`);
    console.log(`  full intake, ${storedLarge.toLocaleString("en-US")} leads stored:  ${largeMs.toFixed(0)} ms  ${formatRate(totalLeads, largeMs)}`);
    // Where the time goes, measured the way it costs: the CPU of the connections' own backends, which
    // the rest of the stack (dispatch sending these leads' texts meanwhile) does not blur.
    console.log(`  database CPU per lead (the connections' backends, last round): plain ${plainCpu.toFixed(2)} ms, full intake ${intakeCpu.toFixed(2)} ms (x${(intakeCpu / plainCpu).toFixed(1)})`);
    console.log(`  each accepted lead wrote: 1 lead, 1 owner alert, 1 conversation, 1 text-back, and took its rate limits, quota and daily text count`);
    // Issue 13 goal 1; noise from three runs of `npm run bench -- intake` (see local/bench.ts).
    goal("intake rules, full path/plain insert time", cost, 3, { tolerance: INTAKE_TOLERANCE });
    goal(`intake flat in leads stored, ${storedLarge.toLocaleString("en-US")}/${storedSmall.toLocaleString("en-US")} time`, flat, 1.2, { tolerance: FLAT_TOLERANCE });
  } finally {
    await admin.query("drop schema if exists bench_baseline cascade");
    // The next benchmark starts on a quiet stack (speed-to-lead, run after this, measured its single leads'
    // p95 at 302 ms behind these texts and at 76 ms on its own).
    await waitUntilTextsSettle(admin, bench.businessId);
    await dropBenchBusiness(admin, bench.businessId);
    await leaveTheDatabaseQuiet(admin);
    await Promise.all([admin, ...clients].map((client) => client.end()));
  }
}

main().catch((error) => {
  console.error(`bench/intake: ${(error as Error).message}`);
  process.exit(1);
});
