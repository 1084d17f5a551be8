// The phone page in a real browser: the account's numbers as bought, then a person opens a phone,
// texts a Twilio number as the lead, and sees the message, its webhook state, the TwiML reply and its
// delivery, all live.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { newPhone, startTestEmulator, startWebhookReceiver, type WebhookReceiver } from "./test-support.ts";

type Emulator = Awaited<ReturnType<typeof startTestEmulator>>;
let emu: Emulator;
let app: WebhookReceiver;
let browser: Browser;

before(async () => {
  emu = await startTestEmulator({ deliveryDelayMs: 150 });
  app = await startWebhookReceiver();
  app.respond = (request, res) => {
    res.writeHead(200, { "content-type": "text/xml" });
    res.end(`<Response><Message>Got it: ${request.params.Body.toUpperCase()}</Message></Response>`);
  };
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

test("a person texts a bought Twilio number as a lead and sees the delivery states live", async () => {
  const owner = newPhone();
  const lead = newPhone();
  await emu.control.setPhone({ phone: owner, lineType: "mobile", label: "Owner (Test Plumbing)" });

  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`${emu.url}/phone`);
  await page.locator("#live[data-state=open]").waitFor();

  // A number bought through the API shows up at once, with where its texts go and its retry settings.
  const bought = await emu.client.incomingPhoneNumbers.create({
    areaCode: "512",
    friendlyName: "Test Plumbing",
    smsUrl: `${app.url}/sms#rc=3&rp=5xx,ct,rt`,
    smsFallbackUrl: `${app.url}/fallback`,
  });
  const business = bought.phoneNumber;
  const listed = page.locator(`#number-list li[data-number="${business}"]`);
  await listed.waitFor();
  assert.match(await listed.innerText(), new RegExp(`Test Plumbing \\${business}[\\s\\S]*bought[\\s\\S]*SMS → ${app.url}/sms #rc=3&rp=5xx,ct,rt[\\s\\S]*Fallback → ${app.url}/fallback`, "i"));
  const spare = await emu.client.incomingPhoneNumbers.create({ areaCode: "512" });
  await page.locator(`#number-list li[data-number="${spare.phoneNumber}"]`, { hasText: "SMS: no webhook" }).waitFor();
  await emu.client.incomingPhoneNumbers(spare.sid).remove();
  await page.locator(`#number-list li[data-number="${spare.phoneNumber}"]`).waitFor({ state: "detached" });

  // The owner's phone gets an alert while the page is open: it must show up without a reload.
  await page.locator("#phone-list li", { hasText: "Owner (Test Plumbing)" }).click();
  const ownerPhone = page.locator(`section.handset[data-phone="${owner}"]`);
  await ownerPhone.waitFor();
  const alert = await emu.client.messages.create({ from: business, to: owner, body: "New lead: Sam, leaking pipe" });
  await ownerPhone.locator(`[data-sid="${alert.sid}"]`, { hasText: "Delivered" }).waitFor();

  // Become the lead: type a number, start a thread with the business, send a text.
  await page.fill("#open-phone-input", lead);
  await page.click("#open-phone button");
  const leadPhone = page.locator(`section.handset[data-phone="${lead}"]`);
  await leadPhone.waitFor();
  await leadPhone.locator(".new-thread select").selectOption(business);
  await leadPhone.locator(".new-thread button").click();
  await leadPhone.locator("textarea").fill("my sink is leaking");
  await leadPhone.locator("textarea").press("Enter");

  const mine = leadPhone.locator(".bubble-row.mine", { hasText: "my sink is leaking" });
  await mine.locator(".state", { hasText: "webhook 200" }).waitFor();
  const [delivered] = app.requests.filter((r) => r.params.From === lead);
  assert.equal(delivered.url, `${app.url}/sms`, "delivered to the number's SmsUrl, without the fragment");
  const reply = leadPhone.locator(".bubble-row.theirs", { hasText: "Got it: MY SINK IS LEAKING" });
  await reply.locator(".state", { hasText: "Delivered" }).waitFor();

  // What the page shows is what the emulator recorded and the app received.
  const thread = await emu.control.messages(lead);
  assert.deepEqual(thread.map((m) => [m.direction, m.body, m.status]), [
    ["inbound", "my sink is leaking", "received"],
    ["outbound-reply", "Got it: MY SINK IS LEAKING", "delivered"],
  ]);
  assert.equal(app.requests.filter((r) => r.params.From === lead).length, 1);

  // A landline lead's failed delivery is shown as such.
  await leadPhone.locator(".back").click();
  await leadPhone.locator('select[aria-label="Line type"]').selectOption("landline");
  await page.locator("#phone-list li", { hasText: lead }).locator(".badge.landline").waitFor();
  const failed = await emu.client.messages.create({ from: business, to: lead, body: "Can we call you?" });
  await leadPhone.locator(".thread").first().click();
  await leadPhone.locator(`[data-sid="${failed.sid}"] .state.bad`, { hasText: "30006" }).waitFor();

  // Faults and failed webhooks are visible to the person, and faults can be cleared from the page.
  await emu.client.messages.create({ from: business, to: owner, body: "Summary: Sam, sink leak, tomorrow AM", statusCallback: "http://127.0.0.1:9/down" });
  await page.locator("#failure-list li", { hasText: "Status callback" }).first().waitFor();
  await emu.control.fault({ mode: "http500", count: 2 });
  await page.locator("#fault-list li", { hasText: "http500" }).waitFor();
  const dir = join(tmpdir(), "leadloop-twilio");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, "phone-page-faults.png") });
  await page.click("#clear-faults");
  await page.locator("#no-faults").waitFor({ state: "visible" });
  assert.deepEqual(await (await fetch(`${emu.url}/emulator/faults`)).json(), []);

  const screenshot = join(dir, "phone-page.png");
  await page.screenshot({ path: screenshot });
  console.log(`phone page screenshot: ${screenshot}`);
  assert.deepEqual(pageErrors, []);
  await page.close();
});
