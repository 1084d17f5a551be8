// The widget under bad conditions, in a real browser: dropped connections, impatient clicks,
// rate limits and server refusals. The lead insert is intercepted; the config comes from the stack.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Browser, Locator, Page, Route } from "playwright-core";
import type { Stack } from "../support/stack.ts";
import { createOwnBusiness, openBrowserStack, openEmbedPage, type OwnBusiness, SCREENSHOTS, TIMEOUT, uniquePhone } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;
let own: OwnBusiness;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
  own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
});

after(async () => {
  await browser?.close();
});

async function openFilledForm(page: Page, name: string): Promise<Locator> {
  await openEmbedPage(page, stack, own.widgetId);
  const form = page.locator("#quote form");
  await form.waitFor({ timeout: TIMEOUT });
  await form.getByLabel(/^Name/).fill(name);
  await form.getByLabel(/Mobile phone/).fill(uniquePhone().typed);
  return form;
}

const leadsInsert = (url: URL) => url.pathname.endsWith("/rest/v1/leads");

test("a dropped connection keeps the form, offers a retry, and the retry saves the lead once", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const name = `Retry Visitor ${Date.now() % 100000}`;
  const form = await openFilledForm(page, name);
  let posts = 0;
  await page.route(leadsInsert, async (route: Route) => {
    posts += 1;
    if (posts === 1) await route.abort("internetdisconnected");
    else await route.continue();
  });
  await form.getByRole("button", { name: "Send request" }).click();
  await form.getByText("We couldn't reach the server. Check your connection and try again.").waitFor({ timeout: TIMEOUT });
  assert.equal(await form.getByLabel(/^Name/).inputValue(), name, "what the visitor typed is kept");
  await page.screenshot({ path: join(SCREENSHOTS, "widget-network-error.png"), fullPage: true });
  await form.getByRole("button", { name: "Try again" }).click();
  await page.locator("#quote").getByText("Thanks, we got your request").waitFor({ timeout: TIMEOUT });
  assert.equal(posts, 2);
  const { data } = await own.admin.from("leads").select("id").eq("business_id", own.businessId).eq("name", name);
  assert.equal(data?.length, 1, "exactly one lead saved");
  await context.close();
});

test("clicking send repeatedly while a request is out sends it once", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const name = `Impatient Visitor ${Date.now() % 100000}`;
  const form = await openFilledForm(page, name);
  let posts = 0;
  await page.route(leadsInsert, async (route: Route) => {
    posts += 1;
    await new Promise((r) => setTimeout(r, 1200));
    await route.continue();
  });
  const button = form.getByRole("button", { name: "Send request" });
  await button.click();
  await form.getByRole("button", { name: "Sending…" }).waitFor({ timeout: TIMEOUT });
  assert.equal(await form.getByRole("button", { name: "Sending…" }).isDisabled(), true);
  // Enter in a field is another way to submit; it must be ignored too.
  await form.getByLabel(/^Name/).press("Enter");
  await form.evaluate((f: HTMLFormElement) => f.requestSubmit());
  await page.locator("#quote").getByText("Thanks, we got your request").waitFor({ timeout: TIMEOUT });
  assert.equal(posts, 1);
  const { data } = await own.admin.from("leads").select("id").eq("business_id", own.businessId).eq("name", name);
  assert.equal(data?.length, 1);
  await context.close();
});

test("a 429 shows the database's words and lets the visitor try later", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const form = await openFilledForm(page, "Limited Visitor");
  await page.route(leadsInsert, (route: Route) => route.fulfill({
    status: 429,
    contentType: "application/json",
    body: JSON.stringify({ code: "PT429", message: "Too many requests from this device. Please try again in a few minutes.", details: null, hint: null }),
  }));
  await form.getByRole("button", { name: "Send request" }).click();
  const alert = form.getByRole("alert").filter({ hasText: "Too many requests from this device" });
  await alert.waitFor({ timeout: TIMEOUT });
  assert.equal(await form.getByRole("button", { name: "Send request" }).isEnabled(), true);
  await page.screenshot({ path: join(SCREENSHOTS, "widget-rate-limited.png"), fullPage: true });
  await context.close();
});

test("a refusal that names a field is shown on that field", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const form = await openFilledForm(page, "Refused Visitor");
  await page.route(leadsInsert, (route: Route) => route.fulfill({
    status: 400,
    contentType: "application/json",
    body: JSON.stringify({ code: "P0001", message: "This phone number cannot receive texts from this business.", details: null, hint: null }),
  }));
  await form.getByRole("button", { name: "Send request" }).click();
  const phoneInput = form.getByLabel(/Mobile phone/);
  await form.locator(".err", { hasText: "This phone number cannot receive texts" }).waitFor({ timeout: TIMEOUT });
  assert.equal(await phoneInput.getAttribute("aria-invalid"), "true");
  await context.close();
});

test("a real database refusal (unknown widget) renders no form and explains", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openEmbedPage(page, stack, "00000000-0000-4000-8000-00000000dead");
  await page.locator("#quote").getByText("This contact form is not available right now.").waitFor({ timeout: TIMEOUT });
  await context.close();
});

test("the database refuses a page whose origin the widget does not allow, and the visitor is told", async () => {
  const elsewhere = await createOwnBusiness(stack, "https://only-this-site.example");
  const context = await browser.newContext();
  const page = await context.newPage();
  await openEmbedPage(page, stack, elsewhere.widgetId);
  const form = page.locator("#quote form");
  await form.waitFor({ timeout: TIMEOUT });
  await form.getByLabel(/^Name/).fill("Wrong Site Visitor");
  await form.getByLabel(/Mobile phone/).fill(uniquePhone().typed);
  await form.getByRole("button", { name: "Send request" }).click();
  await form.getByRole("alert").filter({ hasText: /are not allowed for this form/ }).waitFor({ timeout: TIMEOUT });
  const { data } = await elsewhere.admin.from("leads").select("id").eq("business_id", elsewhere.businessId);
  assert.deepEqual(data, [], "nothing was saved");
  await context.close();
});
