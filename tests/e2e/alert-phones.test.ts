// Issue 9 item 5, alert phones of team members on the Team page: a staff member adds their own phone and
// enters the texted code inline; they cannot edit the owner's; the owner sees the phone confirmed, chooses
// what it gets and removes it. Each state is checked at 390 px and with axe.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import pg from "pg";
import type { Browser } from "playwright-core";
import { TwilioEmulatorControl } from "../../local/twilio/client.ts";
import { createOwnerAccount } from "../support/fixtures.ts";
import type { Stack } from "../support/stack.ts";
import { assertUsable, PHONE } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, SCREENSHOTS, signIn, TIMEOUT, uniquePhone } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
});

after(async () => {
  await browser?.close();
});

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<T[]> {
  const db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  try {
    return (await db.query<T>(sql, params)).rows;
  } finally {
    await db.end();
  }
}

test("a staff member confirms their own alert phone inline; the owner manages it", async () => {
  const own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  const staff = await createOwnerAccount(stack);
  await query("insert into public.business_members (business_id, user_id, role) values ($1, $2, 'staff')", [own.businessId, staff.userId]);
  const twilio = new TwilioEmulatorControl(stack.twilioUrl.replace(/\/+$/, ""));
  const phone = uniquePhone();

  const staffContext = await browser.newContext({ viewport: PHONE });
  const page = await staffContext.newPage();
  await signIn(page, stack.dashboardUrl!, staff.email, staff.password);
  await page.getByRole("link", { name: "Team" }).click();
  await page.getByRole("heading", { name: "Team", exact: true, level: 1 }).waitFor({ timeout: TIMEOUT });
  const mine = page.locator("li", { hasText: staff.email });
  const owners = page.locator("li", { hasText: own.email });
  await mine.getByLabel("Your alert phone number").waitFor({ timeout: TIMEOUT });
  assert.equal(await owners.getByRole("textbox").count(), 0, "staff get no form for the owner's phone");
  assert.equal(await owners.getByRole("button", { name: /alert phone/ }).count(), 0, "...nor its buttons");
  await assertUsable(page, "team page, staff without an alert phone");

  await mine.getByLabel("Your alert phone number").fill("415 555");
  await mine.getByRole("button", { name: "Text a code" }).click();
  await mine.getByText("Enter a mobile number with its country code", { exact: false }).waitFor({ timeout: TIMEOUT });
  await mine.getByLabel("Your alert phone number").fill("+1 " + phone.typed);
  await mine.getByRole("button", { name: "Text a code" }).click();
  const codeInput = mine.getByLabel(/^Code texted to /);
  await codeInput.waitFor({ timeout: TIMEOUT });
  await mine.getByText("A new code is on its way.").waitFor({ timeout: TIMEOUT });
  await mine.getByText("waiting for the code").waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "team page, staff entering the code");

  const deadline = Date.now() + TIMEOUT;
  let code: string | undefined;
  while (!code && Date.now() < deadline) {
    const texts = (await twilio.messages(phone.e164)).filter((m) => m.to === phone.e164);
    code = texts.map((m) => /^(\d{6}) is your leadloop code/.exec(m.body)?.[1]).find(Boolean);
    if (!code) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(code, "the phone got its code");
  await codeInput.fill(code === "000000" ? "111111" : "000000");
  await mine.getByRole("button", { name: "Confirm" }).click();
  await mine.getByText("That code is wrong or has expired.", { exact: false }).waitFor({ timeout: TIMEOUT });
  await codeInput.fill(code);
  await mine.getByRole("button", { name: "Confirm" }).click();
  await mine.getByText("confirmed", { exact: true }).waitFor({ timeout: TIMEOUT });
  await mine.getByRole("checkbox", { name: "New-lead alerts" }).waitFor({ timeout: TIMEOUT });
  assert.equal(await mine.getByRole("checkbox", { name: "New-lead alerts" }).isChecked(), true, "new-lead alerts are on by default");
  await assertUsable(page, "team page, staff with a confirmed alert phone");
  await page.screenshot({ path: join(SCREENSHOTS, "dashboard-team-alert-phone-staff.png"), fullPage: true });
  await staffContext.close();

  const ownerContext = await browser.newContext({ viewport: PHONE });
  const owner = await ownerContext.newPage();
  await signIn(owner, stack.dashboardUrl!, own.email, own.password);
  await owner.getByRole("link", { name: "Team" }).click();
  const row = owner.locator("li", { hasText: staff.email });
  await row.getByText("confirmed", { exact: true }).waitFor({ timeout: TIMEOUT });
  await row.getByRole("checkbox", { name: "Lead summaries" }).check();
  await row.getByText("gets new-lead alerts and summaries").waitFor({ timeout: TIMEOUT });
  const [saved] = await query<{ alert_summaries: boolean; alert_phone: string }>(
    "select alert_summaries, alert_phone from public.business_members where business_id = $1 and user_id = $2", [own.businessId, staff.userId]);
  assert.deepEqual(saved, { alert_summaries: true, alert_phone: phone.e164 });
  await assertUsable(owner, "team page, owner managing a member's alert phone");
  await owner.getByRole("button", { name: `Remove ${staff.email}'s alert phone` }).click();
  await row.getByText("no alert phone").waitFor({ timeout: TIMEOUT });
  await row.getByLabel(`${staff.email}'s alert phone number`).waitFor({ timeout: TIMEOUT });
  const [cleared] = await query<{ alert_phone: string | null }>(
    "select alert_phone from public.business_members where business_id = $1 and user_id = $2", [own.businessId, staff.userId]);
  assert.equal(cleared.alert_phone, null, "the phone is removed");
  await ownerContext.close();
});
