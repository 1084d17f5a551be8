// What the webhook integration tests share: a receiver that verifies every request with the
// standardwebhooks library (as an integrator would), an owner with a business of their own, and the
// calls that drive webhook-deliver's schedule through its `now` instead of waiting.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import pg from "pg";
import { Webhook } from "standardwebhooks";
import ws from "ws";
import { createBusiness, createOwnerAccount, registerTwilioNumber, type TestBusiness } from "../support/fixtures.ts";
import { loadStack, type Stack } from "../support/stack.ts";

export const stack: Stack = loadStack();
export const origin = "https://webhook-tests.example";
const realtime = { transport: ws as unknown as typeof WebSocket };

export interface Delivery {
  id: string;
  timestamp: number;
  /** The parsed body when the signature verified with the endpoint's secret, else the verification error. */
  verified: { ok: true; body: Record<string, unknown> } | { ok: false; error: string };
  headers: Record<string, string>;
  /** What the receiver answered. */
  status: number;
}

export interface Receiver {
  url: string;
  received: Delivery[];
  /** The secret requests are verified with (set once the endpoint exists). */
  secret: string | null;
  close(): Promise<void>;
}

/** An HTTP receiver on loopback; `answer(n)` is the status for the n-th request (1-based). */
export async function startReceiver(answer: (n: number) => number): Promise<Receiver> {
  const receiver: Receiver = { url: "", received: [], secret: null, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let verified: Delivery["verified"];
      try {
        if (!receiver.secret) throw new Error("no secret yet");
        verified = { ok: true, body: new Webhook(receiver.secret).verify(body, headers) as Record<string, unknown> };
      } catch (err) {
        verified = { ok: false, error: (err as Error).message };
      }
      const status = answer(receiver.received.length + 1);
      receiver.received.push({ id: headers["webhook-id"], timestamp: Number(headers["webhook-timestamp"]), verified, headers, status });
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "stored" : `failing on purpose (${status})`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/leadloop`;
  receiver.close = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}

let pool: pg.Pool | null = null;
export function db(): pg.Pool {
  pool ??= new pg.Pool({ connectionString: stack.dbUrl, max: 3 });
  return pool;
}
export async function closeDb(): Promise<void> {
  await pool?.end();
  pool = null;
}

export interface Owner {
  client: SupabaseClient;
  business: TestBusiness;
}

/** A signed-in owner (supabase-js with their session) of a fresh business whose widget allows `origin`. */
export async function newOwner(): Promise<Owner> {
  const account = await createOwnerAccount(stack);
  const business = await createBusiness(db(), { owner: account.userId, origins: [origin], duplicateWindowMinutes: 0 });
  await registerTwilioNumber(stack, business);
  const client = createClient(stack.supabaseUrl, stack.anonKey, { auth: { persistSession: false, autoRefreshToken: false }, realtime });
  const { error } = await client.auth.signInWithPassword({ email: account.email, password: account.password });
  if (error) throw new Error(`owner sign-in failed: ${error.message}`);
  return { client, business };
}

/** Inserts a lead exactly as the widget does (anon key and an allowed Origin). */
export async function submitLead(widgetId: string, phone: string): Promise<void> {
  const widget = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Origin: origin } },
    realtime,
  });
  const { error } = await widget.from("leads").insert({
    widget_id: widgetId, name: "Webhook Lead", phone, message: "Roof leaks over the kitchen", source_url: `${origin}/quote`, sms_consent: true,
  });
  if (error) throw new Error(`lead insert failed: ${error.message}`);
}

/** Runs webhook-deliver as the database's wake does (service key), with the schedule's clock at `now`. */
export async function runDeliver(now?: Date, key = stack.serviceRoleKey): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.functionsUrl}/webhook-deliver`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, apikey: key, "content-type": "application/json" },
    body: JSON.stringify(now ? { now: now.toISOString() } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  created_at: Date;
  delivered_at: Date | null;
  response_status: number | null;
  error: string | null;
  endpoint_id: string;
}

/** The business's deliveries, oldest first (read as the platform, to see what the owner cannot change). */
export async function deliveriesOf(businessId: string): Promise<DeliveryRow[]> {
  const { rows } = await db().query<DeliveryRow>(
    `select id, status, attempts, next_attempt_at, created_at, delivered_at, response_status, error, endpoint_id
       from public.webhook_deliveries where business_id = $1 order by created_at, id`,
    [businessId],
  );
  return rows;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
