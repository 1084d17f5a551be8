// Shared setup for the database benchmarks: a connection to the instance in LEADLOOP_INSTANCE and a
// throwaway business that is removed afterwards (bulk rows are deleted without per-row cascades).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { instanceConfig } from "../local/config.ts";

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

export function randomPhone(prefix: string): string {
  return prefix + String(Math.floor(Math.random() * 1e7)).padStart(7, "0");
}

/** A business that texts every lead back at any hour, with limits high enough for a benchmark. */
export async function createBenchBusiness(client: pg.Client): Promise<BenchBusiness> {
  const businessId = randomUUID();
  const widgetId = randomUUID();
  const origin = "https://bench.example";
  await client.query(
    `insert into public.businesses (id, name, owner_phone, twilio_number, quiet_hours_start, quiet_hours_end, duplicate_window_minutes)
     values ($1, 'Bench Co', $2, $3, '00:00', '23:59:59.999999', 5)`,
    [businessId, randomPhone("+1556"), randomPhone("+1557")],
  );
  await client.query(
    `insert into public.subscriptions (business_id, status, current_period_start, current_period_end, conversation_quota)
     values ($1, 'active', now() - interval '1 day', now() + interval '29 days', 1000000)`,
    [businessId],
  );
  await client.query(
    `insert into public.widgets (id, business_id, allowed_origins, consent_text, max_leads_per_ip_per_hour, max_leads_per_hour)
     values ($1, $2, $3, 'Texts from Bench Co about your request. Msg & data rates may apply. Reply STOP to opt out.', 1000, 100000)`,
    [widgetId, businessId, [origin]],
  );
  return { businessId, widgetId, origin };
}

/** Removes the bench business and everything under it; replica mode skips per-row cascade triggers. */
export async function dropBenchBusiness(client: pg.Client, businessId: string): Promise<void> {
  await client.query("begin");
  await client.query("set local session_replication_role = replica");
  for (const table of ["messages", "opt_outs", "conversations", "leads", "widgets", "subscriptions", "business_members", "businesses"]) {
    const column = table === "businesses" ? "id" : "business_id";
    await client.query(`delete from public.${table} where ${column} = $1`, [businessId]);
  }
  await client.query("commit");
}

export function formatRate(count: number, ms: number): string {
  return `${((count * 1000) / ms).toFixed(0)}/s`;
}
