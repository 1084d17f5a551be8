// Data and browser helpers for the e2e tests. Each test makes its own owner, business and widget
// (tests/support/fixtures.ts) so tests never share state with each other or with the seed.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import pg from "pg";
import { chromium, type Browser, type Page } from "playwright-core";
import WebSocket from "ws";
import { createBusiness, createOwnerAccount, registerTwilioNumber, unconfirmOwnerPhone, type TestBusiness } from "../support/fixtures.ts";
import { loadStack, type Stack } from "../support/stack.ts";

export const TIMEOUT = 20_000;
/** Where the e2e tests keep their screenshots. */
export const SCREENSHOTS = join(process.cwd(), "test-results", "e2e");

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** A test file's before hook: the test stack (it must serve the dashboard) and a browser; its after hook closes the browser. */
export async function openBrowserStack(): Promise<{ stack: Stack; browser: Browser }> {
  const stack = loadStack();
  assert.ok(stack.dashboardUrl, "stack.json has no dashboardUrl");
  mkdirSync(SCREENSHOTS, { recursive: true });
  return { stack, browser: await launchBrowser() };
}

/** A phone number no other test uses: a real US area code with random subscriber digits (never an N11, 555 or 976 exchange). */
export function uniquePhone(): { typed: string; e164: string } {
  let line = String(2_000_000 + (randomBytes(4).readUInt32BE(0) % 7_999_999));
  if (/^(.11|555|976)/.test(line)) line = String(Number(line) + 10_000);
  return { typed: `(415) ${line.slice(0, 3)}-${line.slice(3)}`, e164: `+1415${line}` };
}

export interface OwnBusiness {
  ownerPhone: string;
  email: string;
  password: string;
  userId: string;
  businessId: string;
  businessName: string;
  twilioNumber: string;
  widgetId: string;
  admin: SupabaseClient;
}

/** A fresh owner account with its own business (tests/support/fixtures.ts) whose widget allows `origin`. */
export async function createOwnBusiness(stack: Stack, origin: string, options: { ownerPhoneVerified?: boolean } = {}): Promise<OwnBusiness> {
  const owner = await createOwnerAccount(stack);
  const db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  let business: TestBusiness;
  try {
    business = await createBusiness(db, { owner: owner.userId, name: `E2E Roofing ${owner.userId.slice(0, 8)}`, origins: [origin] });
    await registerTwilioNumber(stack, business);
    if (options.ownerPhoneVerified === false) await unconfirmOwnerPhone(db, business.id);
  } finally {
    await db.end();
  }
  // Node 20 has no global WebSocket, which supabase-js needs at construction even when unused.
  const admin = createClient(stack.supabaseUrl, stack.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  return {
    ...owner,
    ownerPhone: business.ownerPhone,
    businessId: business.id,
    businessName: business.name,
    twilioNumber: business.twilioNumber,
    widgetId: business.widgetId,
    admin,
  };
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
