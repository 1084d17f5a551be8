// Issue 12: an owner whose phone is not confirmed yet sees why lead alerts wait, enters the code texted
// to the phone (a wrong one is refused), and the alerts go out; the banner is usable (axe, 390 px).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import type { Stack } from "../support/stack.ts";
import { TwilioEmulatorControl } from "../../local/twilio/client.ts";
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

async function textsTo(twilio: TwilioEmulatorControl, phone: string, count: number): Promise<string[]> {
  const deadline = Date.now() + TIMEOUT;
  while (Date.now() < deadline) {
    const bodies = (await twilio.messages(phone)).filter((m) => m.to === phone).map((m) => m.body);
    if (bodies.length >= count) return bodies;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${count} text(s) to ${phone}`);
}

test("the owner confirms the phone from the banner; waiting alerts then go out", async () => {
  const own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin, { ownerPhoneVerified: false });
  const twilio = new TwilioEmulatorControl(stack.twilioUrl.replace(/\/+$/, ""));
  const [codeText] = await textsTo(twilio, own.ownerPhone, 1);
  const code = /^(\d{6}) /.exec(codeText)![1];

  const lead = uniquePhone();
  const { error } = await own.admin.from("leads").insert({ widget_id: own.widgetId, name: "Banner Lead", phone: lead.e164, message: "Gutter repair" });
  assert.equal(error, null);

  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await signIn(page, stack.dashboardUrl!, own.email, own.password);
  const banner = page.locator("section", { has: page.getByRole("heading", { name: "Confirm your phone to get lead alerts" }) });
  await banner.getByText("1 lead alert is saved and waiting.", { exact: false }).waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "phone confirmation banner at 390 px");

  await banner.getByLabel("Code").fill("12345");
  await banner.getByRole("button", { name: "Confirm phone" }).click();
  await banner.getByText("Enter the 6-digit code from the text").waitFor({ timeout: TIMEOUT });
  await banner.getByLabel("Code").fill(code === "000000" ? "111111" : "000000");
  await banner.getByRole("button", { name: "Confirm phone" }).click();
  await banner.getByText("That code is wrong or has expired.", { exact: false }).waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "phone confirmation banner with an error");
  await page.screenshot({ path: join(SCREENSHOTS, "dashboard-owner-phone-banner.png"), fullPage: true });

  await banner.getByLabel("Code").fill(code);
  await banner.getByRole("button", { name: "Confirm phone" }).click();
  await page.getByRole("heading", { name: "Confirm your phone to get lead alerts" }).waitFor({ state: "detached", timeout: TIMEOUT });
  const texts = await textsTo(twilio, own.ownerPhone, 2);
  assert.match(texts[texts.length - 1], /Banner Lead/, "the waiting alert reached the confirmed phone");
  await context.close();
});
