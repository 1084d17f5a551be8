// Working a lead in the dashboard (issue 10): status, notes and history on the lead page, the composer
// with its live segment count, the reply in the thread with its author, and the CSV download from the
// leads page, a stranger's text under Other texts; every page usable at 390 px and free of serious axe violations.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import type { Stack } from "../support/stack.ts";
import { assertUsable, PHONE } from "./checks.ts";
import { createOwnBusiness, openBrowserStack, signIn, TIMEOUT, uniquePhone } from "./fixtures.ts";

let browser: Browser;
let stack: Stack;

before(async () => {
  ({ stack, browser } = await openBrowserStack());
});

after(async () => {
  await browser?.close();
});

test("the owner works a lead from a phone: status, notes, a reply with its segment count, then the CSV", async () => {
  const own = await createOwnBusiness(stack, new URL(stack.dashboardUrl!).origin);
  const lead = uniquePhone();
  const { data: inserted, error } = await own.admin.from("leads")
    .insert({ widget_id: own.widgetId, name: "Dana Whitfield", phone: lead.e164, message: "=Leaking, sink", sms_consent: true })
    .select("id").single();
  assert.equal(error, null);

  const context = await browser.newContext({ viewport: PHONE, acceptDownloads: true });
  const page = await context.newPage();
  await signIn(page, stack.dashboardUrl!, own.email, own.password);
  await page.getByRole("link", { name: /Dana Whitfield/ }).click();
  await page.getByRole("heading", { name: "Dana Whitfield" }).waitFor({ timeout: TIMEOUT });
  assert.ok(page.url().endsWith(`/leads/${inserted!.id}`));

  await page.getByLabel("Status").selectOption("contacted");
  await page.getByTestId("lead-history").getByText("changed the status from New to Contacted").waitFor({ timeout: TIMEOUT });
  await page.getByLabel("Notes").fill("Call back after 5");
  await page.getByRole("button", { name: "Save notes" }).click();
  await page.getByTestId("lead-history").getByText("edited the notes: “Call back after 5”").waitFor({ timeout: TIMEOUT });

  const composer = page.getByLabel("Message to Dana Whitfield");
  await composer.fill("Hi Dana, this is the owner. ".repeat(6));
  await page.getByTestId("segment-count").getByText("168 characters · 2 SMS segments").waitFor({ timeout: TIMEOUT });
  await composer.fill("Hi Dana — can I call at 3?");
  await page.getByTestId("segment-count").getByText("26 characters · 1 SMS (Unicode: 70 per SMS)").waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "lead page with the pipeline and composer at 390 px");
  await page.getByRole("button", { name: "Send" }).click();
  const reply = page.getByTestId("sms-thread").locator("li", { hasText: "Hi Dana — can I call at 3?" });
  await reply.waitFor({ timeout: TIMEOUT });
  assert.match(await reply.innerText(), new RegExp(own.email.replace(/[.+]/g, "\\$&")), "the reply names the member who wrote it");

  await page.getByRole("link", { name: "← All leads" }).click();
  await page.getByRole("heading", { name: "Leads" }).waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "leads page with the export button at 390 px");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  const csv = readFileSync((await download.path())!);
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 with BOM");
  const text = csv.subarray(3).toString("utf8");
  assert.match(text, /^lead_id,received_at,name,phone,/);
  assert.match(text, /,Dana Whitfield,'\+1\d{10},,"'=Leaking, sink",/, "the formula-looking message is neutralised and quoted");
  assert.match(text, /,contacted,,Call back after 5,/);

  // A stranger's text is kept and listed under Other texts.
  const sid = `SM${crypto.randomUUID().replaceAll("-", "")}`;
  assert.equal((await own.admin.rpc("receive_inbound_sms", { p_message_sid: sid, p_from: "+13125550142", p_to: own.twilioNumber, p_body: "Is the shop open Saturday?" })).error, null);
  assert.equal((await own.admin.rpc("process_inbound_sms", { p_message_sid: sid })).error, null);
  await page.getByRole("link", { name: "Other texts" }).click();
  await page.getByTestId("other-texts").getByText("Is the shop open Saturday?").waitFor({ timeout: TIMEOUT });
  await assertUsable(page, "other texts at 390 px");
  await context.close();
});
