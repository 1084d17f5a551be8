// Issue 9, end to end from nothing: a new visitor signs up, confirms the address from the mail catcher,
// creates a business, buys a 415 number, confirms the owner phone with the code read on the Twilio
// emulator's phone page, creates a form for a site, pastes the copied snippet into a page served from
// that site, and a lead submitted there reaches the owner's phone while the dashboard shows it live.
// Plus the password reset, end to end. Every page is checked with axe and at 390 px.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { firstLink, Inbox } from "../../local/mail/inbox.ts";
import type { Stack } from "../support/stack.ts";
import { createOwnerAccount } from "../support/fixtures.ts";
import { assertUsable } from "./checks.ts";
import { openBrowserStack, SCREENSHOTS, TIMEOUT, uniquePhone } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;
let inbox: Inbox;
let site: Server;
let siteOrigin: string;
let sitePage = "<!doctype html><title>Not yet</title>";

before(async () => {
  ({ stack, browser } = await openBrowserStack());
  inbox = new Inbox(stack.mailUrl.replace(/\/+$/, ""));
  // The owner's own website, on a port of its own: its origin is what the form must allow.
  site = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(sitePage);
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
});

function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

/** The newest leadloop text on an emulated phone, read from the phone page. */
async function textOnPhonePage(page: Page, phone: string, pattern: RegExp): Promise<string> {
  await page.goto(`${stack.phoneUrl}#open=${encodeURIComponent(phone)}`);
  const bubble = page.getByText(pattern).last();
  await bubble.waitFor({ timeout: TIMEOUT });
  return (await bubble.textContent()) ?? "";
}

const dashboard = (path: string) => new URL(path, stack.dashboardUrl).toString();

test("a new owner goes from sign-up to the first lead, without SQL", async () => {
  const tag = randomBytes(4).toString("hex");
  const email = `new-owner-${tag}@example.com`;
  const password = `Sunny-Roofs-${tag}9`;
  const owner = uniquePhone();
  const businessName = `Sunny Roofs ${tag}`;

  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(stack.dashboardUrl!).origin });
  const app = await context.newPage();
  const appErrors = pageErrors(app);

  // Sign up: the password policy is shown and ticks itself.
  await app.goto(dashboard("/sign-in"));
  await app.getByRole("link", { name: "Create an account" }).click();
  await app.getByRole("heading", { name: "Create your leadloop account" }).waitFor({ timeout: TIMEOUT });
  await app.getByLabel("Email").fill(email);
  await app.getByLabel("Password", { exact: true }).fill("short");
  await app.getByRole("button", { name: "Create account" }).click();
  await app.getByRole("alert").filter({ hasText: "The password needs: at least 10 characters, an upper-case letter, a digit." }).waitFor({ timeout: TIMEOUT });
  await assertUsable(app, "sign-up page with a weak password");
  await app.getByLabel("Password", { exact: true }).fill(password);
  assert.equal(await app.locator(".password-rules .rule-unmet").count(), 0, "every requirement ticks when met");
  await app.getByRole("button", { name: "Create account" }).click();
  await app.getByRole("heading", { name: "Check your email" }).waitFor({ timeout: TIMEOUT });
  await assertUsable(app, "check your email");

  // The confirmation mail, from the mail catcher; its link signs the person in and starts setup.
  const [mail] = await inbox.waitFor(email, { timeoutMs: TIMEOUT });
  assert.equal(mail.subject, "Confirm your email address");
  await app.goto(firstLink(mail));
  await app.getByRole("heading", { name: "Your business" }).waitFor({ timeout: TIMEOUT });
  assert.equal(new URL(app.url()).pathname, "/welcome");
  await assertUsable(app, "onboarding: business step");

  // Business: a bad phone is refused beside its field, then the business is created.
  await app.getByLabel("Business name").fill(businessName);
  await app.getByLabel("Your mobile number").fill("555-12");
  await app.getByLabel("Time zone").selectOption("America/Los_Angeles");
  await app.getByRole("button", { name: "Create business" }).click();
  await app.getByText("Enter your mobile number, like (415) 555-2671").waitFor({ timeout: TIMEOUT });
  await app.getByLabel("Your mobile number").fill(owner.typed);
  await app.getByRole("button", { name: "Create business" }).click();

  // Number: search 415 and buy the first one.
  await app.getByRole("heading", { name: "Your texting number" }).waitFor({ timeout: TIMEOUT });
  await assertUsable(app, "onboarding: number step");
  await app.getByLabel("Area code").fill("415");
  await app.getByRole("button", { name: "Search numbers" }).click();
  const buy = app.getByRole("list", { name: "Numbers for sale" }).getByRole("button").first();
  await buy.waitFor({ timeout: TIMEOUT });
  assert.match((await buy.getAttribute("aria-label")) ?? "", /^Buy \(415\)/);
  await assertUsable(app, "onboarding: numbers for sale");
  await buy.click();

  // Code: texted from the new number to the owner's phone; read it on the phone page.
  await app.getByRole("heading", { name: "Confirm your phone" }).waitFor({ timeout: TIMEOUT });
  await app.getByText("Lead alerts are held until this phone is confirmed").waitFor();
  // The wizard's state is the database's: a reload (or another device) resumes at the same step.
  await app.reload();
  await app.getByRole("heading", { name: "Confirm your phone" }).waitFor({ timeout: TIMEOUT });
  await assertUsable(app, "onboarding: code step");
  const phonePage = await context.newPage();
  const codeText = await textOnPhonePage(phonePage, owner.e164, /is your leadloop code/);
  const code = /(\d{6}) is your leadloop code/.exec(codeText)?.[1];
  assert.ok(code, `a code on the phone page: ${codeText}`);
  await app.getByLabel("Code").fill(code === "000000" ? "111111" : "000000");
  await app.getByRole("button", { name: "Confirm phone" }).click();
  await app.getByText("That code is wrong or has expired.").waitFor({ timeout: TIMEOUT });
  await app.getByLabel("Code").fill(code);
  await app.getByRole("button", { name: "Confirm phone" }).click();

  // First form: a path in the origin is refused with the line named; then the site's origin.
  await app.getByRole("heading", { name: "Your website form" }).waitFor({ timeout: TIMEOUT });
  await assertUsable(app, "onboarding: form step");
  await app.getByLabel("Websites allowed to show this form").fill(`${siteOrigin}/contact`);
  await app.getByRole("button", { name: "Create the form" }).click();
  await app.getByText(`Line 1 (${siteOrigin}/contact) must be the site only, without a path: ${siteOrigin}.`).waitFor({ timeout: TIMEOUT });
  await app.getByLabel("Websites allowed to show this form").fill(siteOrigin);
  await app.getByRole("button", { name: "Create the form" }).click();

  // Snippet: copied with the button, pasted into the owner's site.
  await app.getByRole("heading", { name: "Install the form" }).waitFor({ timeout: TIMEOUT });
  await assertUsable(app, "onboarding: snippet step");
  await app.getByRole("button", { name: "Copy snippet" }).click();
  await app.getByText("Copied to the clipboard.").waitFor({ timeout: TIMEOUT });
  const snippet = await app.evaluate(() => navigator.clipboard.readText());
  assert.match(snippet, /^<script src="http:\/\/127\.0\.0\.1:\d+\/widget\/leadloop-widget\.js" data-widget-id="[0-9a-f-]{36}"/);
  assert.ok(snippet.includes(`data-supabase-url="${stack.supabaseUrl}"`), snippet);
  await app.screenshot({ path: join(SCREENSHOTS, "onboarding-snippet.png"), fullPage: true });
  sitePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${businessName}</title></head><body style="font-family:sans-serif;padding:24px"><h1>Free roof estimate</h1>${snippet}</body></html>`;

  await app.getByRole("button", { name: "Go to your dashboard" }).click();
  await app.getByRole("heading", { name: "Leads", exact: true }).waitFor({ timeout: TIMEOUT });
  await app.locator(".live-live").waitFor({ timeout: TIMEOUT });
  assert.equal(await app.getByText(businessName).count() > 0, true, "the dashboard shows the new business");
  await assertUsable(app, "dashboard of the new business");

  // A visitor on the owner's site submits the form, with consent.
  const visitorContext = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const visitor = await visitorContext.newPage();
  const visitorErrors = pageErrors(visitor);
  await visitor.goto(siteOrigin);
  const form = visitor.locator(".leadloop-widget form");
  await form.waitFor({ timeout: TIMEOUT });
  const lead = uniquePhone();
  const leadName = `Dana ${tag}`;
  await form.getByLabel(/^Name/).fill(leadName);
  await form.getByLabel(/Mobile phone/).fill(lead.typed);
  await form.getByLabel(/How can we help/).fill("Two shingles blew off in the storm, can you look this week?");
  await form.getByRole("checkbox").check();
  await form.getByRole("button", { name: "Send request" }).click();
  await visitor.locator(".leadloop-widget").getByText("Thanks, we got your request").waitFor({ timeout: TIMEOUT });

  // The dashboard shows the lead live (no reload); the owner's phone gets the alert.
  await app.locator(".lead-row", { hasText: leadName }).waitFor({ timeout: TIMEOUT });
  const alert = await textOnPhonePage(phonePage, owner.e164, new RegExp(leadName));
  assert.match(alert, /Two shingles blew off/);
  await phonePage.screenshot({ path: join(SCREENSHOTS, "onboarding-owner-alert.png"), fullPage: true });

  // The forms page lists the form with its snippet.
  await app.getByRole("link", { name: "Forms" }).click();
  await app.getByRole("heading", { name: "Website forms" }).waitFor({ timeout: TIMEOUT });
  await app.getByText(`Allowed on ${siteOrigin}`).waitFor({ timeout: TIMEOUT });
  await assertUsable(app, "website forms page");

  // Rename it; an incomplete Spanish consent text is refused with what it lacks, as the database says.
  await app.getByRole("button", { name: "Edit" }).click();
  await app.getByLabel("Widget name").fill("Roof estimate form");
  await app.getByLabel("Consent text (Spanish)").fill("Acepto recibir mensajes de texto. Responda STOP para cancelar los mensajes.");
  await app.getByRole("button", { name: "Save changes" }).click();
  await app.getByText(`This text must name the business ("${businessName}").`).waitFor({ timeout: TIMEOUT });
  await app.getByText(/^This text must say how to stop and get help/).waitFor();
  await assertUsable(app, "a consent text refused");
  await app.getByLabel("Consent text (Spanish)").fill(`Acepto recibir mensajes de ${businessName} sobre mi solicitud de servicio. ` +
    "Pueden aplicarse tarifas de mensajes y datos. Responda STOP para cancelar, HELP para ayuda.");
  await app.getByRole("button", { name: "Save changes" }).click();
  await app.getByRole("heading", { name: "Roof estimate form" }).waitFor({ timeout: TIMEOUT });

  // A test lead from the dashboard goes round the whole loop to the owner's phone.
  await app.getByRole("button", { name: "Send a test lead" }).click();
  await app.getByText("Owner alert delivered to your phone.").waitFor({ timeout: TIMEOUT });
  await textOnPhonePage(phonePage, owner.e164, /Test Lead/);
  await app.screenshot({ path: join(SCREENSHOTS, "widgets-page.png"), fullPage: true });

  assert.deepEqual(appErrors, []);
  assert.deepEqual(visitorErrors, []);
  await visitorContext.close();
  await context.close();
});

test("a forgotten password is reset from the mail, end to end", async () => {
  const account = await createOwnerAccount(stack);
  const newPassword = `New-Pass-${randomBytes(3).toString("hex")}7`;
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors = pageErrors(page);

  await page.goto(dashboard("/sign-in"));
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.getByRole("heading", { name: "Reset your password" }).waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "forgot password page");
  await page.getByLabel("Email").fill(account.email);
  await page.getByRole("button", { name: "Email me a reset link" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor({ timeout: TIMEOUT });

  const [mail] = await inbox.waitFor(account.email, { timeoutMs: TIMEOUT });
  assert.equal(mail.subject, "Reset your password");
  await page.goto(firstLink(mail));
  await page.getByRole("heading", { name: "Choose a new password" }).waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "choose a new password");
  await page.getByLabel("New password", { exact: true }).fill("alllowercase");
  await page.getByRole("button", { name: "Save new password" }).click();
  await page.getByRole("alert").filter({ hasText: "The password needs" }).waitFor({ timeout: TIMEOUT });
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByRole("button", { name: "Save new password" }).click();
  // Signed in with the new password: no business yet, so setup starts.
  await page.getByRole("heading", { name: "Your business" }).waitFor({ timeout: TIMEOUT });

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to your dashboard" }).waitFor({ timeout: TIMEOUT });
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "don't match an account" }).waitFor({ timeout: TIMEOUT });
  await page.getByLabel("Password").fill(newPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Your business" }).waitFor({ timeout: TIMEOUT });

  // The link worked once: opened again it is refused.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to your dashboard" }).waitFor({ timeout: TIMEOUT });
  await page.goto(firstLink(mail));
  await page.getByRole("heading", { name: "This reset link did not work" }).waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "a used reset link");
  assert.deepEqual(errors, []);
  await context.close();
});
