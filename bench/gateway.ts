// The gateway's cost, from one run:
// 1. REST insert throughput: the same single-row inserts through the gateway (supabase-js, anon key,
//    RLS-checked like the widget's lead insert) and straight over a Postgres connection, and the ratio.
// 2. Realtime latency from commit to the supabase-js callback with 1 and with 50 subscribers (p50, p95).
//   LEADLOOP_INSTANCE=x LEADLOOP_PORT_BASE=n npx tsx bench/gateway.ts [inserts=2000] [concurrency=8]
//   (env BENCH_REALTIME_ROWS=100: inserts per realtime scenario)
import { randomBytes } from "node:crypto";
import pg from "pg";
import WebSocket from "ws";
import { createClient } from "@supabase/supabase-js";
import { instanceConfig } from "../local/config.ts";
import { startGateway } from "../local/gateway/server.ts";
import { measureRealtimeLatency } from "./_realtime-latency.ts";

const total = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 8);
const config = instanceConfig();
const table = `bench_inserts_${randomBytes(4).toString("hex")}`;

const admin = new pg.Client({ connectionString: config.dbUrl });
await admin.connect();
await admin.query(`create table public.${table} (id bigint generated always as identity primary key, business text not null, message text not null, created_at timestamptz not null default now());
  alter table public.${table} enable row level security;
  create policy anon_insert on public.${table} for insert to anon with check (true);
  notify pgrst, 'reload schema'`);

async function run(label: string, insert: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await insert(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rate = total / seconds;
  console.log(`${label.padEnd(34)} ${total} inserts in ${seconds.toFixed(2)} s = ${rate.toFixed(0)} inserts/s`);
  return rate;
}

const gateway = await startGateway({ config, port: 0 });
try {
  const supabase = createClient(gateway.url, config.keys.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  // The direct baseline runs as the same role under the same RLS policy, one transaction per insert.
  const pool = new pg.Pool({ connectionString: config.authenticatorDbUrl, max: concurrency });
  const warm = async (i: number) => {
    const { error } = await supabase.from(table).insert({ business: "warmup", message: `m${i}` });
    if (error) throw new Error(`gateway insert failed: ${error.message}`);
  };
  for (let i = 0; i < 50; i++) await warm(i);

  const direct = await run(`direct pg (concurrency ${concurrency})`, async (i) => {
    const c = await pool.connect();
    try {
      await c.query("begin; set local role anon");
      await c.query(`insert into public.${table} (business, message) values ($1, $2)`, ["bench", `direct ${i}`]);
      await c.query("commit");
    } finally {
      c.release();
    }
  });
  const viaGateway = await run(`gateway supabase-js (concurrency ${concurrency})`, async (i) => {
    const { error, status } = await supabase.from(table).insert({ business: "bench", message: `gateway ${i}` });
    if (error || status !== 201) throw new Error(`gateway insert failed: ${status} ${error?.message}`);
  });
  console.log(`ratio direct/gateway: ${(direct / viaGateway).toFixed(2)}x (gateway reaches ${((viaGateway / direct) * 100).toFixed(0)}% of direct)`);
  const count = await admin.query(`select count(*)::int as n from public.${table} where business = 'bench'`);
  if (count.rows[0].n !== total * 2) throw new Error(`expected ${total * 2} rows, found ${count.rows[0].n}`);
  await pool.end();
} finally {
  await gateway.close();
  await admin.query(`drop table if exists public.${table}`);
  await admin.end();
}

await measureRealtimeLatency();
process.exit(0);
