// The hosted pages in a real browser: a person pays on the checkout page (4242 succeeds, 0002 is
// declined on the page, 0341 completes but the charge fails), manages the subscription in the
// portal (cancel at period end, renew, switch plan, new card) and pays an open invoice.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import type Stripe from "stripe";
import { createPlans, startTestEmulator, startWebhookReceiver, type TestEmulator, type WebhookReceiver } from "./test-support.ts";

let emu: TestEmulator;
let app: WebhookReceiver;
let browser: Browser;
let plans: Awaited<ReturnType<typeof createPlans>>;

before(async () => {
  emu = await startTestEmulator({ settings: { invoiceFinalizeDelaySeconds: 0 } });
  app = await startWebhookReceiver(emu.stripe);
  await emu.control.addWebhookEndpoint({ url: `${app.url}/webhook`, secret: app.secret });
  plans = await createPlans(emu.stripe);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
});
after(async () => {
  await browser?.close();
  await emu?.close();
  await app?.close();
});

async function newSession(extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
  return emu.stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: plans.starter.id, quantity: 1 }],
    success_url: `${app.url}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${app.url}/billing`,
    client_reference_id: "business-9",
    ...extra,
  });
}

async function openPage(url: string, width = 390): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 844 } });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("close", () => assert.deepEqual(errors, []));
  await page.goto(url);
  return page;
}

async function fillCard(page: Page, number: string) {
  await page.getByLabel("Card number").fill(number);
  await page.getByLabel("Expiration (MM / YY)").fill("12 / 34");
  await page.getByLabel("Security code (CVC)").fill("123");
}

/** Nothing wider than the phone-sized viewport. */
async function assertFitsViewport(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page overflows the viewport by ${overflow}px`);
}

describe("checkout page", () => {
  test("4242 4242 4242 4242: Pay, redirect to success_url with the session id, subscription active", async () => {
    const session = await newSession({ customer_email: "pay@example.test" });
    const page = await openPage(session.url!);
    assert.equal(await page.title(), "Leadloop checkout (Stripe emulator)");
    await page.getByText("$29.00").first().waitFor();
    await page.getByText("pay@example.test").waitFor();
    await assertFitsViewport(page);
    await fillCard(page, "4242 4242 4242 4242");
    await page.getByLabel("Name on card").fill("Pat Plumber");
    await page.getByRole("button", { name: "Pay" }).click();
    await page.waitForURL(`${app.url}/billing/success?session_id=${session.id}`);
    await page.close();

    const done = await emu.stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription", "customer"] });
    assert.equal(done.status, "complete");
    assert.equal(done.payment_status, "paid");
    assert.equal(done.customer_details?.name, "Pat Plumber");
    assert.equal((done.customer as Stripe.Customer).email, "pay@example.test");
    assert.equal((done.subscription as Stripe.Subscription).status, "active");
    const [completed] = await app.waitFor((d) => d.event.type === "checkout.session.completed" && (d.event.data.object as Stripe.Checkout.Session).id === session.id);
    assert.equal((completed.event.data.object as Stripe.Checkout.Session).client_reference_id, "business-9");
    assert.deepEqual(app.rejected, []);
  });

  test("4000 0000 0000 0002: the decline is announced on the page, focus returns to the card number, nothing is created", async () => {
    const session = await newSession();
    const page = await openPage(session.url!);
    await page.getByLabel("Email").fill("declined@example.test");
    await fillCard(page, "4000000000000002");
    await page.getByRole("button", { name: "Pay" }).click();
    await page.getByRole("alert").filter({ hasText: "Your card was declined." }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "cardnumber");
    assert.equal(await page.getByLabel("Card number").getAttribute("aria-invalid"), "true");
    assert.equal(await page.getByLabel("Email").inputValue(), "declined@example.test", "what the person typed is kept");
    assert.equal(page.url(), session.url);
    await page.close();
    assert.equal((await emu.stripe.checkout.sessions.retrieve(session.id)).status, "open");
    assert.deepEqual((await emu.stripe.customers.list({ email: "declined@example.test" })).data, []);
  });

  test("4000 0000 0000 0341: checkout completes and redirects, the first charge fails, the subscription is incomplete", async () => {
    const session = await newSession({ customer_email: "later@example.test" });
    const page = await openPage(session.url!);
    await fillCard(page, "4000 0000 0000 0341");
    await page.getByRole("button", { name: "Pay" }).click();
    await page.waitForURL(/\/billing\/success/);
    await page.close();
    const done = await emu.stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription.latest_invoice"] });
    assert.equal(done.payment_status, "unpaid");
    const sub = done.subscription as Stripe.Subscription;
    assert.equal(sub.status, "incomplete");
    assert.equal((sub.latest_invoice as Stripe.Invoice).status, "open");
    await app.waitFor((d) => d.event.type === "invoice.payment_failed" && (d.event.data.object as Stripe.Invoice).parent?.subscription_details?.subscription === sub.id);

    // The invoice's hosted page lets the person pay with another card, which activates the subscription.
    const invoicePage = await openPage((sub.latest_invoice as Stripe.Invoice).hosted_invoice_url!);
    await fillCard(invoicePage, "4242424242424242");
    await invoicePage.getByRole("button", { name: "Pay $29.00" }).click();
    await invoicePage.getByRole("status").filter({ hasText: "the invoice is paid" }).waitFor();
    await invoicePage.close();
    assert.equal((await emu.stripe.subscriptions.retrieve(sub.id)).status, "active");
  });

  test("a completed or expired session's link says so; Back goes to cancel_url", async () => {
    const session = await newSession({ customer_email: "twice@example.test" });
    const page = await openPage(session.url!);
    await page.getByRole("link", { name: "← Back" }).click();
    await page.waitForURL(`${app.url}/billing`);
    await emu.control.payCheckout(session.id, { card: "4242424242424242" });
    await page.goto(`${emu.url}/c/pay/${session.id}`);
    await page.getByRole("heading", { name: "This checkout is complete" }).waitFor();
    await page.close();
  });
});

describe("customer portal", () => {
  test("cancel at period end, renew, switch plan and replace the card", async () => {
    const session = await newSession({ customer_email: "portal@example.test" });
    const { session: paid } = await emu.control.payCheckout(session.id, { card: "4242424242424242" });
    const subId = paid.subscription as string;
    const portal = await emu.stripe.billingPortal.sessions.create({ customer: paid.customer as string, return_url: `${app.url}/billing` });
    assert.match(portal.id, /^bps_/);
    assert.equal(portal.url, `${emu.url}/p/session/${portal.id}`);

    const page = await openPage(portal.url);
    await page.getByRole("heading", { name: /Starter \(\$29\.00 per month\)/ }).waitFor();
    await assertFitsViewport(page);
    await page.getByRole("button", { name: "Cancel subscription" }).click();
    await page.getByRole("status").filter({ hasText: "canceled at the end of the current period" }).waitFor();
    let sub = await emu.stripe.subscriptions.retrieve(subId);
    assert.equal(sub.cancel_at_period_end, true);
    assert.equal(sub.status, "active");

    await page.getByRole("button", { name: "Renew subscription" }).click();
    await page.getByRole("status").filter({ hasText: "renew as usual" }).waitFor();
    assert.equal((await emu.stripe.subscriptions.retrieve(subId)).cancel_at_period_end, false);

    await page.getByRole("button", { name: /Switch to Pro \(\$79\.00 per month\)/ }).click();
    await page.getByRole("status").filter({ hasText: "plan has been changed" }).waitFor();
    sub = await emu.stripe.subscriptions.retrieve(subId);
    assert.equal(sub.items.data[0].price.id, plans.pro.id);

    await fillCard(page, "5555 5555 5555 4444");
    await page.getByRole("button", { name: "Save card" }).click();
    await page.getByRole("status").filter({ hasText: "card has been saved" }).waitFor();
    await page.getByText("MASTERCARD ending in 4444").waitFor();
    await page.getByRole("link", { name: /Return to/ }).click();
    await page.waitForURL(`${app.url}/billing`);
    await page.close();

    const events = await app.waitFor((d) => d.event.type === "customer.subscription.updated" && (d.event.data.object as Stripe.Subscription).id === subId, 4);
    assert.deepEqual(events.map((d) => Object.keys(d.event.data.previous_attributes ?? {}).sort().join(",")).slice(-4), [
      "cancel_at,cancel_at_period_end,canceled_at,cancellation_details",
      "cancel_at,cancel_at_period_end,canceled_at,cancellation_details",
      "items",
      "default_payment_method",
    ]);
  });
});

describe("page hardening", () => {
  test("names are escaped, foreign subscriptions cannot be changed, unknown links are 404", async () => {
    const hostile = await emu.stripe.prices.create({ currency: "usd", unit_amount: 100, recurring: { interval: "month" }, product_data: { name: `<img src=x onerror="alert(1)">` } });
    await assert.rejects(
      emu.stripe.checkout.sessions.create({ mode: "subscription", line_items: [{ price: hostile.id, quantity: 1 }], success_url: "javascript:alert(1)" }),
      (e: Stripe.errors.StripeError) => e.param === "success_url",
    );
    const session = await newSession({ line_items: [{ price: hostile.id, quantity: 1 }], cancel_url: `${app.url}/billing?x="><script>alert(1)</script>` });
    const html = await (await fetch(session.url!)).text();
    assert.ok(!html.includes("<img src=x"), "product name is escaped");
    assert.ok(html.includes("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"));
    assert.ok(!html.includes("<script>"), "cancel_url is escaped");

    const mine = await emu.control.payCheckout((await newSession({ customer_email: "mine@example.test" })).id, { card: "4242424242424242" });
    const theirs = await emu.control.payCheckout((await newSession({ customer_email: "theirs@example.test" })).id, { card: "4242424242424242" });
    const portal = await emu.stripe.billingPortal.sessions.create({ customer: mine.session.customer as string });
    const attempt = await fetch(portal.url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `action=cancel&subscription=${theirs.session.subscription}`, redirect: "manual" });
    assert.equal(attempt.status, 400);
    assert.equal((await emu.stripe.subscriptions.retrieve(theirs.session.subscription as string)).cancel_at_period_end, false);

    for (const path of ["/c/pay/cs_test_nope", "/p/session/bps_nope", "/i/in_nope"]) {
      assert.equal((await fetch(emu.url + path)).status, 404, path);
    }
  });
});
