// Data and browser helpers for the e2e tests. Each test makes its own owner, business and widget
// through the public APIs (sign-up with the anon key, rows with the service key) so tests never
// share state with each other or with the seed.
import { randomBytes } from "node:crypto";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { chromium, type Browser, type Page } from "playwright-core";
import WebSocket from "ws";
import type { Stack } from "../support/stack.ts";

export const TIMEOUT = 20_000;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** A phone number no other test uses: a real US area code with random subscriber digits. */
export function uniquePhone(): { typed: string; e164: string } {
  const line = String(2_000_000 + (randomBytes(4).readUInt32BE(0) % 7_999_999));
  return { typed: `(415) ${line.slice(0, 3)}-${line.slice(3)}`, e164: `+1415${line}` };
}

/** Node 20 has no global WebSocket, which supabase-js needs at construction even when unused. */
function nodeClient(url: string, key: string): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
}

export interface OwnBusiness {
  email: string;
  password: string;
  userId: string;
  businessId: string;
  businessName: string;
  twilioNumber: string;
  widgetId: string;
  admin: SupabaseClient;
}

/** A fresh owner account with its own business, active subscription and widget allowed on `origin`. */
export async function createOwnBusiness(stack: Stack, origin: string): Promise<OwnBusiness> {
  const tag = randomBytes(4).toString("hex");
  const email = `e2e-owner-${tag}@example.test`;
  const password = `e2e-password-${tag}`;
  const anon = nodeClient(stack.supabaseUrl, stack.anonKey);
  const signUp = await anon.auth.signUp({ email, password });
  if (signUp.error || !signUp.data.user) throw new Error(`sign-up failed: ${signUp.error?.message ?? "no user"}`);
  const userId = signUp.data.user.id;

  const admin = nodeClient(stack.supabaseUrl, stack.serviceRoleKey);
  const businessName = `E2E Roofing ${tag}`;
  // A sending number of its own, and texting allowed all day so the run does not depend on the clock.
  const business = await admin.from("businesses")
    .insert({
      name: businessName, owner_phone: uniquePhone().e164, twilio_number: uniquePhone().e164, timezone: "America/Chicago",
      quiet_hours_start: "00:00", quiet_hours_end: "23:59",
    })
    .select("id, twilio_number").single();
  if (business.error) throw new Error(`business insert failed: ${business.error.message}`);
  const businessId = business.data.id as string;
  const twilioNumber = business.data.twilio_number as string;
  // Like buying a number in the Twilio console: without it every text from this business fails 21606.
  const numberResponse = await fetch(`${stack.twilioUrl.replace(/\/+$/, "")}/emulator/numbers`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ phoneNumber: twilioNumber, smsUrl: `${stack.functionsUrl}/twilio-inbound`, friendlyName: businessName }),
  });
  if (!numberResponse.ok) throw new Error(`registering ${twilioNumber} with the Twilio emulator failed: ${numberResponse.status}`);
  const steps = [
    admin.from("business_members").insert({ business_id: businessId, user_id: userId, role: "owner" }),
    admin.from("subscriptions").insert({
      business_id: businessId, status: "active", conversation_quota: 50,
      current_period_start: new Date(Date.now() - 86_400_000).toISOString(),
      current_period_end: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    }),
  ];
  for (const step of steps) {
    const { error } = await step;
    if (error) throw new Error(`fixture insert failed: ${error.message}`);
  }
  const widget = await admin.from("widgets").insert({
    business_id: businessId,
    allowed_origins: [origin],
    consent_text: `I agree to receive text messages from ${businessName} about my request. Msg & data rates may apply. Reply STOP to opt out.`,
    max_leads_per_ip_per_hour: 100,
  }).select("id").single();
  if (widget.error) throw new Error(`widget insert failed: ${widget.error.message}`);
  return { email, password, userId, businessId, businessName, twilioNumber, widgetId: widget.data.id as string, admin };
}

export async function signIn(page: Page, dashboardUrl: string, email: string, password: string): Promise<void> {
  await page.goto(dashboardUrl);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/**
 * A customer's own page that embeds the widget with data-target, the way a site builder would.
 * It is written into a document already loaded from the dashboard origin (which the fixture's
 * widget allows) so the browser treats it like any page served from that host.
 */
export async function openEmbedPage(page: Page, stack: Stack, widgetId: string, key = stack.anonKey): Promise<void> {
  const origin = new URL(stack.dashboardUrl!).origin;
  const attr = (value: string) => value.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  await page.goto(`${origin}/config.json`);
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Roof estimate</title></head>
<body style="font-family: sans-serif; background:#fafafa; padding: 24px">
  <h1>Get a free roof estimate</h1>
  <script src="/widget/leadloop-widget.js" data-widget-id="${attr(widgetId)}" data-supabase-url="${attr(stack.supabaseUrl)}"
          data-supabase-key="${attr(key)}" data-target="#quote" async></script>
  <div id="quote" style="max-width:460px"></div>
</body></html>`);
}
