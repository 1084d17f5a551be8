// The gateway's cost, as ratios against the same work done directly over Postgres in the same run:
// 1. REST insert: single-row inserts with the anon key (RLS-checked like the widget's lead insert) against
//    the same insert as `anon` over a pg connection, both at concurrency 8.
// 2. REST read: `select` of 50 rows with one many-to-one embed against the same query written in SQL (the
//    embed as a correlated json_build_object), as `anon` over pg, at concurrency 8.
// The gateway runs in a process of its own (bench/_gateway-process.ts), as PostgREST does. The load is the
// exact request supabase-js sends (captured from it: method, URL, headers, body), replayed with undici's
// request API over 8 keep-alive connections, and each answer is read and parsed: supabase-js on fetch costs
// this machine more CPU per request than the gateway and Postgres together, so driving the load with it
// would measure the client (its own rate is printed beside). The warm-up goes through supabase-js too, to
// show that the replayed requests get the same answers. bench/_compare.ts alternates the sides and measures wall and CPU time;
// the goals are on CPU per request (client + gateway + Postgres against client + Postgres), which is what
// throughput at a fixed concurrency comes down to when the machine is busy, without the neighbours' noise.
// 3. Realtime latency from commit to the supabase-js callback (bench/_realtime-latency.ts).
//   LEADLOOP_INSTANCE=x LEADLOOP_PORT_BASE=n npx tsx bench/gateway.ts [--check]
//   (env BENCH_ROUNDS=6, BENCH_INSERTS=300 and BENCH_READS=150 per round and side, BENCH_WARMUP=3000,
//   BENCH_REALTIME_ROWS=100)
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Pool as HttpPool } from "undici";
import WebSocket from "ws";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { instanceConfig } from "../local/config.ts";
import { compare, report, timed } from "./_compare.ts";
import { goal } from "./_goals.ts";
import { measureRealtimeLatency } from "./_realtime-latency.ts";

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const insertsPerRound = Number(process.env.BENCH_INSERTS ?? 300);
const readsPerRound = Number(process.env.BENCH_READS ?? 150);
const concurrency = 8;
for (const [name, v] of Object.entries({ BENCH_ROUNDS: rounds, BENCH_INSERTS: insertsPerRound, BENCH_READS: readsPerRound })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
}
/** Issue 13 goal 2: the gateway at most 2x direct Postgres, for inserts and for reads with one embed. */
const GOAL_RATIO = 2;
// Noise: the largest deviation from the median in three full `npm run bench` runs on the shared 2-core
// machine (inserts 2.07, 1.90, 1.75; reads 1.44, 1.65, 1.49), rounded up to 5 %.
const INSERT_TOLERANCE = 0.1;
const READ_TOLERANCE = 0.15;

const config = instanceConfig();
const suffix = randomBytes(4).toString("hex");
const inserts = `bench_inserts_${suffix}`;
const authors = `bench_authors_${suffix}`;
const posts = `bench_posts_${suffix}`;
const READ_ROWS = 50;
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3000);
const DIRECT_APP = `leadloop-bench-direct-${suffix}`;
const clientOptions = { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: WebSocket as never } };

function startGatewayProcess(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL("./_gateway-process.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    env: process.env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`gateway process exited with ${code}`)));
    child.once("message", (m: { url: string }) =>
      resolve({
        url: m.url,
        pid: child.pid!,
        stop: () =>
          new Promise<void>((done) => {
            child.removeAllListeners("exit");
            child.once("exit", () => done());
            child.disconnect();
          }),
      }),
    );
  });
}

interface CapturedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

/** The request supabase-js makes for `call`, recorded through its `global.fetch` hook (nothing is sent). */
async function capture(url: string, call: (c: SupabaseClient) => PromiseLike<unknown>): Promise<CapturedRequest> {
  let seen: CapturedRequest | undefined;
  const client = createClient(url, config.keys.publishableKey, {
    ...clientOptions,
    global: {
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        const request = new Request(input, init);
        seen = { url: request.url, method: request.method, headers: Object.fromEntries(request.headers) };
        return new Response(request.method === "GET" ? "[]" : null, { status: request.method === "GET" ? 200 : 201 });
      },
    },
  });
  await call(client);
  if (!seen) throw new Error("supabase-js sent nothing");
  return seen;
}

/** Sends a captured request (with `body`) and reads the whole answer. */
async function replay(http: HttpPool, request: CapturedRequest, body?: string): Promise<{ status: number; text: string }> {
  const url = new URL(request.url);
  const headers = { ...request.headers };
  delete headers["content-length"];
  const res = await http.request({ path: url.pathname + url.search, method: request.method as "GET", headers, body });
  return { status: res.statusCode, text: await res.body.text() };
}

const admin = new pg.Client({ connectionString: config.dbUrl });
await admin.connect();
await admin.query(`
  create table public.${inserts} (id bigint generated always as identity primary key, business text not null, message text not null, created_at timestamptz not null default now());
  alter table public.${inserts} enable row level security;
  create policy anon_insert on public.${inserts} for insert to anon with check (true);
  grant insert on public.${inserts} to anon;
  create table public.${authors} (id bigint primary key, name text not null, email text);
  create table public.${posts} (id bigint primary key, author_id bigint not null references public.${authors}(id), title text not null,
    body text not null, created_at timestamptz not null default now());
  create index on public.${posts} (author_id);
  alter table public.${authors} enable row level security;
  alter table public.${posts} enable row level security;
  create policy anon_read on public.${authors} for select to anon using (true);
  create policy anon_read on public.${posts} for select to anon using (true);
  grant select on public.${authors}, public.${posts} to anon;
  insert into public.${authors} select n, 'Author ' || n, 'author' || n || '@example.test' from generate_series(1, 20) n;
  insert into public.${posts} select n, 1 + n % 20, 'Post ' || n, repeat('words ', 20) from generate_series(1, 500) n;
  analyze public.${authors}; analyze public.${posts};
  notify pgrst, 'reload schema'`);
const gateway = await startGatewayProcess();
const http = new HttpPool(gateway.url, { connections: concurrency, pipelining: 1 });
const pool = new pg.Pool({ connectionString: config.authenticatorDbUrl, max: concurrency, application_name: DIRECT_APP });
try {
  const supabase = createClient(gateway.url, config.keys.publishableKey, clientOptions);
  /** The direct baseline: one transaction as `anon`, as an app server on pg would run it. */
  const asAnon = async (text: string, values: unknown[]): Promise<pg.QueryResult> => {
    const c = await pool.connect();
    try {
      await c.query("begin; set local role anon");
      const r = await c.query(text, values);
      await c.query("commit");
      return r;
    } finally {
      c.release();
    }
  };
  /** Whose CPU counts: this process (the client side of both), the gateway, and the backends of both pools. */
  const pids = async () => {
    const backends = await admin.query<{ pid: number }>(
      "select pid from pg_stat_activity where application_name = any($1)",
      [[DIRECT_APP, "leadloop-gateway-rest"]],
    );
    return { client: [process.pid], gateway: [gateway.pid], postgres: backends.rows.map((r) => r.pid) };
  };

  const directInsert = async (i: number, business = "bench") => {
    await asAnon(`insert into public.${inserts} (business, message) values ($1, $2)`, [business, `direct ${i}`]);
  };
  const insertRequest = await capture(gateway.url, (c) => c.from(inserts).insert({ business: "bench", message: "m" }));
  const gatewayInsert = async (i: number, business = "bench") => {
    const { status } = await replay(http, insertRequest, JSON.stringify({ business, message: `gateway ${i}` }));
    if (status !== 201) throw new Error(`gateway insert failed: ${status}`);
  };
  const supabaseInsert = async (i: number, business = "bench") => {
    const { error, status } = await supabase.from(inserts).insert({ business, message: `supabase-js ${i}` });
    if (error || status !== 201) throw new Error(`supabase-js insert failed: ${status} ${error?.message}`);
  };

  const readSql = `select p.id, p.title, p.body, p.created_at,
      (select json_build_object('id', a.id, 'name', a.name) from public.${authors} a where a.id = p.author_id) as author
    from public.${posts} p order by p.id limit ${READ_ROWS}`;
  const checkRows = (data: unknown, what: string) => {
    const rows = data as { author?: { name?: string } }[] | null;
    if (rows?.length !== READ_ROWS || !rows[0].author?.name) throw new Error(`${what} read returned the wrong rows`);
  };
  const directRead = async () => checkRows((await asAnon(readSql, [])).rows, "direct");
  const select = (c: SupabaseClient) => c.from(posts).select(`id,title,body,created_at,author:${authors}(id,name)`).order("id").limit(READ_ROWS);
  const readRequest = await capture(gateway.url, select);
  const gatewayRead = async () => {
    const { status, text } = await replay(http, readRequest);
    if (status !== 200) throw new Error(`gateway read failed: ${status} ${text}`);
    checkRows(JSON.parse(text), "gateway");
  };
  const supabaseRead = async () => {
    const { data, error } = await select(supabase);
    if (error) throw new Error(`supabase-js read failed: ${error.message}`);
    checkRows(data, "supabase-js");
  };

  // Warm every path before anything is timed: connections, prepared statements, and the JIT, whose
  // compiling is a fifth of a young gateway's CPU (perf) but nothing in a gateway that has run a while.
  // supabase-js's own requests get the same answers as the replayed ones.
  await timed(100, concurrency, async (i) => {
    await Promise.all([supabaseInsert(i, "warmup"), supabaseRead()]);
  });
  await timed(WARMUP, concurrency, async (i) => {
    await Promise.all([directInsert(i, "warmup"), gatewayInsert(i, "warmup")]);
    await Promise.all([directRead(), gatewayRead()]);
  });

  const names: [string, string] = ["direct", "gateway"];
  const insert = report("REST insert (one row, anon, RLS)", names, await compare(
    { rounds, perRound: insertsPerRound, concurrency, pids },
    { op: (i) => directInsert(i) },
    { op: (i) => gatewayInsert(i) },
  ));
  const read = report(`REST read (${READ_ROWS} rows, one embed, anon, RLS)`, names, await compare(
    { rounds, perRound: readsPerRound, concurrency, pids },
    { op: directRead },
    { op: gatewayRead },
  ));
  const supabaseRates = {
    inserts: (insertsPerRound * 1000) / (await timed(insertsPerRound, concurrency, (i) => supabaseInsert(i, "supabase-js"))),
    reads: (readsPerRound * 1000) / (await timed(readsPerRound, concurrency, supabaseRead)),
  };
  console.log(`supabase-js itself through the gateway: ${supabaseRates.inserts.toFixed(0)} inserts/s, ${supabaseRates.reads.toFixed(0)} reads/s (bound by its own CPU)`);
  const count = await admin.query(`select count(*)::int as n from public.${inserts} where business = 'bench'`);
  const expected = 2 * rounds * insertsPerRound;
  if (count.rows[0].n !== expected) throw new Error(`expected ${expected} inserted rows, found ${count.rows[0].n}`);
  goal("REST insert, gateway/direct CPU per request at concurrency 8", insert.cpuRatio, GOAL_RATIO, { tolerance: INSERT_TOLERANCE });
  goal("REST read of 50 rows with an embed, gateway/direct CPU per request", read.cpuRatio, GOAL_RATIO, { tolerance: READ_TOLERANCE });
} finally {
  await pool.end();
  await http.close();
  await gateway.stop();
  await admin.query(`drop table if exists public.${inserts}, public.${posts}, public.${authors}`);
  await admin.end();
}

await measureRealtimeLatency();
process.exit(0);
