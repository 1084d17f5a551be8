// Issue 9 item 5: the settings page for everything an owner owns. The owner changes the business's details
// (a new owner phone is confirmed again by code), rewords the first text to a lead with a live preview the
// database renders and a segment counter, and keeps the do-not-text list with reasons and a history. A staff
// member sees it all read-only (but may add a do-not-text number), and the API refuses them too. Every state
// is checked at 390 px and with axe.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "@supabase/supabase-js";
import type { Browser, Page } from "playwright-core";
import WebSocket from "ws";
import type { Stack } from "../support/stack.ts";
import { assertUsable, PHONE } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, type OwnBusiness, SCREENSHOTS, signIn, TIMEOUT, uniquePhone } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
});

after(async () => {
  await browser?.close();
});

async function openSettings(own: OwnBusiness, viewport: { width: number; height: number } = PHONE): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await signIn(page, stack.dashboardUrl!, own.email, own.password);
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Settings", exact: true, level: 1 }).waitFor({ timeout: TIMEOUT });
  await page.getByLabel("Text", { exact: true }).waitFor({ timeout: TIMEOUT }); // the texts list has loaded
  return page;
}

const section = (page: Page, title: string) => page.getByRole("region", { name: title, exact: true });

test("the owner changes the business: name, zone, language, countries, STOP confirmation, and a new phone to confirm", async () => {
  const own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  const page = await openSettings(own);
  const business = section(page, "Business");
  await assertUsable(page, "settings page at 390 px");

  await business.getByLabel("Your phone for lead alerts").fill("555-0123");
  await business.getByRole("button", { name: "Save business" }).click();
  await business.getByText("Enter a phone number, like (415) 555-0123").waitFor({ timeout: TIMEOUT });

  const phone = uniquePhone();
  await business.getByLabel("Business name").fill("Renamed Roofing");
  await business.getByLabel("Your phone for lead alerts").fill(phone.typed);
  await business.getByLabel("Time zone").selectOption("America/Chicago");
  await business.getByLabel("Language").selectOption("es");
  await business.getByLabel("Twilio sends it").check();
  await business.getByLabel("Puerto Rico").check();
  await business.getByRole("button", { name: "Save business" }).click();
  await business.getByText("We texted a code to the new phone", { exact: false }).waitFor({ timeout: TIMEOUT });
  await page.getByRole("heading", { name: "Confirm your phone to get lead alerts" }).waitFor({ timeout: TIMEOUT });

  const { data, error } = await own.admin.from("businesses")
    .select("name, owner_phone, owner_phone_verified_at, timezone, default_locale, opt_out_confirmation_by, allowed_nanp_regions")
    .eq("id", own.businessId).single();
  assert.equal(error, null);
  assert.deepEqual({ ...data, allowed_nanp_regions: [...data!.allowed_nanp_regions].sort() }, {
    name: "Renamed Roofing", owner_phone: phone.e164, owner_phone_verified_at: null, timezone: "America/Chicago", default_locale: "es",
    opt_out_confirmation_by: "twilio", allowed_nanp_regions: ["CA", "PR", "US"],
  });
  await assertUsable(page, "settings page after a phone change");
  await page.context().close();
});

test("the owner rewords the first text with a live preview and segment counter, then resets it", async () => {
  const own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  const page = await openSettings(own);
  const texts = section(page, "Your texts");
  await texts.getByLabel("Text", { exact: true }).selectOption("text_back");
  await texts.getByLabel("Language").selectOption("en");
  const preview = texts.locator("#t-preview");
  await preview.getByText(`Hi Maria, this is ${own.businessName}.`, { exact: false }).waitFor({ timeout: TIMEOUT });

  await texts.getByLabel("Wording").fill("Hey {first_name}! {business} got your request. {question}");
  await preview.getByText("Can't use this yet: the text must tell the lead how to opt out", { exact: false }).waitFor({ timeout: TIMEOUT });
  assert.equal(await texts.getByRole("button", { name: "Save text" }).isDisabled(), true, "a draft the database refuses cannot be saved");
  await texts.getByLabel("Wording").fill("Hey {first_name}! {business} got your request. {question} Reply STOP to opt out.");
  await texts.getByLabel("When the lead's first name is unknown").fill("");
  await preview.getByText("this wording uses {first_name}", { exact: false }).waitFor({ timeout: TIMEOUT });
  await texts.getByLabel("When the lead's first name is unknown").fill("Hey! {business} got your request. {question} Reply STOP to opt out.");
  await preview.getByText(`Hey Maria! ${own.businessName} got your request.`, { exact: false }).waitFor({ timeout: TIMEOUT });
  const segments = await preview.getByTestId("segments").first().textContent();
  assert.match(segments ?? "", /^2 segments · GSM-7 · \d+\/306 characters/, "a long GSM-7 text is two segments");
  await assertUsable(page, "template editor with a preview");

  await texts.getByLabel("Wording").fill("¡Hola {first_name}! {business} 👋 {question} Reply STOP to opt out.");
  await preview.getByText("UCS-2", { exact: false }).first().waitFor({ timeout: TIMEOUT });
  await texts.getByLabel("Wording").fill("Hey {first_name}! {business} got your request. {question} Reply STOP to opt out.");
  await preview.getByText("GSM-7", { exact: false }).first().waitFor({ timeout: TIMEOUT });
  await texts.getByRole("button", { name: "Save text" }).click();
  await texts.getByText("Saved: texts from now on use it").waitFor({ timeout: TIMEOUT });
  const { data: saved } = await own.admin.from("sms_templates").select("key, locale, body").eq("business_id", own.businessId);
  assert.deepEqual(saved, [{ key: "text_back", locale: "en", body: "Hey {first_name}! {business} got your request. {question} Reply STOP to opt out." }]);
  await page.screenshot({ path: join(SCREENSHOTS, "dashboard-settings-template.png"), fullPage: true });

  await texts.getByRole("button", { name: "Reset to default" }).click();
  await preview.getByText(`Hi Maria, this is ${own.businessName}.`, { exact: false }).waitFor({ timeout: TIMEOUT });
  const { data: reset } = await own.admin.from("sms_templates").select("key").eq("business_id", own.businessId);
  assert.deepEqual(reset, []);
  await page.context().close();
});

test("the do-not-text list: added and removed with reasons, a lead's STOP explained, the history kept", async () => {
  const own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  const stopped = uniquePhone();
  const { error } = await own.admin.from("opt_outs").insert({ business_id: own.businessId, phone: stopped.e164, source: "keyword", matched_rule: "keyword:STOP" });
  assert.equal(error, null);
  const page = await openSettings(own);
  const list = section(page, "Do-not-text list");
  await list.getByText("The lead texted STOP").waitFor({ timeout: TIMEOUT });
  await list.getByText("Only the lead can undo this, by texting START to your number.").waitFor();

  const number = uniquePhone();
  await list.getByLabel("Phone number").fill(number.typed);
  await list.getByRole("button", { name: "Add number" }).click();
  await list.getByText("Say why (at least 3 characters)").waitFor({ timeout: TIMEOUT });
  await list.getByLabel("Reason").fill("Asked by phone not to be texted");
  await list.getByRole("button", { name: "Add number" }).click();
  await list.getByText(`${number.typed} will not be texted`).waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "do-not-text list at 390 px");

  const items = list.locator("li.dnt-item");
  assert.equal(await items.filter({ hasText: stopped.typed }).getByRole("button", { name: /Remove/ }).count(), 0, "a STOP cannot be removed");
  await items.filter({ hasText: number.typed }).getByRole("button", { name: `Remove ${number.typed}` }).click();
  await list.getByLabel(`Why may ${number.typed} be texted again?`).fill("Added by mistake");
  await list.getByRole("button", { name: "Remove from list" }).click();
  await items.filter({ hasText: number.typed }).waitFor({ state: "detached", timeout: TIMEOUT });
  await list.getByText("History (who, when, why)").click();
  await list.getByText(`removed`, { exact: false }).first().waitFor();
  await assertUsable(page, "do-not-text history");

  const { data } = await own.admin.from("do_not_text_events").select("action, reason, actor_email").eq("phone", number.e164).order("id");
  assert.deepEqual(data, [
    { action: "added", reason: "Asked by phone not to be texted", actor_email: own.email },
    { action: "removed", reason: "Added by mistake", actor_email: own.email },
  ]);
  await page.screenshot({ path: join(SCREENSHOTS, "dashboard-settings-do-not-text.png"), fullPage: true });
  await page.context().close();
});

test("a staff member sees every setting read-only, and the API refuses them too", async () => {
  const own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  const { error } = await own.admin.from("business_members").update({ role: "staff" }).eq("user_id", own.userId);
  assert.equal(error, null);
  const page = await openSettings(own);
  await page.getByText("Only the business owner can change these settings.", { exact: false }).waitFor({ timeout: TIMEOUT });
  for (const name of ["Save business", "Save settings", "Save text", "Reset to default"]) {
    assert.equal(await page.getByRole("button", { name }).count(), 0, `no ${name} button for staff`);
  }
  assert.equal(await page.getByLabel("Business name").isDisabled(), true);
  assert.equal(await page.getByLabel("Puerto Rico").isDisabled(), true);
  assert.equal(await page.getByLabel("Wording").getAttribute("readonly"), "");
  await assertUsable(page, "settings read-only for staff");

  // the same person, straight at the API with their own session
  const db = createClient(stack.supabaseUrl, stack.anonKey, { auth: { persistSession: false }, realtime: { transport: WebSocket as never } });
  const signedIn = await db.auth.signInWithPassword({ email: own.email, password: own.password });
  assert.equal(signedIn.error, null);
  const update = await db.from("businesses").update({ name: "Staff rename" }, { count: "exact" }).eq("id", own.businessId);
  assert.equal(update.count, 0, "RLS: staff change no business row");
  const template = await db.rpc("set_sms_template", {
    p_business_id: own.businessId, p_key: "nudge", p_locale: "en", p_body: "{business}: still there? Reply STOP to opt out.",
  });
  assert.equal(template.error?.code, "42501");
  const added = await db.rpc("add_do_not_text", { p_business_id: own.businessId, p_phone: uniquePhone().e164, p_reason: "Customer asked" });
  assert.equal(added.error, null, "staff may stop texts to a number");
  await page.context().close();
});
