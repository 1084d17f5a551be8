// Every dashboard page and the widget demo, in the states a person meets them in, are free of
// serious and critical WCAG 2 AA violations (axe-core) and usable on a 390 px wide phone.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import pg from "pg";
import { randomPhone } from "../support/fixtures.ts";
import type { Stack } from "../support/stack.ts";
import { assertUsable } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, openEmbedPage, type OwnBusiness, signIn, TIMEOUT } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;
let own: OwnBusiness;
const leadName = "Accessible Lead";

before(async () => {
  ({ stack, browser } = await openBrowserStack());
  assert.ok(stack.widgetDemoUrl, "stack.json has no widgetDemoUrl");
  own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  // A consenting lead, so the detail page has its cards, a conversation and an SMS thread.
  const db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  try {
    await db.query(
      "insert into public.leads (widget_id, name, phone, message, sms_consent) values ($1, $2, $3, 'Roof leak over the kitchen, 12 Oak St', true)",
      [own.widgetId, leadName, randomPhone()],
    );
  } finally {
    await db.end();
  }
});

after(async () => {
  await browser?.close();
});

async function withPage(body: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  try {
    await body(await context.newPage());
  } finally {
    await context.close();
  }
}

async function signedIn(page: Page): Promise<void> {
  await signIn(page, stack.dashboardUrl!, own.email, own.password);
  await page.getByRole("heading", { name: "Leads", exact: true }).waitFor({ timeout: TIMEOUT });
}

test("sign-in page, empty and after a wrong password", async () => {
  await withPage(async (page) => {
    await page.goto(stack.dashboardUrl!);
    await page.getByLabel("Email").waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "sign-in page");
    await signIn(page, stack.dashboardUrl!, own.email, "not-the-password");
    await page.getByRole("alert").waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "sign-in page with an error");
  });
});

test("leads page", async () => {
  await withPage(async (page) => {
    await signedIn(page);
    await page.locator(".lead-row", { hasText: leadName }).waitFor({ timeout: TIMEOUT });
    await page.locator(".live-live").waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "leads page");
  });
});

test("lead detail page with its thread", async () => {
  await withPage(async (page) => {
    await signedIn(page);
    await page.locator(".lead-row", { hasText: leadName }).getByRole("link").click();
    await page.getByRole("heading", { name: leadName }).waitFor({ timeout: TIMEOUT });
    await page.getByTestId("sms-thread").getByText("Owner alert").waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "lead detail page");
  });
});

test("settings page, saved and refusing a bad value", async () => {
  await withPage(async (page) => {
    await signedIn(page);
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Settings", exact: true, level: 1 }).waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "settings page");
    await page.getByLabel("Texting starts").fill("21:00");
    await page.getByLabel("Texting ends").fill("09:00");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Texting must end after it starts (same day)").waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "settings page with an error");
  });
});

test("widget demo: the form, its errors and its thanks", async () => {
  await withPage(async (page) => {
    await page.goto(stack.widgetDemoUrl!);
    const form = page.locator(".leadloop-widget form");
    await form.waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "widget demo");
    await form.getByRole("button", { name: "Send request" }).click();
    await form.getByText("Enter your name.").waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "widget demo with errors");
    await form.getByLabel(/^Name/).fill("Accessible Visitor");
    await form.getByLabel(/Mobile phone/).fill(randomPhone());
    await form.getByRole("button", { name: "Send request" }).click();
    await page.locator(".leadloop-widget").getByText("Thanks, we got your request").waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "widget demo after sending");
  });
});

test("the widget embedded in a customer's page with data-target", async () => {
  await withPage(async (page) => {
    await openEmbedPage(page, stack, own.widgetId);
    await page.locator("#quote form").waitFor({ timeout: TIMEOUT });
    await assertUsable(page, "embedded widget");
  });
});
