// Sign-in by email link (supabase-js signInWithOtp with shouldCreateUser: false): the sign-in page asks for
// the link, shows "check your inbox", and the link from the mail catcher lands the browser signed in on the
// page the person was going to. The code in the same mail works too; an address without an account gets
// the same answer and no mail; a second request within max_frequency is told when to ask again; a used
// link comes back to the sign-in page with the reason. Each state is checked with axe and at 390 px.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { firstLink, Inbox, oneTimeCode } from "../../local/mail/inbox.ts";
import type { Stack } from "../support/stack.ts";
import { assertUsable } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, TIMEOUT } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;
let inbox: Inbox;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
  inbox = new Inbox(stack.mailUrl.replace(/\/+$/, ""));
});

after(async () => {
  await browser?.close();
});

const dashboard = (path: string) => new URL(path, stack.dashboardUrl).toString();

async function askForLink(page: Page, email: string): Promise<void> {
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("heading", { name: "Sign in with an email link" }).waitFor({ timeout: TIMEOUT });
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("heading", { name: "Check your inbox" }).waitFor({ timeout: TIMEOUT });
}

test("the emailed link signs the owner in and lands on the page they were going to", async () => {
  const own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  await page.goto(dashboard("/settings"));
  await page.waitForURL(/\/sign-in\?redirect=%2Fsettings/, { timeout: TIMEOUT });
  await page.getByRole("heading", { name: "Sign in to your dashboard" }).waitFor({ timeout: TIMEOUT });
  await page.getByLabel("Email", { exact: true }).fill(own.email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("heading", { name: "Sign in with an email link" }).waitFor({ timeout: TIMEOUT });
  assert.equal(await page.getByLabel("Email", { exact: true }).inputValue(), own.email, "the address typed for the password is kept");
  await assertUsable(page, "sign in with an email link");
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("heading", { name: "Check your inbox" }).waitFor({ timeout: TIMEOUT });
  await page.getByText(`If ${own.email} has a leadloop account, a sign-in link is on its way`).waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "check your inbox");

  // Asking again at once: max_frequency (60 s) says when.
  await page.getByRole("button", { name: "Use a different email" }).click();
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("alert").getByText(/You can ask for another in \d+ seconds/).waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "sign-in link asked for twice");

  const mails = await inbox.waitFor(own.email, { timeoutMs: TIMEOUT });
  assert.equal(mails.length, 1, "one mail for the two requests");
  const link = firstLink(mails[0]);
  assert.match(link, /\/auth\/v1\/verify\?token=[^&]+&type=magiclink&redirect_to=/);
  await page.goto(link);
  await page.waitForURL((url) => url.pathname === "/settings", { timeout: TIMEOUT });
  await page.getByRole("button", { name: "Sign out" }).waitFor({ timeout: TIMEOUT });
  await page.getByText(own.businessName).first().waitFor({ timeout: TIMEOUT });
  assert.equal(new URL(page.url()).hash, "", "the tokens are not left in the address bar");
  await assertUsable(page, "settings after the sign-in link");

  // The link works once: opened again in another browser, it comes back to sign-in with the reason.
  const other = await (await browser.newContext()).newPage();
  await other.goto(link);
  await other.getByRole("heading", { name: "Sign in to your dashboard" }).waitFor({ timeout: TIMEOUT });
  await other.getByRole("alert").getByText("That code or link has expired or was already used").waitFor({ timeout: TIMEOUT });
  await assertUsable(other, "sign in after a used link");
  await other.context().close();

  assert.deepEqual(errors, []);
  await context.close();
});

test("the code from the mail signs in too; an unknown address gets the same answer and no mail", async () => {
  const own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();

  const nobody = `nobody-${randomBytes(4).toString("hex")}@example.com`;
  await page.goto(dashboard("/sign-in"));
  await askForLink(page, nobody);
  await page.getByText(`If ${nobody} has a leadloop account, a sign-in link is on its way`).waitFor({ timeout: TIMEOUT });

  await page.getByRole("button", { name: "Use a different email" }).click();
  await page.getByLabel("Email", { exact: true }).fill(own.email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("heading", { name: "Check your inbox" }).waitFor({ timeout: TIMEOUT });
  const [mail] = await inbox.waitFor(own.email, { timeoutMs: TIMEOUT });

  await page.getByLabel("Or enter the 6-digit code from the email").fill("12");
  await page.getByRole("button", { name: "Sign in with the code" }).click();
  await page.getByRole("alert").getByText("Enter the 6-digit code from the email.").waitFor({ timeout: TIMEOUT });
  await page.getByLabel("Or enter the 6-digit code from the email").fill(oneTimeCode(mail));
  await page.getByRole("button", { name: "Sign in with the code" }).click();
  await page.waitForURL((url) => url.pathname === "/", { timeout: TIMEOUT });
  await page.getByRole("button", { name: "Sign out" }).waitFor({ timeout: TIMEOUT });

  // The unknown address's request was answered like the real one, and nothing was sent to it.
  assert.deepEqual(await inbox.to(nobody), []);
  await context.close();
});
