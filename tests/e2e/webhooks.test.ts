// Settings > Webhooks in the browser: an owner adds an endpoint and copies its secret (shown once), a lead
// arrives and its delivery shows up live in the log, a failed delivery is resent, the endpoint is edited,
// turned off, its secret rotated and it is deleted; staff are told it is the owner's. Usable at 390 px and
// free of serious axe violations at every step that shows something new.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { createClient } from "@supabase/supabase-js";
import pg from "pg";
import type { Browser } from "playwright-core";
import WebSocket from "ws";
import { createOwnerAccount, deleteBusiness } from "../support/fixtures.ts";
import type { Stack } from "../support/stack.ts";
import { startReceiver, type Receiver } from "../webhooks/support.ts";
import { assertUsable } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, type OwnBusiness, SCREENSHOTS, signIn, TIMEOUT, uniquePhone } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;
let receiver: Receiver;
let own: OwnBusiness | null = null;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
  // The first answer fails, so the log shows a retry to resend; every later one succeeds.
  receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
});

after(async () => {
  await browser?.close();
  await receiver?.close();
  if (own) {
    const db = new pg.Client({ connectionString: stack.dbUrl });
    await db.connect();
    await deleteBusiness(db, own.businessId).finally(() => db.end());
  }
});

async function submitLead(origin: string, widgetId: string, phone: string): Promise<void> {
  const widget = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Origin: origin } },
    realtime: { transport: WebSocket as never },
  });
  const { error } = await widget.from("leads").insert({ widget_id: widgetId, name: "Webhook Visitor", phone, message: "Gutter came loose", sms_consent: false });
  assert.equal(error, null);
}

test("an owner adds an endpoint, copies its secret once, and watches deliveries arrive, fail and get resent", async () => {
  const origin = new URL(stack.dashboardUrl!).origin;
  own = await createOwnBusiness(stack, origin);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signIn(page, stack.dashboardUrl!, own.email, own.password);
  await page.locator(".live-live").waitFor({ timeout: TIMEOUT });
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("link", { name: "Webhooks" }).click();
  await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor({ timeout: TIMEOUT });
  await page.getByText("No endpoints yet").waitFor();
  await assertUsable(page, "the empty webhooks page");

  // The database refuses what it must; its reason lands on the field.
  const add = page.locator("section", { has: page.getByRole("heading", { name: "Add an endpoint" }) });
  await add.getByLabel("Endpoint URL").fill("ftp://files.example.com/in");
  await add.getByRole("button", { name: "Add endpoint" }).click();
  await add.getByText("The address must start with https://").first().waitFor({ timeout: TIMEOUT });

  await add.getByLabel("Endpoint URL").fill(receiver.url);
  await add.getByLabel("Description").fill("Test CRM");
  for (const type of ["lead.updated", "conversation.completed", "summary.ready", "lead.opted_out"]) await add.getByLabel(type).uncheck();
  await add.getByRole("button", { name: "Add endpoint" }).click();

  const reveal = page.getByRole("region", { name: "Copy the signing secret now" });
  await reveal.waitFor({ timeout: TIMEOUT });
  const secret = await reveal.getByRole("textbox", { name: "Signing secret" }).inputValue();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  receiver.secret = secret;
  await reveal.getByRole("button", { name: "Copy secret" }).click();
  await reveal.getByText(/^(Copied|Selected: press Ctrl\+C)/).waitFor();
  await assertUsable(page, "the webhooks page showing a new secret");
  await reveal.getByRole("button", { name: "Done" }).click();
  assert.equal(await page.getByText(secret).count(), 0, "the secret is gone once dismissed");

  const card = page.locator(".webhook-endpoint", { hasText: receiver.url });
  await card.getByText("on", { exact: true }).waitFor();
  assert.deepEqual(await card.getByRole("list", { name: "Events sent" }).getByRole("listitem").allTextContents(), ["lead.created"]);

  // A lead arrives: its delivery appears live, first failing, then resent and delivered.
  await submitLead(origin, own.widgetId, uniquePhone().e164);
  const row = page.locator(".webhook-log-row", { hasText: "lead.created" });
  await row.getByText("retrying · 500").waitFor({ timeout: TIMEOUT });
  await row.getByRole("button", { name: /^Resend lead\.created/ }).click();
  await row.getByText("delivered · 200").waitFor({ timeout: TIMEOUT });
  assert.equal(receiver.received.length, 2);
  assert.deepEqual(receiver.received.map((r) => r.verified.ok), [true, true]);
  assert.equal(receiver.received[1].id, receiver.received[0].id, "the resend carries the same webhook-id");
  await row.getByText("Details").click();
  await row.getByText("stored").waitFor();
  await row.getByText(receiver.received[0].id).waitFor();
  await assertUsable(page, "the webhooks page with a delivery log");
  await page.screenshot({ path: join(SCREENSHOTS, "webhooks.png"), fullPage: true });

  // Edit, turn off, rotate, delete.
  await card.getByRole("button", { name: "Edit" }).click();
  await card.getByLabel("lead.opted_out").check();
  await card.getByRole("button", { name: "Save endpoint" }).click();
  await card.getByRole("list", { name: "Events sent" }).getByText("lead.opted_out").waitFor({ timeout: TIMEOUT });
  await card.getByLabel("Send events to this endpoint").uncheck();
  await card.getByText("off", { exact: true }).waitFor({ timeout: TIMEOUT });
  await card.getByRole("button", { name: "Rotate secret" }).click();
  await card.getByRole("button", { name: "Rotate secret" }).click();
  await page.getByText("The old secret keeps working for 24 hours").waitFor({ timeout: TIMEOUT });
  const rotated = await page.getByRole("textbox", { name: "Signing secret" }).inputValue();
  assert.ok(rotated.startsWith("whsec_") && rotated !== secret);
  await page.getByRole("button", { name: "Done" }).click();
  await card.getByRole("button", { name: "Delete" }).click();
  await card.getByRole("button", { name: "Delete endpoint" }).click();
  await page.getByText("No endpoints yet").waitFor({ timeout: TIMEOUT });
  await context.close();
});

test("staff see that webhooks are the owner's, and none of them", async () => {
  assert.ok(own, "runs after the owner's test, on its business");
  const staff = await createOwnerAccount(stack);
  const db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  try {
    await db.query("insert into public.business_members (business_id, user_id, role) values ($1, $2, 'staff')", [own.businessId, staff.userId]);
  } finally {
    await db.end();
  }
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await signIn(page, stack.dashboardUrl!, staff.email, staff.password);
  await page.locator(".live-live").waitFor({ timeout: TIMEOUT });
  await page.goto(new URL("/settings/webhooks", stack.dashboardUrl).href);
  await page.getByText("Only the business owner can see and manage webhooks.").waitFor({ timeout: TIMEOUT });
  assert.equal(await page.getByRole("heading", { name: "Add an endpoint" }).count(), 0);
  await assertUsable(page, "the webhooks page for staff");
  await context.close();
});
