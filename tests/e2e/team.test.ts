// Issue 9 item 6: an owner invites a teammate from the Team page; the invitation arrives in the mail
// catcher; the teammate signs in with the invited address, accepts, works leads, and cannot change
// settings: the page is read-only and a direct API call is refused. Another account cannot use the link,
// and it works once. Each state is checked at 390 px and with axe.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "@supabase/supabase-js";
import type { Browser } from "playwright-core";
import WebSocket from "ws";
import { Inbox } from "../../local/mail/inbox.ts";
import { createOwnerAccount } from "../support/fixtures.ts";
import type { Stack } from "../support/stack.ts";
import { assertUsable, PHONE } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, SCREENSHOTS, signIn, TIMEOUT } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
});

after(async () => {
  await browser?.close();
});

test("an invited staff member joins from the email, works leads, and cannot change settings", async () => {
  const own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  const teammate = await createOwnerAccount(stack); // a confirmed account of its own, no business yet
  const stranger = await createOwnerAccount(stack);

  // the owner invites
  const ownerContext = await browser.newContext({ viewport: PHONE });
  const owner = await ownerContext.newPage();
  await signIn(owner, stack.dashboardUrl!, own.email, own.password);
  await owner.getByRole("link", { name: "Team" }).click();
  await owner.getByRole("heading", { name: "Team", exact: true, level: 1 }).waitFor({ timeout: TIMEOUT });
  await owner.getByLabel("Email").fill("not-an-address");
  await owner.getByRole("button", { name: "Send invitation" }).click();
  await owner.getByText("Enter an email address, like name@example.com").waitFor({ timeout: TIMEOUT });
  await owner.getByLabel("Email").fill(teammate.email.toUpperCase());
  await owner.getByLabel("Role").selectOption("staff");
  await owner.getByRole("button", { name: "Send invitation" }).click();
  await owner.getByText(`Invitation sent to ${teammate.email}`).waitFor({ timeout: TIMEOUT });
  await owner.getByRole("button", { name: `Withdraw the invitation to ${teammate.email}` }).waitFor({ timeout: TIMEOUT });
  await assertUsable(owner, "team page with a pending invitation");

  // the email, from the catcher
  const [mail] = await new Inbox(stack.mailUrl).waitFor(teammate.email, { timeoutMs: TIMEOUT });
  assert.match(mail.subject, new RegExp(`invited you to ${own.businessName}`));
  const link = /https?:\/\/\S+\/join\?token=[0-9a-f]{64}/.exec(mail.text)?.[0];
  assert.ok(link, `the email carries the accept link: ${mail.text}`);
  const url = new URL(link);
  const acceptUrl = new URL(url.pathname + url.search, stack.dashboardUrl!).toString();

  // another account cannot use it
  const strangerContext = await browser.newContext({ viewport: PHONE });
  const strangerPage = await strangerContext.newPage();
  await strangerPage.goto(acceptUrl);
  await strangerPage.getByLabel("Email").fill(stranger.email);
  await strangerPage.getByLabel("Password").fill(stranger.password);
  await strangerPage.getByRole("button", { name: "Sign in" }).click();
  await strangerPage.getByRole("button", { name: "Accept invitation" }).click();
  await strangerPage.getByText(`this invitation is for ${teammate.email}`, { exact: false }).waitFor({ timeout: TIMEOUT });
  await assertUsable(strangerPage, "accept page refusing another account");
  await strangerContext.close();

  // the teammate: sign in first (the link brings them back), then accept
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await page.goto(acceptUrl);
  await page.getByLabel("Email").fill(teammate.email);
  await page.getByLabel("Password").fill(teammate.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Join the team" }).waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "accept page");
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await page.getByText(own.businessName).first().waitFor({ timeout: TIMEOUT });
  await page.getByRole("link", { name: "Leads" }).waitFor({ timeout: TIMEOUT });

  // read-only settings in the UI
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByText("Only the business owner can change these settings.", { exact: false }).waitFor({ timeout: TIMEOUT });
  assert.equal(await page.getByRole("button", { name: "Save business" }).count(), 0);
  assert.equal(await page.getByLabel("Business name").isDisabled(), true);
  await page.getByRole("link", { name: "Team" }).click();
  await page.getByText("Only owners invite and remove members.").waitFor({ timeout: TIMEOUT });
  await page.getByRole("region", { name: "Members" }).getByText(teammate.email).waitFor({ timeout: TIMEOUT });
  assert.equal(await page.getByRole("button", { name: "Send invitation" }).count(), 0);
  await assertUsable(page, "team page for staff");
  await page.screenshot({ path: join(SCREENSHOTS, "dashboard-team-staff.png"), fullPage: true });

  // ...and at the API, with the teammate's own session
  const db = createClient(stack.supabaseUrl, stack.anonKey, { auth: { persistSession: false }, realtime: { transport: WebSocket as never } });
  assert.equal((await db.auth.signInWithPassword({ email: teammate.email, password: teammate.password })).error, null);
  const renamed = await db.from("businesses").update({ name: "Staff rename", daily_sms_cap: 1 }, { count: "exact" }).eq("id", own.businessId);
  assert.equal(renamed.count, 0, "RLS: staff change no settings");
  const invited = await db.rpc("invite_member", { p_business_id: own.businessId, p_email: "friend@example.com", p_role: "owner" });
  assert.equal(invited.error?.code, "42501", "staff cannot invite");
  const again = await db.rpc("accept_invitation", { p_token: url.searchParams.get("token")! });
  assert.match(again.error?.message ?? "", /already used/, "the link works once");
  const { data: member } = await own.admin.from("business_members").select("role").eq("business_id", own.businessId).eq("user_id", teammate.userId).single();
  assert.deepEqual(member, { role: "staff" });
  await context.close();

  // the owner sees the new member and may remove them
  await owner.reload();
  await owner.getByRole("button", { name: `Remove ${teammate.email} from the team` }).click();
  await owner.getByRole("button", { name: `Remove ${teammate.email}`, exact: true }).click();
  await owner.getByRole("button", { name: `Remove ${teammate.email} from the team` }).waitFor({ state: "detached", timeout: TIMEOUT });
  assert.equal(await owner.getByRole("button", { name: `Remove ${own.email} from the team` }).count(), 0, "an owner cannot remove themselves");
  await ownerContext.close();
});
