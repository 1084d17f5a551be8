// End to end through a real browser: a visitor submits the widget on the demo page and the
// owner, already signed in to the dashboard in another tab, sees the lead appear without a reload.
// Needs the running stack (npm test starts it; or LEADLOOP_INSTANCE=dev with npm start running).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import type { Stack } from "../support/stack.ts";
import { assertFitsPhone } from "./checks.ts";
import { openBrowserStack, SCREENSHOTS, signIn as signInAt, TIMEOUT, uniquePhone } from "./fixtures.ts";

const signIn = (page: Page, email: string, password: string) => signInAt(page, stack.dashboardUrl!, email, password);

let browser: Browser;
let stack: Stack;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
  assert.ok(stack.widgetDemoUrl, "stack.json has no widgetDemoUrl");
});

after(async () => {
  await browser?.close();
});

function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

test("a widget submission shows up live on the signed-in dashboard", async () => {
  const dashboardContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const dashboard = await dashboardContext.newPage();
  const dashboardErrors = collectPageErrors(dashboard);
  await signIn(dashboard, stack.demo.email, stack.demo.password);
  await dashboard.getByRole("heading", { name: "Leads", exact: true }).waitFor({ timeout: TIMEOUT });
  await dashboard.locator(".live-live").waitFor({ timeout: TIMEOUT });
  // Survives only if the page is never reloaded.
  await dashboard.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

  const visitorContext = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const visitor = await visitorContext.newPage();
  const visitorErrors = collectPageErrors(visitor);
  await visitor.goto(stack.widgetDemoUrl!);
  const form = visitor.locator(".leadloop-widget form");
  await form.waitFor({ timeout: TIMEOUT });

  const consent = form.getByRole("checkbox");
  assert.equal(await consent.isChecked(), false, "SMS consent must not be pre-checked");
  assert.equal(await consent.getAttribute("required"), null, "SMS consent must not be required");
  const consentText = (await form.locator(".consent label").textContent()) ?? "";
  assert.match(consentText, /Reply STOP to opt out/);
  assert.match(consentText, /Msg & data rates may apply/);
  // The honeypot is moved off-screen rather than display:none, which simple bots detect.
  const honeypot = form.locator('input[name="website"]');
  const honeypotBox = await honeypot.boundingBox();
  assert.ok(honeypotBox && honeypotBox.x + honeypotBox.width <= 0, "honeypot is off-screen");
  assert.equal(await honeypot.getAttribute("tabindex"), "-1", "honeypot is out of the tab order");

  // Client-side validation before anything is sent.
  await form.getByRole("button", { name: "Send request" }).click();
  await form.getByText("Enter your name.").waitFor({ timeout: TIMEOUT });
  assert.equal(await form.getByLabel(/Mobile phone/).getAttribute("aria-invalid"), "true");
  await form.getByLabel(/Mobile phone/).fill("555-CALL");
  await form.getByRole("button", { name: "Send request" }).click();
  await form.getByText("Use digits only, for example +1 415 555 2671.").waitFor({ timeout: TIMEOUT });
  await visitor.screenshot({ path: join(SCREENSHOTS, "widget-errors.png"), fullPage: true });

  const phone = uniquePhone();
  const name = `E2E Visitor ${phone.e164.slice(-4)}-${Date.now() % 100000}`;
  await form.getByLabel(/^Name/).fill(name);
  await form.getByLabel(/Mobile phone/).fill(phone.typed);
  await form.getByLabel(/Email/).fill("visitor@example.com");
  await form.getByLabel(/How can we help/).fill("Water heater is leaking in the garage, can someone come tomorrow morning?");
  await consent.check();
  await visitor.screenshot({ path: join(SCREENSHOTS, "widget-filled.png"), fullPage: true });

  const insert = visitor.waitForRequest((r) => r.url().includes("/rest/v1/leads") && r.method() === "POST");
  await form.getByRole("button", { name: "Send request" }).click();
  const request = await insert;
  const body = JSON.parse(request.postData() ?? "{}");
  assert.equal(body.phone, phone.e164, "phone is sent in E.164");
  assert.equal(body.sms_consent, true);
  assert.equal(body.widget_id, stack.demo.widgetId);
  assert.doesNotMatch(request.url(), /select=/, "the widget never asks for the row back");
  await visitor.locator(".leadloop-widget").getByText("Thanks, we got your request").waitFor({ timeout: TIMEOUT });
  await visitor.screenshot({ path: join(SCREENSHOTS, "widget-thanks.png"), fullPage: true });

  const row = dashboard.locator(".lead-row", { hasText: name });
  await row.waitFor({ timeout: TIMEOUT });
  assert.equal(await dashboard.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload), true,
    "the dashboard must not have reloaded");
  const firstRow = dashboard.locator(".lead-row").first();
  assert.match((await firstRow.textContent()) ?? "", new RegExp(name), "newest lead is listed first");
  await dashboard.screenshot({ path: join(SCREENSHOTS, "dashboard-leads.png"), fullPage: true });

  await row.getByRole("link").click();
  await dashboard.getByRole("heading", { name }).waitFor({ timeout: TIMEOUT });
  const consentCard = dashboard.locator("section", { has: dashboard.getByRole("heading", { name: "Consent evidence" }) });
  await consentCard.getByText("given", { exact: true }).waitFor({ timeout: TIMEOUT });
  await consentCard.getByText(/Reply STOP to opt out/).waitFor({ timeout: TIMEOUT });
  await dashboard.getByText("Water heater is leaking in the garage").first().waitFor({ timeout: TIMEOUT });
  // Give the owner alert / text-back a moment so the screenshot shows the thread when the stack sends.
  await dashboard.locator(".bubble").first().waitFor({ timeout: 8_000 }).catch(() => undefined);
  await dashboard.screenshot({ path: join(SCREENSHOTS, "dashboard-lead-detail.png"), fullPage: true });

  await dashboard.getByRole("link", { name: "Settings" }).click();
  await dashboard.getByRole("heading", { name: "Settings", exact: true, level: 1 }).waitFor({ timeout: TIMEOUT });
  await dashboard.screenshot({ path: join(SCREENSHOTS, "dashboard-settings.png"), fullPage: true });

  assert.deepEqual(visitorErrors, []);
  assert.deepEqual(dashboardErrors, []);
  await visitorContext.close();
  await dashboardContext.close();
});

test("a wrong password shows an error and no dashboard", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, stack.demo.email, "definitely-not-the-password");
  await page.getByRole("alert").filter({ hasText: "don't match an account" }).waitFor({ timeout: TIMEOUT });
  assert.equal(await page.getByRole("heading", { name: "Leads", exact: true }).count(), 0);
  await page.screenshot({ path: join(SCREENSHOTS, "dashboard-signin-error.png") });
  await context.close();
});

test("the widget on a phone-sized screen", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto(stack.widgetDemoUrl!);
  const form = page.locator(".leadloop-widget form");
  await form.waitFor({ timeout: TIMEOUT });
  await form.scrollIntoViewIfNeeded();
  await assertFitsPhone(page, "widget demo");
  const input = await form.getByLabel(/Mobile phone/).boundingBox();
  assert.ok(input && input.height >= 44, "touch targets are at least 44px tall");
  await page.screenshot({ path: join(SCREENSHOTS, "widget-mobile.png"), fullPage: true });
  await context.close();
});
