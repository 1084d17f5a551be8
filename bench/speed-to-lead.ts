// Speed to lead: from the widget's anon insert to the owner alert accepted by the Twilio
// emulator (its message.created event), with 1 lead at a time and with 20 submitted at
// once. The path measured: PostgREST-style insert -> triggers -> pg_net wake ->
// sms-dispatch -> Twilio Messages API.
//   LEADLOOP_INSTANCE=dev npx tsx bench/speed-to-lead.ts   (env BENCH_SINGLE_RUNS=40, BENCH_BURST_ROUNDS=3, BENCH_BURST=20)
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { Agent, fetch as undiciFetch } from "undici";
import ws from "ws";
import { TwilioEmulatorControl } from "../local/twilio/client.ts";
import { closeDb, createBusiness, db, deleteBusiness, origin, randomPhone, stack, submitLead, type TestBusiness } from "../tests/loop/loop-support.ts";
import { percentile } from "./_compare.ts";
import { waitUntilTextsSettle } from "./_db.ts";
import { goal } from "./_goals.ts";

const singleRuns = Number(process.env.BENCH_SINGLE_RUNS ?? 40); // 40, not 10: the p95 of ten samples is their maximum
const burstRounds = Number(process.env.BENCH_BURST_ROUNDS ?? 3);
const burstSize = Number(process.env.BENCH_BURST ?? 20);
// Noise: the largest deviation from the median in three full `npm run bench` runs on an otherwise idle 2-core
// machine since bursts start on settled texts (single p95 59.4, 50.7, 69.9 ms; burst p95 199, 241, 225 ms),
// rounded up to 5 %.
const SINGLE_TOLERANCE = 0.2;
const BURST_TOLERANCE = 0.15;
for (const [name, v] of Object.entries({ BENCH_SINGLE_RUNS: singleRuns, BENCH_BURST_ROUNDS: burstRounds, BENCH_BURST: burstSize })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
}

function describe(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1)! };
}

const control = new TwilioEmulatorControl(stack.twilioUrl);
const events = await control.events();

// Every lead is a different visitor, as on a real site: each comes from its own loopback address
// (127.0.0.0/8 is all loopback on Linux), so the gateway hands intake a distinct client address.
// From one address, 20 leads at once would queue on that address's rate-limit counter, which is the
// abuse case (bench/abuse.ts), not 20 customers.
const VISITORS = 200;
const visitors: SupabaseClient[] = Array.from({ length: VISITORS }, (_, i) => {
  const dispatcher = new Agent({ localAddress: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}` });
  const visitorFetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as string, { ...(init as object), dispatcher })) as unknown as typeof fetch;
  return createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Origin: origin }, fetch: visitorFetch },
    // Node 20 has no global WebSocket; supabase-js builds a (here unused) realtime client.
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
});
let nextVisitor = 0;

const insertTimes: { single: number[]; burst: number[] } = { single: [], burst: [] };
/** From the insert's reply (the lead is committed) to the alert accepted by Twilio: wake, function, claim, send. */
const afterCommit: { single: number[]; burst: number[] } = { single: [], burst: [] };

/** Submits `count` leads at once; resolves with each lead's insert-to-alert time in ms. */
async function burst(b: TestBusiness, count: number, inserts: number[] = [], afterInsert: number[] = []): Promise<number[]> {
  const leads = Array.from({ length: count }, () => randomPhone());
  return Promise.all(
    leads.map(async (phone) => {
      const alert = events.next((e) => e.type === "message.created" && e.message?.to === b.ownerPhone && e.message.body.includes(phone), 60_000);
      const started = performance.now();
      await submitLead(b, { name: "Bench Lead", phone, message: "Water heater leaking in the garage" }, visitors[nextVisitor++ % VISITORS]);
      const inserted = performance.now();
      inserts.push(inserted - started);
      await alert;
      const done = performance.now();
      afterInsert.push(done - inserted);
      return done - started;
    }),
  );
}

const business = await createBusiness({ name: "Speed To Lead Bench" });
try {
  // Boots the functions (first request starts the Deno workers) so cold start is not counted.
  await burst(business, 1);
  const single: number[] = [];
  for (let i = 0; i < singleRuns; i++) single.push(...(await burst(business, 1, insertTimes.single, afterCommit.single)));
  // Nor is the pool's growth: the first burst opens the gateway's pooled connections that single leads never
  // needed, each a SCRAM handshake and a backend that plans every trigger's statements on its first lead
  // (about 30 ms of CPU against 5 ms warm). A site that gets bursts keeps them open (30 s idle), so the
  // goal is the warm burst; the cold one is shown beside it.
  // Each burst starts once the texts before it are settled (sent, their delivery callbacks answered): back to
  // back, a round would run behind the last one's text-backs and callbacks, which is 60 leads in a second,
  // not 20 at once.
  const settle = () => waitUntilTextsSettle(db(), business.id, { timeoutMs: 30_000, pollMs: 50 });
  await settle();
  const cold = describe(await burst(business, burstSize));
  const bursts: number[] = [];
  for (let i = 0; i < burstRounds; i++) {
    await settle();
    bursts.push(...(await burst(business, burstSize, insertTimes.burst, afterCommit.burst)));
  }
  const one = describe(single);
  const many = describe(bursts);
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  console.log(`speed to lead (anon insert -> owner alert accepted by the Twilio emulator), instance ${stack.instance}`);
  console.log(`  1 lead at a time   n=${one.n}  p50 ${ms(one.p50)}  p95 ${ms(one.p95)}  max ${ms(one.max)}`);
  console.log(`  ${burstSize} leads at once  n=${many.n}  p50 ${ms(many.p50)}  p95 ${ms(many.p95)}  max ${ms(many.max)}`);
  console.log(`  (the first ${burstSize} at once, on a pool that grows for them: p50 ${ms(cold.p50)}  p95 ${ms(cold.p95)}; not a goal)`);
  console.log(`  burst / single: p50 x${(many.p50 / one.p50).toFixed(2)}, p95 x${(many.p95 / one.p95).toFixed(2)}`);
  const ins1 = describe(insertTimes.single);
  const insN = describe(insertTimes.burst);
  console.log(`  where the time goes: the insert request (REST + intake triggers + commit): single p50 ${ms(ins1.p50)} p95 ${ms(ins1.p95)}; burst p50 ${ms(insN.p50)} p95 ${ms(insN.p95)}`);
  const after1 = describe(afterCommit.single);
  const afterN = describe(afterCommit.burst);
  console.log(`                     after the insert's reply (wake, function, claim, Twilio): single p50 ${ms(after1.p50)} p95 ${ms(after1.p95)}; burst p50 ${ms(afterN.p50)} p95 ${ms(afterN.p95)}`);
  // Outbox share: from the lead's transaction (created_at) to Twilio accepting (sent_at).
  const { rows } = await db().query(
    "select extract(epoch from sent_at - created_at) * 1000 as ms from public.messages where business_id = $1 and kind = 'owner_alert' and sent_at is not null",
    [business.id],
  );
  const outbox = describe(rows.map((r: { ms: string }) => Number(r.ms)));
  console.log(`  outbox (lead transaction start -> Twilio accepted, all alerts): p50 ${ms(outbox.p50)} p95 ${ms(outbox.p95)}`);
  // Issue 13 goal 4.
  goal("speed to lead p95, 1 lead at a time", one.p95, 100, { unit: "ms", tolerance: SINGLE_TOLERANCE });
  goal(`speed to lead p95, ${burstSize} leads at once`, many.p95, 300, { unit: "ms", tolerance: BURST_TOLERANCE });
} finally {
  events.close();
  await deleteBusiness(business);
  await closeDb();
}
