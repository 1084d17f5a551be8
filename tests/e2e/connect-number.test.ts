// Issue 9's number step, for an owner whose Twilio account already has the number: the wizard lists the
// account's numbers that no business uses and connects the one picked; another business's number is never
// shown. Checked with axe and at 390 px.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createClient } from "@supabase/supabase-js";
import pg from "pg";
import type { Browser } from "playwright-core";
import WebSocket from "ws";
import { TwilioEmulatorControl } from "../../local/twilio/client.ts";
import { createOwnerAccount, randomPhone } from "../support/fixtures.ts";
import type { Stack } from "../support/stack.ts";
import { assertUsable } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, signIn, TIMEOUT, uniquePhone } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
});

after(async () => {
  await browser?.close();
});

test("an owner connects a number the Twilio account already has, picked from a list without other businesses' numbers", async () => {
  const origin = new URL(stack.dashboardUrl!).origin;
  const neighbour = await createOwnBusiness(stack, origin); // its number is in the same Twilio account
  const emulator = new TwilioEmulatorControl(stack.twilioUrl.replace(/\/+$/, ""));
  const tag = randomBytes(3).toString("hex");
  const free = await emulator.configureNumber({ phoneNumber: randomPhone(), smsUrl: null, friendlyName: `Front desk ${tag}` });

  // A new owner whose business has no number yet (the wizard's number step).
  const owner = await createOwnerAccount(stack);
  const asOwner = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  const { error: signInError } = await asOwner.auth.signInWithPassword({ email: owner.email, password: owner.password });
  assert.ifError(signInError);
  const { data: businessId, error } = await asOwner.rpc("create_business", {
    p_name: `Front Desk Plumbing ${tag}`, p_owner_phone: uniquePhone().e164, p_timezone: "America/Chicago",
  });
  assert.ifError(error);

  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await signIn(page, stack.dashboardUrl!, owner.email, owner.password);
  await page.getByRole("button", { name: "Sign out" }).waitFor({ timeout: TIMEOUT });
  await page.goto(new URL("/welcome", stack.dashboardUrl).toString());
  await page.getByRole("heading", { name: "Your texting number" }).waitFor({ timeout: TIMEOUT });

  await page.getByText("I already have a number in leadloop's Twilio account").click();
  const list = page.getByRole("list", { name: "Numbers in the account" });
  const connect = list.getByRole("button", { name: `Connect Front desk ${tag}` });
  await connect.waitFor({ timeout: TIMEOUT });
  const listed = (await list.textContent()) ?? "";
  assert.ok(listed.includes(free.phoneNumber), "the number is shown beside its name");
  assert.ok(!listed.includes(neighbour.twilioNumber), "another business's number is never offered");
  await assertUsable(page, "onboarding: the account's numbers");

  await connect.click();
  await page.getByRole("heading", { name: "Confirm your phone" }).waitFor({ timeout: TIMEOUT });

  const db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  try {
    const { rows } = await db.query("select twilio_number, twilio_number_sid from public.businesses where id = $1", [businessId]);
    assert.deepEqual(rows[0], { twilio_number: free.phoneNumber, twilio_number_sid: free.sid });
  } finally {
    await db.end();
  }
  await context.close();
});
