// Leads per second through the full intake path (anon role, request headers, BEFORE/AFTER triggers,
// owner alert, conversation, text-back, wake) against plain inserts of the same rows into a table
// without triggers, with the same per-request session setup. The ratio is what the rules cost.
//   LEADLOOP_INSTANCE=dev npx tsx bench/intake.ts   (env BENCH_LEADS, BENCH_CONNECTIONS)
import type pg from "pg";
import { connect, createBenchBusiness, dropBenchBusiness, formatRate } from "./_db.ts";

const totalLeads = Number(process.env.BENCH_LEADS ?? 2000);
const connectionCount = Number(process.env.BENCH_CONNECTIONS ?? 4);
if (!Number.isInteger(totalLeads) || totalLeads < connectionCount || !Number.isInteger(connectionCount) || connectionCount < 1) {
  throw new Error("BENCH_LEADS and BENCH_CONNECTIONS must be positive integers, BENCH_LEADS >= BENCH_CONNECTIONS");
}

interface Row {
  name: string;
  phone: string;
  message: string;
  headers: string;
}

// Distinct phones for every row of the run, so no lead is a duplicate and each does the full work.
let nextPhone = Math.floor(Math.random() * 5_000_000);

function makeRows(origin: string): Row[] {
  return Array.from({ length: totalLeads }, (_, i) => ({
    name: `Bench Lead ${i}`,
    phone: "+1559" + String(2_000_000 + (nextPhone++ % 8_000_000)),
    message: "Water heater is leaking in the garage, need someone this week",
    headers: JSON.stringify({
      origin,
      "cf-connecting-ip": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      "user-agent": "leadloop-bench",
    }),
  }));
}

/** One PostgREST-shaped transaction per lead, spread over the connections; returns elapsed ms. */
async function run(clients: pg.Client[], rows: Row[], table: string, widgetId: string): Promise<number> {
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
  return performance.now() - started;
}

async function main(): Promise<void> {
  const admin = await connect();
  const clients = await Promise.all(Array.from({ length: connectionCount }, () => connect()));
  const bench = await createBenchBusiness(admin);
  await admin.query("drop schema if exists bench_baseline cascade");
  await admin.query("create schema bench_baseline");
  await admin.query(
    `create table bench_baseline.plain_leads (id uuid primary key default gen_random_uuid(), widget_id uuid, name text, phone text,
       email text, message text, source_url text, sms_consent boolean, honeypot text, created_at timestamptz default now())`,
  );
  await admin.query("grant usage on schema bench_baseline to anon; grant insert on bench_baseline.plain_leads to anon");
  try {
    const rows = makeRows(bench.origin);
    // Warm both paths (plans, caches) before timing.
    await run(clients, makeRows(bench.origin).slice(0, connectionCount * 5), "bench_baseline.plain_leads", bench.widgetId);
    await run(clients, makeRows(bench.origin).slice(0, connectionCount * 5), "public.leads", bench.widgetId);
    await admin.query("delete from bench_baseline.plain_leads");

    const plainMs = await run(clients, rows, "bench_baseline.plain_leads", bench.widgetId);
    const intakeMs = await run(clients, rows, "public.leads", bench.widgetId);

    const outcome = await admin.query<{ leads: number; conversations: number; messages: number }>(
      `select (select count(*)::int from public.leads where business_id = $1) as leads,
              (select count(*)::int from public.conversations where business_id = $1) as conversations,
              (select count(*)::int from public.messages where business_id = $1) as messages`,
      [bench.businessId],
    );
    const expected = totalLeads + connectionCount * 5;
    if (outcome.rows[0].leads !== expected || outcome.rows[0].conversations !== expected || outcome.rows[0].messages !== expected * 2) {
      throw new Error(`intake did not do the full work: ${JSON.stringify(outcome.rows[0])}, expected ${expected} leads/conversations`);
    }
    console.log(`intake benchmark: ${totalLeads} leads, ${connectionCount} connections, one transaction per lead`);
    console.log(`  plain insert (no triggers):  ${plainMs.toFixed(0)} ms  ${formatRate(totalLeads, plainMs)}`);
    console.log(`  full intake path:            ${intakeMs.toFixed(0)} ms  ${formatRate(totalLeads, intakeMs)}`);
    console.log(`  cost of the rules (ratio):   ${(intakeMs / plainMs).toFixed(2)}x the plain insert time`);
    console.log(`  each accepted lead wrote: 1 lead, 1 owner alert, 1 conversation, 1 text-back`);
  } finally {
    await admin.query("drop schema if exists bench_baseline cascade");
    await dropBenchBusiness(admin, bench.businessId);
    await Promise.all([admin, ...clients].map((client) => client.end()));
  }
}

main().catch((error) => {
  console.error(`bench/intake: ${(error as Error).message}`);
  process.exit(1);
});
