// The inbox over a business with 100 thousand leads (90 days of a very busy business, beside a
// neighbour with 50 thousand of its own, since the trigram index is shared by every tenant):
// p95 of the first page and of searches through search_leads, called as a member exactly as the
// dashboard calls it, against a baseline from the same run: a plain indexed select of the same page
// (business_id, created_at desc, id desc) as the table owner, with no search, no RLS and no RPC.
//
// Goals (p95 of database time; the phone adds its network round trip on top):
//   first page  <= 2x the plain select: the inbox is the screen an owner opens a hundred times a day;
//                 the membership check, the RPC and the dynamic query may cost at most as much again as
//                 reading the page itself, whatever the history behind it. A ratio, not milliseconds:
//                 both are measured in the same rounds, so a busy shared machine moves them together
//                 (on 2 shared cores the plain select alone has a p95 of ~20 ms against a median of 4).
//   search      <= 150 ms: results follow typing (350 ms pause in the dashboard); under 150 ms in the
//                 database keeps the answer within ~0.3 s of the pause on a mobile network, which reads
//                 as immediate. Worst cases are included: a word in a fifth of the leads, a word in none.
//   LEADLOOP_INSTANCE=dev npx tsx bench/inbox.ts   (env BENCH_LEADS, BENCH_NEIGHBOUR_LEADS, BENCH_RUNS)
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { connect, createBenchBusiness, dropBenchBusiness } from "./_db.ts";
import { percentile } from "./_compare.ts";
import { goal } from "./_goals.ts";

const leads = Number(process.env.BENCH_LEADS ?? 100_000);
const neighbourLeads = Number(process.env.BENCH_NEIGHBOUR_LEADS ?? 50_000);
const runs = Number(process.env.BENCH_RUNS ?? 100);
for (const [name, value] of Object.entries({ BENCH_LEADS: leads, BENCH_NEIGHBOUR_LEADS: neighbourLeads, BENCH_RUNS: runs })) {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
}
const PAGE = 51; // the dashboard asks for one row more than a page of 50
const GOALS = { firstPageRatio: 2, searchMs: 150 };

/**
 * `count` leads of the last 90 days for one business, set-based and without the intake triggers
 * (history, not new leads), with the search text the triggers would have written, summaries included.
 */
async function addLeads(client: pg.Client, businessId: string, widgetId: string, count: number, seed: number): Promise<void> {
  await client.query("begin");
  await client.query("set local session_replication_role = replica");
  await client.query(
    `with names as (
       select array['Maria','James','Ana','Robert','Linda','Jose','Patricia','Michael','Chloe','David','Sofia','Daniel','Emily',
                    'Carlos','Susan','Kevin','Aisha','Thomas','Grace','Luis','Nora','Ethan','Priya','Omar','Hannah'] as first,
              array['Lopez','Smith','Nguyen','Johnson','Garcia','Kim','Brown','Okafor','Novak','Martinez','Patel','Davis',
                    'Rodriguez','Wilson','Anderson','Taylor','Thomas','Moore','Jackson','Martin','Lee','Walker','Hall'] as last,
              array['Kitchen sink leak under the cabinet','Water heater not heating','Toilet keeps running all night',
                    'Sump pump stopped working','Burst pipe in the basement','Garbage disposal jammed','Low water pressure upstairs',
                    'Shower drain clogged','Need a quote for repiping','Gas smell near the water heater','Outdoor faucet leaking',
                    'Install a new dishwasher line','Sewer backup in the yard','Bathroom remodel plumbing','Frozen pipes'] as need,
              array['today if possible','tomorrow morning','this weekend','next week','any weekday after 5pm'] as timing,
              array['Austin','Round Rock','Pflugerville','Cedar Park','Georgetown','Kyle','Buda'] as city
     )
     insert into public.leads (widget_id, business_id, name, phone, email, message, locale, owner_alert_status, followup_status,
                               not_texted_reason, created_at, status, unread_count, search_text)
     select $2, $1, l.name, l.phone, l.email, l.message, 'en', 'delivered', 'not_texted', 'no_consent', l.created_at,
            (array['new','new','new','contacted','booked','won','won','lost','spam'])[1 + (l.n * 7 + $4) % 9],
            case when l.n % 31 = 0 then 1 + l.n % 3 else 0 end,
            private.lead_search_text(l.name, l.phone, l.email, l.message, l.summary)
       from (select n,
                    first[1 + (n * 7 + $4) % array_length(first, 1)] || ' ' || last[1 + (n * 13 + $4) % array_length(last, 1)]
                      || case when n % 20000 = 7 then ' Quartermaine' else '' end as name,
                    '+1512' || lpad(((n * 7919 + $4) % 9000000 + 1000000)::text, 7, '0') as phone,
                    case when n % 3 = 0 then 'customer' || n || '@example.com' end as email,
                    case when n % 5 <> 0 then need[1 + (n * 3 + $4) % array_length(need, 1)] || ', ' || city[1 + n % array_length(city, 1)] end
                      as message,
                    case when n % 5 < 3 then jsonb_build_object('need', need[1 + (n * 3 + $4) % array_length(need, 1)],
                                                                'timing', timing[1 + n % array_length(timing, 1)],
                                                                'location', city[1 + n % array_length(city, 1)],
                                                                'constraints', jsonb_build_array('has a dog')) end as summary,
                    now() - interval '90 days' * (n::float8 / $3) + interval '1 second' as created_at
               from names, generate_series(1, $3::int) as n) as l`,
    [businessId, widgetId, count, seed],
  );
  await client.query("commit");
}

interface Case {
  label: string;
  client: pg.Client;
  sql: string;
  params: unknown[];
  /** The case whose p95 this one is compared with. */
  baseline?: string;
}

interface Timing {
  p95: number;
  median: number;
  rows: number;
}

/**
 * p95 and median in ms of every case, measured in rounds (each round runs every case once, after
 * two warm-up rounds) so that the noise of a shared machine falls on the cases and their baselines alike.
 */
async function measure(cases: Case[]): Promise<Map<string, Timing>> {
  const timings = new Map(cases.map((c) => [c.label, [] as number[]]));
  const rows = new Map<string, number>();
  for (let round = -2; round < runs; round++) {
    for (const c of cases) {
      const started = performance.now();
      const result = await c.client.query(c.sql, c.params);
      if (round >= 0) timings.get(c.label)!.push(performance.now() - started);
      rows.set(c.label, result.rowCount ?? 0);
    }
  }
  return new Map(cases.map((c) => {
    const sorted = timings.get(c.label)!.sort((a, b) => a - b);
    return [c.label, { p95: percentile(sorted, 95), median: percentile(sorted, 50), rows: rows.get(c.label)! }];
  }));
}

async function main(): Promise<void> {
  const admin = await connect();
  const member = await connect();
  const userId = randomUUID();
  await admin.query(
    `insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at, created_at, updated_at)
     values ($1, 'authenticated', 'authenticated', $2, '', now(), now(), now())`,
    [userId, `bench-${userId}@example.test`],
  );
  const bench = await createBenchBusiness(admin, { owner: userId });
  const neighbour = await createBenchBusiness(admin);
  try {
    const setupStarted = performance.now();
    await addLeads(admin, neighbour.businessId, neighbour.widgetId, neighbourLeads, 3);
    await addLeads(admin, bench.businessId, bench.widgetId, leads, 0);
    await admin.query("vacuum analyze public.leads");
    const setupMs = performance.now() - setupStarted;

    // The member's session, as PostgREST sets it up for a signed-in owner.
    await member.query("set role authenticated");
    await member.query("select set_config('request.jwt.claims', $1, false)", [JSON.stringify({ sub: userId, role: "authenticated" })]);

    const middle = await admin.query<{ created_at: Date; id: string }>(
      "select created_at, id from public.leads where business_id = $1 order by created_at desc, id desc offset $2 limit 1",
      [bench.businessId, Math.floor(leads / 2)]);
    const cursor = middle.rows[0];
    const search = (label: string, q: string, statuses: string[] | null = null): Case => ({
      label: `search: ${label}`, client: member, baseline: "baseline: plain indexed select of the first page",
      sql: "select * from public.search_leads($1, p_query => $2, p_statuses => $3, p_limit => $4)",
      params: [bench.businessId, q, statuses, PAGE],
    });
    const cases: Case[] = [
      { label: "baseline: plain indexed select of the first page", client: admin, params: [bench.businessId, PAGE],
        sql: "select * from public.leads where business_id = $1 order by created_at desc, id desc limit $2" },
      { label: "first page (search_leads as a member)", client: member, baseline: "baseline: plain indexed select of the first page",
        sql: "select * from public.search_leads($1, p_limit => $2)", params: [bench.businessId, PAGE] },
      { label: "baseline: plain keyset select halfway down", client: admin, params: [bench.businessId, cursor.created_at, cursor.id, PAGE],
        sql: "select * from public.leads where business_id = $1 and (created_at, id) < ($2, $3) order by created_at desc, id desc limit $4" },
      { label: "page halfway down (search_leads with a cursor)", client: member, baseline: "baseline: plain keyset select halfway down",
        sql: "select * from public.search_leads($1, p_cursor_created_at => $2, p_cursor_id => $3, p_limit => $4)",
        params: [bench.businessId, cursor.created_at, cursor.id, PAGE] },
      { label: "unread filter", client: member, baseline: "baseline: plain indexed select of the first page",
        sql: "select * from public.search_leads($1, p_attention => 'unread', p_limit => $2)", params: [bench.businessId, PAGE] },
      search("common word (\"sink\", ~7% of leads)", "sink"),
      search("rare surname (\"quartermaine\")", "quartermaine"),
      search("name and summary (\"maria austin\")", "maria austin"),
      search("phone with punctuation (\"(512) 555-12\")", "(512) 555-12"),
      search("a word nobody wrote (\"xylophone\")", "xylophone"),
      search("common word among won leads", "heater", ["won"]),
    ];
    const results = await measure(cases);

    const ms = (value: number) => `${value.toFixed(1).padStart(6)} ms`;
    console.log(`inbox benchmark: ${leads.toLocaleString("en-US")} leads over 90 days (+${neighbourLeads.toLocaleString("en-US")} ` +
      `of a neighbour), ${runs} rounds, page of ${PAGE}`);
    for (const c of cases) {
      const r = results.get(c.label)!;
      const base = c.baseline ? results.get(c.baseline)!.p95 : undefined;
      console.log(`  ${c.label.padEnd(56)} p95 ${ms(r.p95)}  median ${ms(r.median)}  ${String(r.rows).padStart(2)} rows` +
        (base ? `  p95 ratio to baseline ${(r.p95 / base).toFixed(2)}` : ""));
    }
    const worstSearch = Math.max(...cases.filter((c) => c.label.startsWith("search:")).map((c) => results.get(c.label)!.p95));
    goal("inbox first page p95 / plain select p95", results.get("first page (search_leads as a member)")!.p95 / results.get(cases[0].label)!.p95, GOALS.firstPageRatio, { tolerance: 0.25 });
    goal("inbox search p95 (worst of the searches)", worstSearch, GOALS.searchMs, { unit: "ms", tolerance: 0.25 });
    console.log(`  setup of ${(leads + neighbourLeads).toLocaleString("en-US")} leads: ${(setupMs / 1000).toFixed(1)} s`);
  } finally {
    await member.end();
    await dropBenchBusiness(admin, bench.businessId);
    await dropBenchBusiness(admin, neighbour.businessId);
    await admin.query("delete from auth.users where id = $1", [userId]);
    await admin.end();
  }
}

main().catch((error) => {
  console.error(`bench/inbox: ${(error as Error).message}`);
  process.exit(1);
});
