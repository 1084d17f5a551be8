// Shared setup for the SMS loop integration tests: each test makes its own business, Twilio
// number and widget (tests/support/fixtures.ts) and its own phones, submits leads exactly as
// the widget does (anon key + an allowed Origin) and watches the Twilio emulator's phones.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import pg from "pg";
import ws from "ws";
import {
  createBusiness as createFixtureBusiness,
  deleteBusiness as deleteFixtureBusiness,
  randomPhone,
  registerTwilioNumber,
  type TestBusiness,
  zoneWhereItIs as fixtureZoneWhereItIs,
} from "../support/fixtures.ts";
import { loadStack, type Stack } from "../support/stack.ts";
import { type EmulatorMessage, TwilioEmulatorControl } from "../../local/twilio/client.ts";

export const stack: Stack = loadStack();
export const origin = "https://loop-tests.example";

// Node 20 has no global WebSocket; supabase-js needs one for its (unused here) realtime client.
const realtime = { transport: ws as unknown as typeof WebSocket };

/** The widget's client: anon key, no session, and the Origin a browser would send. */
export function widgetClient(): SupabaseClient {
  return createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Origin: origin } },
    realtime,
  });
}

let pool: pg.Pool | null = null;
export function db(): pg.Pool {
  pool ??= new pg.Pool({ connectionString: stack.dbUrl, max: 4 });
  return pool;
}
export async function closeDb(): Promise<void> {
  await pool?.end();
  pool = null;
}

export { randomPhone, type TestBusiness };

/** A zone where the local time now is nearest `local` (e.g. "02:00" for a lead who must not be texted now). */
export function zoneWhereItIs(local: string): Promise<string> {
  return fixtureZoneWhereItIs(db(), local);
}

/** A business the stack can text from: the shared fixture, allowed on this file's origin, number bought on the emulator. */
export async function createBusiness(options: { maxQuestions?: number; timezone?: string; name?: string } = {}): Promise<TestBusiness> {
  // No duplicate-lead window: every submission does the full intake work.
  const business = await createFixtureBusiness(db(), { ...options, origins: [origin], duplicateWindowMinutes: 0, quota: 1000, leadsPerHour: 10_000 });
  await registerTwilioNumber(stack, business);
  return business;
}

export async function deleteBusiness(b: TestBusiness | undefined): Promise<void> {
  if (b) await deleteFixtureBusiness(db(), b.id);
}

export interface LeadInput {
  name?: string;
  phone: string;
  message?: string;
  email?: string | null;
  sms_consent?: boolean;
  /** The form's language, as the widget sends it (left out: not sent). */
  locale?: "en" | "es";
  /** The zone the lead's browser reports; default: the business's daytime zone, so the lead is texted at once. */
  reported_timezone?: string | null;
}

/** Inserts a lead exactly as the widget does: anon insert, no representation asked back. */
export async function submitLead(
  business: Pick<TestBusiness, "widgetId" | "leadTimezone">,
  lead: LeadInput,
  client = widgetClient(),
): Promise<void> {
  const { error, status } = await client.from("leads").insert({
    widget_id: business.widgetId,
    name: lead.name ?? "Test Lead",
    phone: lead.phone,
    email: lead.email ?? null,
    message: lead.message ?? "",
    source_url: `${origin}/contact`,
    sms_consent: lead.sms_consent ?? true,
    honeypot: "",
    ...(lead.locale ? { locale: lead.locale } : {}),
    reported_timezone: lead.reported_timezone === undefined ? business.leadTimezone : lead.reported_timezone,
  });
  if (error) throw new Error(`lead insert failed (${status}): ${error.message}`);
}

/** The Twilio emulator's control API: its phones, inbound texts, webhook log and faults. */
export const twilio = new TwilioEmulatorControl(stack.twilioUrl.replace(/\/+$/, ""));

/** Messages the phone received (sent to it by anyone). */
export async function received(phone: string): Promise<EmulatorMessage[]> {
  return (await twilio.messages(phone)).filter((m) => m.to === phone);
}

/** The lead texts the business; the emulator posts it, signed, to the number's webhook. */
export async function textFrom(from: string, to: string, body: string): Promise<string> {
  return (await twilio.inbound({ from, to, body })).sid;
}

/**
 * Waits until the emulator has posted `count` inbound webhooks for `sid` and returns them: the
 * proof that a text reached twilio-inbound and what it answered (silence after it is then the
 * function's choice, not a lost webhook).
 */
export function inboundWebhooks(sid: string, count = 1): Promise<Awaited<ReturnType<TwilioEmulatorControl["webhooks"]>>> {
  return waitFor(`${count} inbound webhook(s) for ${sid}`, async () => {
    const posted = (await twilio.webhooks(sid)).filter((w) => w.kind === "inbound");
    return posted.length >= count ? posted : null;
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

/**
 * Waits until nothing is being sent or due now (other tests' texts included): a fault injected after
 * this hits the texts the test makes next, not leftovers from earlier ones.
 */
export function waitForOutboxIdle(timeoutMs?: number): Promise<true> {
  return waitFor("the outbox to be idle", async () => {
    const { rows } = await db().query(
      "select count(*)::int as n from public.messages where status = 'sending' or (status = 'queued' and next_attempt_at <= now() and send_after <= now())",
    );
    return rows[0].n === 0 || null;
  }, timeoutMs);
}

/** Waits until `phone` has received at least `count` messages; returns them. */
export function waitForReceived(phone: string, count: number, timeoutMs?: number): Promise<EmulatorMessage[]> {
  return waitFor(`${count} message(s) to ${phone}`, async () => {
    const got = await received(phone);
    return got.length >= count ? got : null;
  }, timeoutMs);
}

/** Calls an edge function with the service role, as the database's pg_net wakes do. */
export async function invokeFunction(name: "sms-dispatch" | "summarize"): Promise<Record<string, number>> {
  const res = await fetch(`${stack.functionsUrl}/${name}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.serviceRoleKey}`, "Content-Type": "application/json" },
    body: "{}",
  });
  if (!res.ok) throw new Error(`${name}: ${res.status} ${await res.text()}`);
  return res.json();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
