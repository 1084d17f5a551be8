// Delivery that survives faults: leads submitted as the widget does while the Twilio emulator fails a
// share of sends, measured from each insert to the owner's alert accepted by the emulator.
//   baseline  BENCH_BASELINE_LEADS (30) leads, no faults: the reference for the ratios below
//   500s      BENCH_500_LEADS (100) leads over 10 s, 30% of sends answered HTTP 500 (goal: every alert
//             within 60 s, p95 within 5 s)
//   outage    BENCH_FAULT_LEADS (200) leads over 10 s, 30% of sends failing (half 500s, half held past
//             the functions' 10 s timeout, of which half were taken by Twilio before the answer was
//             lost), and every edge function killed once mid-run (SIGKILL, as a crash or a redeploy):
//             printed are leads saved, alerts delivered (exactly once each),
//             duplicates and lost (both must be 0), p50/p95 time to the alert.
//   LEADLOOP_INSTANCE=dev npx tsx bench/faults.ts
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { instanceConfig } from "../local/config.ts";
import { noGoal } from "./_goals.ts";
import type { EmulatorMessage } from "../local/twilio/client.ts";
import {
  closeDb,
  createBusiness,
  db,
  deleteBusiness,
  randomPhone,
  received,
  sleep,
  submitLead,
  type TestBusiness,
  twilio,
  waitForOutboxIdle,
  widgetClient,
} from "../tests/loop/loop-support.ts";

const counts = {
  baseline: Number(process.env.BENCH_BASELINE_LEADS ?? 30),
  http500: Number(process.env.BENCH_500_LEADS ?? 100),
  outage: Number(process.env.BENCH_FAULT_LEADS ?? 200),
};
for (const [name, v] of Object.entries(counts)) if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: a positive integer is needed`);
const spreadMs = 10_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

interface Outcome {
  saved: number;
  delivered: number;
  duplicates: number;
  lost: number;
  p50: number;
  p95: number;
  max: number;
  /** How many alerts took over 10 s, and why (attempts and last error), when any did. */
  slowNote?: string;
}

/** Kills every edge function worker of the instance (the runner starts new ones on the next request). */
function killFunctionWorkers(): number {
  const { stateDir } = instanceConfig();
  let killed = 0;
  for (const file of readdirSync(stateDir).filter((f) => /^functions-.*\.pids$/.test(f))) {
    for (const pid of JSON.parse(readFileSync(join(stateDir, file), "utf8")) as number[]) {
      try {
        process.kill(pid, "SIGKILL");
        killed++;
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

/** Submits `count` leads evenly over `spreadMs`; waits for their owner alerts (up to `patienceMs`). */
async function scenario(b: TestBusiness, count: number, patienceMs: number, midway?: () => void): Promise<Outcome> {
  const client = widgetClient();
  const submittedAt = new Map<string, number>();
  let saved = 0;
  const submissions = Array.from({ length: count }, async (_, i) => {
    await sleep((i * spreadMs) / count);
    const phone = randomPhone();
    const at = Date.now();
    try {
      await submitLead(b, { name: `Fault Lead ${i}`, phone, message: "Water heater leaking in the garage" }, client);
      submittedAt.set(phone, at);
      saved++;
    } catch (err) {
      console.error(`  lead ${i} not saved: ${(err as Error).message}`);
    }
  });
  if (midway) void sleep(spreadMs / 2).then(midway);
  await Promise.all(submissions);
  const deadline = Date.now() + patienceMs;
  let alerts: EmulatorMessage[] = [];
  const alertsFor = (phone: string) => alerts.filter((m) => m.body.includes(phone));
  while (Date.now() < deadline) {
    alerts = await received(b.ownerPhone);
    if ([...submittedAt.keys()].every((phone) => alertsFor(phone).length > 0)) break;
    await sleep(500);
  }
  await sleep(3000); // a duplicate would show up now
  alerts = await received(b.ownerPhone);
  const times: number[] = [];
  let duplicates = 0;
  let lost = 0;
  for (const [phone, at] of submittedAt) {
    const mine = alertsFor(phone);
    if (mine.length === 0) lost++;
    else times.push(Date.parse(mine[0].dateCreated) - at);
    duplicates += Math.max(0, mine.length - 1);
    if (mine.length > 1) {
      const { rows } = await db().query(
        `select m.twilio_sid, m.attempts, m.error_code, m.status, m.status_reason from public.messages m
          where m.business_id = $1 and m.kind = 'owner_alert' and m.body like '%' || $2 || '%'`,
        [b.id, phone],
      );
      console.error(`  duplicate alert for ${phone}: emulator ${mine.map((m) => `${m.sid}@${m.dateCreated}`).join(", ")}; database ${JSON.stringify(rows)}`);
    }
  }
  times.sort((x, y) => x - y);
  // Why the slow ones were slow: how many attempts they took and what the last failure was.
  let slowNote: string | undefined;
  const slow = [...submittedAt].filter(([phone, at]) => {
    const first = alertsFor(phone)[0];
    return first && Date.parse(first.dateCreated) - at > 10_000;
  }).map(([phone]) => phone);
  if (slow.length > 0) {
    const { rows: why } = await db().query(
      `select attempts, coalesce(error_code, '-') as error_code, count(*)::int as n from public.messages m
        where m.business_id = $1 and m.kind = 'owner_alert' and exists (select 1 from unnest($2::text[]) p where m.body like '%' || p || '%')
        group by 1, 2 order by 1, 2`,
      [b.id, slow],
    );
    slowNote = `alerts slower than 10 s: ${slow.length} (attempts/last error: ${why.map((r) => `${r.attempts}/${r.error_code} x${r.n}`).join(", ")})`;
  }
  const { rows } = await db().query(
    "select count(*) filter (where status in ('sent', 'delivered'))::int as delivered from public.messages where business_id = $1 and kind = 'owner_alert'",
    [b.id],
  );
  return { saved, delivered: rows[0].delivered, duplicates, lost, p50: percentile(times, 50), p95: percentile(times, 95), max: times.at(-1) ?? NaN, slowNote };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
function report(label: string, o: Outcome, baseline?: Outcome) {
  const ratio = baseline ? `  (p50 x${(o.p50 / baseline.p50).toFixed(1)}, p95 x${(o.p95 / baseline.p95).toFixed(1)} the baseline)` : "";
  console.log(`  ${label}`);
  console.log(`    leads saved ${o.saved}, owner alerts delivered ${o.delivered}, duplicates ${o.duplicates}, lost ${o.lost}`);
  console.log(`    time to the alert: p50 ${s(o.p50)}  p95 ${s(o.p95)}  max ${s(o.max)}${ratio}`);
  // Printed with its own scenario: printed while the run was going, it read as the previous one's.
  if (o.slowNote) console.log(`    ${o.slowNote}`);
}

const made: TestBusiness[] = [];
async function business(name: string) {
  const b = await createBusiness({ name });
  made.push(b);
  return b;
}

let failed = false;
try {
  await twilio.clearFaults();
  console.log(`faults (instance ${process.env.LEADLOOP_INSTANCE ?? "dev"}): insert -> owner alert accepted by the Twilio emulator`);
  const baseline = await scenario(await business("Faults Baseline"), counts.baseline, 60_000);
  report(`baseline: ${counts.baseline} leads over ${spreadMs / 1000} s, no faults`, baseline);

  await twilio.fault({ mode: "http500", rate: 0.3, seed: 15 });
  const http500 = await scenario(await business("Faults 500s"), counts.http500, 120_000);
  await twilio.clearFaults();
  report(`500s: ${counts.http500} leads over ${spreadMs / 1000} s, 30% of sends answered 500`, http500, baseline);
  const within = http500.lost === 0 && http500.max <= 60_000 && http500.p95 <= 5_000;
  console.log(`    goal (every alert within 60 s, p95 within 5 s): ${within ? "met" : "MISSED"}`);

  // Rules are tried in order: 15% of sends get a 500; 7.5% are held past the functions' timeout with
  // nothing created, 7.5% are created at Twilio and then held (the answer lost): only a lookup before
  // the resend keeps those from texting the owner twice.
  await twilio.fault({ mode: "http500", rate: 0.15, seed: 16 });
  await twilio.fault({ mode: "timeout", rate: 0.075 / 0.85, seed: 17, hangMs: 12_000 });
  await twilio.fault({ mode: "timeout", rate: 0.075 / 0.775, seed: 18, hangMs: 12_000, accepted: true });
  let killed = 0;
  const outage = await scenario(await business("Faults Outage"), counts.outage, 300_000, () => {
    killed = killFunctionWorkers();
  });
  await twilio.clearFaults();
  report(
    `outage: ${counts.outage} leads over ${spreadMs / 1000} s, 30% of sends failing (500s and timeouts), ${killed} function workers killed mid-run`,
    outage,
    baseline,
  );
  const exact = outage.duplicates === 0 && outage.lost === 0 && outage.delivered === outage.saved;
  console.log(`    every alert exactly once (duplicates 0, lost 0): ${exact ? "yes" : "NO"}`);
  failed = !within || !exact || http500.duplicates > 0;
  noGoal("issue 15's limits are absolute (every alert within 60 s, p95 within 5 s, none lost or doubled): missed, they fail this benchmark");
} finally {
  await twilio.clearFaults();
  // Let the lead texts still being retried finish before their businesses go.
  await waitForOutboxIdle(60_000).catch(() => console.error("  (the outbox was still busy; deleting anyway)"));
  for (const b of made) await deleteBusiness(b);
  await closeDb();
}
if (failed) process.exitCode = 1;
