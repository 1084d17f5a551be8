// Settings > Email: a member reaches it from Settings (or from an email's footer link, through
// sign-in), turns their own new-lead and summary emails on and off, and the database sends
// accordingly. Usable at 390 px and axe-clean for an owner and for staff.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { createOwnerAccount, randomPhone } from "../support/fixtures.ts";
import type { Stack } from "../support/stack.ts";
import { assertUsable } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, type OwnBusiness, signIn, TIMEOUT } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;
let db: pg.Client;
let own: OwnBusiness;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
  db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
});

after(async () => {
  await db?.query("delete from public.businesses where id = $1", [own?.businessId]).catch(() => undefined);
  await db?.end();
  await browser?.close();
});

async function preference(userId: string): Promise<{ lead_alerts: boolean; summaries: boolean } | undefined> {
  const { rows } = await db.query(
    "select lead_alerts, summaries from public.email_preferences where business_id = $1 and user_id = $2",
    [own.businessId, userId],
  );
  return rows[0];
}

function choices(page: Page) {
  const card = page.getByRole("group", { name: new RegExp(own.businessName) });
  return {
    card,
    leads: card.getByRole("checkbox", { name: /Email me every new lead/ }),
    summaries: card.getByRole("checkbox", { name: /Email me each lead's summary/ }),
    saved: card.getByRole("status").filter({ hasText: "Saved" }),
  };
}

test("an owner turns new-lead emails on from Settings, and the next lead is emailed to them", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await signIn(page, stack.dashboardUrl!, own.email, own.password);
  await page.locator(".live-live").waitFor({ timeout: TIMEOUT });
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("link", { name: "Email alerts" }).click();
  await page.getByRole("heading", { name: "Email alerts", level: 1 }).waitFor({ timeout: TIMEOUT });
  const { card, leads, summaries, saved } = choices(page);
  await leads.waitFor({ timeout: TIMEOUT });
  assert.equal(await leads.isChecked(), false, "off until the member turns it on");
  assert.equal(await summaries.isChecked(), false);
  await card.getByText(/As an owner you also always get an email when a text to you cannot be delivered/).waitFor();
  await page.locator("#main").getByText(own.email, { exact: true }).waitFor();
  await assertUsable(page, "email alerts page (owner, all off)");

  await leads.check();
  await saved.waitFor({ timeout: TIMEOUT });
  assert.deepEqual(await preference(own.userId), { lead_alerts: true, summaries: false });
  await assertUsable(page, "email alerts page (owner, saved)");

  // What is shown after a reload is what the database holds.
  await page.reload();
  await leads.waitFor({ timeout: TIMEOUT });
  assert.equal(await leads.isChecked(), true);
  assert.equal(await summaries.isChecked(), false);

  const { rows: [lead] } = await db.query<{ id: string }>(
    "insert into public.leads (widget_id, name, phone, message) values ($1, 'Email Lead', $2, 'Gutter <b>repair</b>') returning id",
    [own.widgetId, randomPhone()],
  );
  const { rows: queued } = await db.query(
    "select to_address from private.email_outbox where dedupe_key = $1",
    [`lead_alert:${lead.id}:${own.userId}`],
  );
  assert.deepEqual(queued, [{ to_address: own.email }]);

  await leads.uncheck();
  await saved.waitFor({ timeout: TIMEOUT });
  assert.deepEqual(await preference(own.userId), { lead_alerts: false, summaries: false });
  await context.close();
});

test("staff open the footer link through sign-in, choose summaries only for themselves, and see no owner-only note", async () => {
  const staff = await createOwnerAccount(stack);
  await db.query("insert into public.business_members (business_id, user_id, role) values ($1, $2, 'staff')", [own.businessId, staff.userId]);
  await db.query(
    "insert into public.email_preferences (business_id, user_id, lead_alerts, summaries) values ($1, $2, true, false) on conflict (business_id, user_id) do update set lead_alerts = true, summaries = false",
    [own.businessId, own.userId],
  );
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(new URL("settings/email", stack.dashboardUrl!).href);
  await page.getByLabel("Email").fill(staff.email);
  await page.getByLabel("Password").fill(staff.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Email alerts", level: 1 }).waitFor({ timeout: TIMEOUT });
  const { card, leads, summaries, saved } = choices(page);
  await card.getByText("(team member)").waitFor({ timeout: TIMEOUT });
  assert.equal(await leads.isChecked(), false, "the owner's choice is not the staff member's");
  assert.equal(await card.getByText(/As an owner/).count(), 0);
  await assertUsable(page, "email alerts page (staff)");

  await summaries.check();
  await saved.waitFor({ timeout: TIMEOUT });
  assert.deepEqual(await preference(staff.userId), { lead_alerts: false, summaries: true });
  assert.deepEqual(await preference(own.userId), { lead_alerts: true, summaries: false }, "the owner's row is untouched");
  await assertUsable(page, "email alerts page (staff, saved)");
  await context.close();
});
