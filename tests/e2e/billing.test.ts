// The billing page: an owner on the trial sees plan, usage and the plans, upgrades through Stripe's
// hosted Checkout (the emulator's page) and comes back to an active plan, live; a failed payment's
// grace is explained; staff see the page read-only. Usable at 390 px and axe-clean in each state.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { createOwnerAccount } from "../support/fixtures.ts";
import type { Stack } from "../support/stack.ts";
import { assertUsable } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, type OwnBusiness, SCREENSHOTS, signIn, TIMEOUT } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;
let db: pg.Client;
let own: OwnBusiness;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
  db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  // A new business is on the trial (what create_business starts).
  await db.query("delete from public.subscriptions where business_id = $1", [own.businessId]);
  await db.query("select private.start_trial($1)", [own.businessId]);
});

after(async () => {
  await db?.query("delete from public.businesses where id = $1", [own?.businessId]).catch(() => undefined);
  await db?.end();
  await browser?.close();
});

async function openBilling(page: Page, email: string, password: string) {
  await signIn(page, stack.dashboardUrl!, email, password);
  await page.locator(".live-live").waitFor({ timeout: TIMEOUT });
  await page.getByRole("link", { name: "Billing" }).click();
  await page.getByRole("heading", { name: "Billing", level: 1 }).waitFor({ timeout: TIMEOUT });
}

test("the owner upgrades from the trial through Checkout and comes back to the active plan", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await openBilling(page, own.email, own.password);
  const current = page.locator("section", { has: page.getByRole("heading", { name: "Current plan" }) });
  await current.getByText("Free trial").waitFor({ timeout: TIMEOUT });
  await current.getByText(/0\s+of 50 used/).waitFor();
  await current.getByText(/^Trial ends /).waitFor();
  assert.equal(await current.getByRole("meter").getAttribute("aria-valuetext"), "0 of 50 conversations used (0%)");
  await assertUsable(page, "billing page on the trial");
  await page.screenshot({ path: join(SCREENSHOTS, "billing-trial.png"), fullPage: true });

  await page.getByRole("button", { name: "Choose Growth" }).click();
  await page.waitForURL((url) => url.origin === stack.stripe.checkoutOrigin && url.pathname.startsWith("/c/pay/"), { timeout: TIMEOUT });
  await page.getByText("Growth").first().waitFor();
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiration (MM / YY)").fill("12 / 34");
  await page.getByLabel("Security code (CVC)").fill("123");
  await page.getByLabel("Name on card").fill("Billing Owner");
  await page.getByRole("button", { name: "Pay" }).click();

  await page.waitForURL((url) => url.href.startsWith(`${stack.dashboardUrl}billing?checkout=success`), { timeout: TIMEOUT });
  await page.getByRole("status").filter({ hasText: "Your Growth plan is active" }).waitFor({ timeout: TIMEOUT });
  await current.getByText(/0\s+of 500 used/).waitFor();
  await current.getByText(/^Renews on /).waitFor();
  await page.getByRole("listitem").filter({ hasText: "Growth" }).getByText("Your plan").waitFor();
  assert.equal(await page.getByRole("button", { name: /^Choose / }).count(), 0, "plans change in the portal now");
  await assertUsable(page, "billing page after checkout");

  // A failed renewal, as the webhook records it, reaches the open page live with the grace explained.
  await db.query("update public.subscriptions set status = 'past_due' where business_id = $1", [own.businessId]);
  await current.getByRole("alert").filter({ hasText: /Your last payment failed. Leads are still texted until/ }).waitFor({ timeout: TIMEOUT });
  await current.getByText("Payment failed", { exact: true }).waitFor();
  await assertUsable(page, "billing page with a failed payment");
  await page.screenshot({ path: join(SCREENSHOTS, "billing-past-due.png"), fullPage: true });

  await page.getByRole("button", { name: "Manage billing" }).click();
  await page.waitForURL((url) => url.origin === stack.stripe.checkoutOrigin && url.pathname.startsWith("/p/session/"), { timeout: TIMEOUT });
  await context.close();
});

test("staff see plan and usage but no purchase or billing controls", async () => {
  const staff = await createOwnerAccount(stack);
  await db.query("insert into public.business_members (business_id, user_id, role) values ($1, $2, 'staff')", [own.businessId, staff.userId]);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await openBilling(page, staff.email, staff.password);
  await page.getByText("Only the business owner can change the plan or the payment details.").waitFor({ timeout: TIMEOUT });
  await page.getByText("Growth").first().waitFor();
  assert.equal(await page.getByRole("button", { name: /^Choose |Manage billing/ }).count(), 0);
  await assertUsable(page, "billing page for staff");
  await context.close();
});
