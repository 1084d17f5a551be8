// Realtime latency from commit to the supabase-js callback, through the whole gateway, with 1 and with 50
// subscribers. Every subscriber is its own signed-in owner (own socket, own claims), so each change costs
// one RLS check per subscriber, which is the expensive case; a 50-sockets-one-user run shows the cheap one.
//
// bench/gateway.ts runs it after the REST figures, so both come from one run.
import { randomUUID } from "node:crypto";
import type { SupabaseClient } from "@supabase/supabase-js";
import { instanceConfig } from "../local/config.ts";
import { createTenantFixture, realtimeClient, startTestGateway, userToken, type RealtimeHarness, type TenantFixture } from "../local/gateway/realtime/test-harness.ts";

const ROWS = Number(process.env.BENCH_REALTIME_ROWS ?? 100);
// Inserts are spaced by a random 30-130 ms so commits land at random points of the 50 ms poll cycle
// (a fixed gap locks onto the cycle and measures one phase of it).
const GAP_MS = () => 30 + Math.random() * 100;
const WARMUP_ROWS = 5;

interface Scenario {
  label: string;
  subscribers: number;
  distinctUsers: boolean;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

async function subscribe(client: SupabaseClient, table: string, onInsert: (title: string) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    client
      .channel(`bench-${randomUUID()}`)
      .on("postgres_changes", { event: "INSERT", schema: "public", table }, (payload) => onInsert(String(payload.new.title)))
      .on("system", {}, (p: { extension?: string; status?: string; message?: string }) => {
        if (p.extension !== "postgres_changes") return;
        if (p.status === "ok") resolve();
        else reject(new Error(p.message));
      })
      .subscribe();
  });
}

async function runScenario(h: RealtimeHarness, f: TenantFixture, scenario: Scenario): Promise<number[]> {
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  const clients: SupabaseClient[] = [];
  try {
    for (let i = 0; i < scenario.subscribers; i++) {
      const userId = scenario.distinctUsers && i > 0 ? randomUUID() : f.userA;
      if (userId !== f.userA) {
        await f.db.query(`insert into public.${f.members} (business_id, user_id) values ($1, $2)`, [f.businessA, userId]);
      }
      const client = await realtimeClient(h, userToken(userId, h.config));
      clients.push(client);
      await subscribe(client, f.items, (title) => {
        const start = committedAt.get(title);
        if (start !== undefined) latencies.push(performance.now() - start);
      });
    }
    // Warm-up rows (not measured): first-use costs of the plans and sockets are not the steady state.
    for (let n = 0; n < WARMUP_ROWS; n++) {
      await f.db.query(`insert into public.${f.items} (business_id, title) values ($1, $2)`, [f.businessA, `warmup-${scenario.label}-${n}`]);
      await new Promise((r) => setTimeout(r, GAP_MS()));
    }
    for (let n = 0; n < ROWS; n++) {
      const title = `${scenario.label}-${n}`;
      await f.db.query(`insert into public.${f.items} (business_id, title) values ($1, $2)`, [f.businessA, title]);
      committedAt.set(title, performance.now()); // the insert's autocommit has returned: committed
      await new Promise((r) => setTimeout(r, GAP_MS()));
    }
    const expected = ROWS * scenario.subscribers;
    const deadline = Date.now() + 15_000;
    while (latencies.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (latencies.length < expected) throw new Error(`${scenario.label}: only ${latencies.length}/${expected} callbacks arrived`);
    return latencies.sort((a, b) => a - b);
  } finally {
    await Promise.all(clients.map((c) => c.removeAllChannels()));
  }
}

export async function measureRealtimeLatency(): Promise<void> {
  const config = instanceConfig();
  const h = await startTestGateway(0, config);
  const f = await createTenantFixture(config);
  const scenarios: Scenario[] = [
    { label: "1 subscriber", subscribers: 1, distinctUsers: true },
    { label: "50 subscribers, 50 users", subscribers: 50, distinctUsers: true },
    { label: "50 subscribers, 1 user", subscribers: 50, distinctUsers: false },
  ];
  const results: Array<{ label: string; p50: number; p95: number; max: number; samples: number }> = [];
  try {
    for (const scenario of scenarios) {
      const sorted = await runScenario(h, f, scenario);
      results.push({ label: scenario.label, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1], samples: sorted.length });
    }
  } finally {
    await f.drop();
    await h.stop();
  }
  console.log(`realtime latency, commit -> supabase-js callback (${ROWS} inserts per scenario, 30-130 ms apart, WAL polled every 50 ms)`);
  for (const r of results) {
    console.log(`  ${r.label.padEnd(28)} p50 ${r.p50.toFixed(1).padStart(7)} ms   p95 ${r.p95.toFixed(1).padStart(7)} ms   max ${r.max.toFixed(1).padStart(7)} ms   (${r.samples} callbacks)`);
  }
  const base = results[0];
  for (const r of results.slice(1)) {
    console.log(`  ${r.label}: p50 ${(r.p50 / base.p50).toFixed(2)}x, p95 ${(r.p95 / base.p95).toFixed(2)}x the 1-subscriber figures`);
  }
}
