// Shared setup for the SMS loop integration tests: each test makes its own business,
// Twilio number, widget and phones through the running stack (service role), submits
// leads exactly as the widget does (anon key + an allowed Origin) and watches the
// Twilio emulator's phones.
import { randomInt, randomUUID } from "node:crypto";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import pg from "pg";
import ws from "ws";
import { loadStack, type Stack } from "../support/stack.ts";

export const stack: Stack = loadStack();
export const origin = "https://loop-tests.example";

// Node 20 has no global WebSocket; supabase-js needs one for its (unused here) realtime client.
const realtime = { transport: ws as unknown as typeof WebSocket };

export const service: SupabaseClient = createClient(stack.supabaseUrl, stack.serviceRoleKey, {
  auth: { persistSession: false, autoRefreshToken: false },
  realtime,
});

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

/** A US mobile number unlikely to collide with other tests (area codes 2xx-9xx, 555 exchange avoided). */
export function randomPhone(): string {
  return `+1${randomInt(201, 989)}${randomInt(200, 999)}${String(randomInt(0, 10000)).padStart(4, "0")}`;
}

export interface TestBusiness {
  id: string;
  widgetId: string;
  ownerPhone: string;
  twilioNumber: string;
}

export async function createBusiness(options: { maxQuestions?: number; timezone?: string; name?: string } = {}): Promise<TestBusiness> {
  const id = randomUUID();
  const widgetId = randomUUID();
  const ownerPhone = randomPhone();
  const twilioNumber = randomPhone();
  const name = options.name ?? `Loop Test Plumbing ${id.slice(0, 6)}`;
  const check = (what: string, error: { message: string } | null) => {
    if (error) throw new Error(`creating ${what}: ${error.message}`);
  };
  check("business", (await service.from("businesses").insert({
    id,
    name,
    owner_phone: ownerPhone,
    twilio_number: twilioNumber,
    timezone: options.timezone ?? "America/Chicago",
    max_questions: options.maxQuestions ?? 3,
    // Tests run at any hour: no quiet hours, and no duplicate-lead window.
    quiet_hours_start: "00:00",
    quiet_hours_end: "23:59:59.999999",
    duplicate_window_minutes: 0,
  })).error);
  check("subscription", (await service.from("subscriptions").insert({
    business_id: id,
    status: "active",
    current_period_start: new Date(Date.now() - 86_400_000).toISOString(),
    current_period_end: new Date(Date.now() + 29 * 86_400_000).toISOString(),
    conversation_quota: 1000,
  })).error);
  check("widget", (await service.from("widgets").insert({
    id: widgetId,
    business_id: id,
    allowed_origins: [origin],
    consent_text: `I agree to receive text messages from ${name} about my request. Msg & data rates may apply. Reply STOP to opt out.`,
    max_leads_per_ip_per_hour: 1000,
    max_leads_per_hour: 10000,
  })).error);
  await emulator("POST", "/emulator/numbers", { phoneNumber: twilioNumber, smsUrl: `${stack.functionsUrl}/twilio-inbound` });
  return { id, widgetId, ownerPhone, twilioNumber };
}

export async function deleteBusiness(b: TestBusiness | undefined): Promise<void> {
  if (b) await service.from("businesses").delete().eq("id", b.id);
}

export interface LeadInput {
  name?: string;
  phone: string;
  message?: string;
  email?: string | null;
  sms_consent?: boolean;
}

/** Inserts a lead exactly as the widget does: anon insert, no representation asked back. */
export async function submitLead(widgetId: string, lead: LeadInput, client = widgetClient()): Promise<void> {
  const { error, status } = await client.from("leads").insert({
    widget_id: widgetId,
    name: lead.name ?? "Test Lead",
    phone: lead.phone,
    email: lead.email ?? null,
    message: lead.message ?? "",
    source_url: `${origin}/contact`,
    sms_consent: lead.sms_consent ?? true,
    honeypot: "",
  });
  if (error) throw new Error(`lead insert failed (${status}): ${error.message}`);
}

export async function emulator<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(stack.twilioUrl + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

export interface EmulatedMessage {
  sid: string;
  from: string;
  to: string;
  body: string;
  status: string;
  direction: string;
  errorCode?: number | string | null;
}

export function phoneMessages(phone: string): Promise<EmulatedMessage[]> {
  return emulator<EmulatedMessage[]>("GET", `/emulator/messages?phone=${encodeURIComponent(phone)}`);
}

/** Messages the phone received (sent to it by anyone). */
export async function received(phone: string): Promise<EmulatedMessage[]> {
  return (await phoneMessages(phone)).filter((m) => m.to === phone);
}

export async function textFrom(from: string, to: string, body: string): Promise<string> {
  return (await emulator<{ sid: string }>("POST", "/emulator/inbound", { from, to, body })).sid;
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

/** Waits until `phone` has received at least `count` messages; returns them. */
export function waitForReceived(phone: string, count: number, timeoutMs?: number): Promise<EmulatedMessage[]> {
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
