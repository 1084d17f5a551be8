// The number resources through the official `twilio` client: searching AvailablePhoneNumbers, buying,
// listing, updating and releasing IncomingPhoneNumbers, and what owning (or no longer owning) a number
// means for sending and receiving.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { emulatorTwilioClient } from "./client.ts";
import { startTwilioEmulator } from "./server.ts";
import { newPhone, startTestEmulator, startWebhookReceiver, type WebhookReceiver } from "./test-support.ts";

let emu: Awaited<ReturnType<typeof startTestEmulator>>;
let app: WebhookReceiver;

before(async () => {
  emu = await startTestEmulator();
  app = await startWebhookReceiver();
});
after(async () => {
  await emu.close();
  await app.close();
});

/** What the client raises for a Twilio error: the HTTP status and Twilio's code. */
async function twilioError(promise: Promise<unknown>): Promise<{ status: number; code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { status: number; code: number; message: string };
    return { status: e.status, code: e.code, message: e.message };
  }
  assert.fail("expected a Twilio error");
}

describe("AvailablePhoneNumbers", () => {
  test("searches local numbers by area code with the city, state and SMS capability of each", async () => {
    const found = await emu.client.availablePhoneNumbers("US").local.list({ areaCode: 415, smsEnabled: true, limit: 20 });
    assert.equal(found.length, 20);
    for (const n of found) {
      assert.match(n.phoneNumber, /^\+14155550(1\d\d)$/);
      assert.equal(n.friendlyName, `(415) 555-${n.phoneNumber.slice(-4)}`);
      assert.equal(n.locality, "San Francisco");
      assert.equal(n.region, "CA");
      assert.equal(n.isoCountry, "US");
      assert.equal(n.postalCode, "94103");
      assert.equal(n.rateCenter, "SNFC CNTRL");
      // Twilio spells the capabilities of available numbers in upper case.
      assert.deepEqual(n.capabilities, { voice: true, SMS: true, MMS: true } as never);
    }
    const any = await emu.client.availablePhoneNumbers("US").local.list({ areaCode: 415, limit: 20 });
    assert.ok(any.some((n) => !(n.capabilities as unknown as { SMS: boolean }).SMS), "some local numbers are voice-only");
  });

  test("filters by region, by a Contains pattern (keypad letters and wildcards) and by postal code", async () => {
    const texas = await emu.client.availablePhoneNumbers("US").local.list({ inRegion: "TX", limit: 40 });
    assert.ok(texas.length > 0);
    assert.deepEqual([...new Set(texas.map((n) => n.region))], ["TX"]);
    assert.ok(new Set(texas.map((n) => n.locality)).size > 1, "several Texas cities");
    const anchored = await emu.client.availablePhoneNumbers("US").local.list({ contains: "+1512", limit: 5 });
    assert.ok(anchored.length === 5 && anchored.every((n) => n.phoneNumber.startsWith("+1512")));
    const ending = await emu.client.availablePhoneNumbers("US").local.list({ contains: "0142$", limit: 50 });
    assert.ok(ending.length > 1 && ending.every((n) => n.phoneNumber.endsWith("0142")));
    // Letters are keypad digits: JKL = 555.
    const lettered = await emu.client.availablePhoneNumbers("US").local.list({ contains: "+1212JKL01*3", limit: 50 });
    assert.deepEqual(lettered.map((n) => n.phoneNumber).sort(), ["+12125550103", "+12125550113", "+12125550123", "+12125550133", "+12125550143",
      "+12125550153", "+12125550163", "+12125550173", "+12125550183", "+12125550193"]);
    const zip = await emu.client.availablePhoneNumbers("US").local.list({ inPostalCode: "78701", limit: 3 });
    assert.ok(zip.length === 3 && zip.every((n) => n.locality === "Austin"));
  });

  test("toll-free and Canadian numbers; unknown countries and types are 404; bad filters are 400", async () => {
    const tollFree = await emu.client.availablePhoneNumbers("US").tollFree.list({ limit: 10 });
    assert.ok(tollFree.every((n) => /^\+18(00|33|44|55|66|77|88)/.test(n.phoneNumber) && n.locality === null));
    const canada = await emu.client.availablePhoneNumbers("CA").local.list({ areaCode: 416, limit: 2 });
    assert.deepEqual(canada.map((n) => [n.locality, n.region, n.isoCountry]), [["Toronto", "ON", "CA"], ["Toronto", "ON", "CA"]]);
    assert.equal((await twilioError(emu.client.availablePhoneNumbers("ZZ").local.list())).status, 404);
    assert.equal((await twilioError(emu.client.availablePhoneNumbers("US").mobile.list())).status, 404);
    assert.deepEqual(await twilioError(emu.client.availablePhoneNumbers("US").local.list({ contains: "1" })),
      { status: 400, code: 20001, message: "Invalid Pattern Provided: 1" });
    assert.equal((await twilioError(emu.client.availablePhoneNumbers("US").local.list({ areaCode: 41 }))).code, 21451);
    assert.deepEqual(await emu.client.availablePhoneNumbers("US").local.list({ areaCode: 999 }), []);
    const country = await emu.client.availablePhoneNumbers("US").fetch();
    assert.equal(country.country, "United States");
  });

  test("needs the account's credentials", async () => {
    const stranger = emulatorTwilioClient(emu.url, emu.accountSid, "not-the-token");
    assert.deepEqual(await twilioError(stranger.availablePhoneNumbers("US").local.list({ areaCode: 415 })),
      { status: 401, code: 20003, message: "Authenticate" });
  });
});

describe("IncomingPhoneNumbers", () => {
  test("buying a number makes it the account's: configured, listed, searchable no more, and it can text and be texted", async () => {
    const [offered] = await emu.client.availablePhoneNumbers("US").local.list({ areaCode: 303, smsEnabled: true, limit: 1 });
    const bought = await emu.client.incomingPhoneNumbers.create({
      phoneNumber: offered.phoneNumber,
      friendlyName: "Mile High Plumbing",
      smsUrl: `${app.url}/sms#rc=3&rp=5xx,ct,rt`,
      smsFallbackUrl: `${app.url}/fallback`,
      statusCallback: `${app.url}/voice-status`,
    });
    assert.match(bought.sid, /^PN[0-9a-f]{32}$/);
    assert.equal(bought.phoneNumber, offered.phoneNumber);
    assert.equal(bought.friendlyName, "Mile High Plumbing");
    assert.equal(bought.smsUrl, `${app.url}/sms#rc=3&rp=5xx,ct,rt`);
    assert.equal(bought.smsMethod, "POST");
    assert.equal(bought.smsFallbackUrl, `${app.url}/fallback`);
    assert.equal(bought.statusCallback, `${app.url}/voice-status`);
    assert.equal(bought.origin, "twilio");
    assert.equal(bought.status, "in-use");
    assert.deepEqual(bought.capabilities, { voice: true, sms: true, mms: true, fax: false });
    assert.ok(bought.dateCreated instanceof Date && !Number.isNaN(bought.dateCreated.getTime()));

    const again = await emu.client.availablePhoneNumbers("US").local.list({ areaCode: 303, limit: 100 });
    assert.ok(!again.some((n) => n.phoneNumber === offered.phoneNumber), "a bought number is no longer offered");
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers.create({ phoneNumber: offered.phoneNumber }))).code, 21422);

    const [listed] = await emu.client.incomingPhoneNumbers.list({ phoneNumber: offered.phoneNumber });
    assert.equal(listed.sid, bought.sid);
    assert.equal((await emu.client.incomingPhoneNumbers(bought.sid).fetch()).friendlyName, "Mile High Plumbing");

    const sent = await emu.client.messages.create({ from: bought.phoneNumber, to: newPhone(), body: "We can come at 3" });
    assert.equal(sent.status, "queued");
    const { sid } = await emu.control.inbound({ from: newPhone(), to: bought.phoneNumber, body: "hi" });
    const [hook] = await app.waitFor((r) => r.params.MessageSid === sid);
    assert.equal(hook.path, "/sms");
  });

  test("buying by area code picks an available number there; Twilio's errors otherwise", async () => {
    const bought = await emu.client.incomingPhoneNumbers.create({ areaCode: "617", smsUrl: `${app.url}/sms` });
    assert.match(bought.phoneNumber, /^\+16175550/);
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers.create({ areaCode: "999" }))).code, 21452);
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers.create({ areaCode: "61" }))).code, 21451);
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers.create({}))).code, 21421);
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers.create({ phoneNumber: "+15551234567" }))).code, 21422);
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers.create({ areaCode: "617", smsUrl: "ftp://x" }))).code, 21502);
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers.create({ areaCode: "617", smsFallbackUrl: `${app.url}/f` }))).code, 21406);
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers.create({ areaCode: "617", smsMethod: "PUT" }))).code, 20001);
  });

  test("updating sets the messaging webhooks like the console; an empty SmsUrl clears it", async () => {
    const bought = await emu.client.incomingPhoneNumbers.create({ areaCode: "206" });
    assert.equal(bought.smsUrl, "");
    const updated = await emu.client.incomingPhoneNumbers(bought.sid).update({ smsUrl: `${app.url}/in`, smsMethod: "GET", friendlyName: "Rainy" });
    assert.deepEqual([updated.smsUrl, updated.smsMethod, updated.friendlyName], [`${app.url}/in`, "GET", "Rainy"]);
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers(bought.sid).update({ smsUrl: "", smsFallbackUrl: `${app.url}/f` }))).code, 21406);
    const cleared = await emu.client.incomingPhoneNumbers(bought.sid).update({ smsUrl: "" });
    assert.equal(cleared.smsUrl, "");
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers("PN" + "0".repeat(32)).update({ smsUrl: `${app.url}/x` }))).status, 404);
  });

  test("releasing a number: gone from the account, sends from it fail with 21606, texts to it go nowhere, it is offered again", async () => {
    const bought = await emu.client.incomingPhoneNumbers.create({ areaCode: "702", smsUrl: `${app.url}/sms` });
    assert.equal(await emu.client.incomingPhoneNumbers(bought.sid).remove(), true);
    assert.equal((await twilioError(emu.client.incomingPhoneNumbers(bought.sid).fetch())).status, 404);
    assert.equal((await twilioError(emu.client.messages.create({ from: bought.phoneNumber, to: newPhone(), body: "x" }))).code, 21606);
    await assert.rejects(emu.control.inbound({ from: newPhone(), to: bought.phoneNumber, body: "hello?" }), /404/);
    const offered = await emu.client.availablePhoneNumbers("US").local.list({ contains: `+${bought.phoneNumber.slice(1)}` });
    assert.deepEqual(offered.map((n) => n.phoneNumber), [bought.phoneNumber]);
  });

  test("a voice-only number cannot send texts (21606), as on Twilio", async () => {
    const bought = await emu.client.incomingPhoneNumbers.create({ phoneNumber: "+14045550107" });
    assert.equal(bought.capabilities.sms, false);
    assert.equal((await twilioError(emu.client.messages.create({ from: bought.phoneNumber, to: newPhone(), body: "x" }))).code, 21606);
  });

  test("the list pages like every Twilio list and filters by partial number", async () => {
    const own = await startTestEmulator();
    try {
      for (const areaCode of ["212", "213", "214"]) await own.client.incomingPhoneNumbers.create({ areaCode });
      await own.control.configureNumber({ phoneNumber: "+15555550199", smsUrl: null });
      const page = await own.client.incomingPhoneNumbers.page({ pageSize: 2 });
      assert.equal(page.instances.length, 2);
      const next = await page.nextPage();
      assert.equal(next!.instances.length, 2);
      assert.equal(await next!.nextPage(), undefined);
      const all = await own.client.incomingPhoneNumbers.list({ pageSize: 3 });
      assert.deepEqual(all.map((n) => n.origin), ["twilio", "twilio", "twilio", "hosted"]);
      assert.equal((await own.client.incomingPhoneNumbers.list({ phoneNumber: "213555" })).length, 1);
      assert.equal((await own.client.incomingPhoneNumbers.list({ phoneNumber: "+1 (555) 555-0199" }))[0].origin, "hosted");
      assert.equal((await own.client.incomingPhoneNumbers.list({ origin: "hosted" })).length, 1);
    } finally {
      await own.close();
    }
  });

  test("numbers survive a restart when the emulator keeps them in a file, for the same account only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twilio-numbers-"));
    const numbersFile = join(dir, "numbers.json");
    const accountSid = "AC" + "a".repeat(32);
    try {
      const first = await startTwilioEmulator({ port: 0, accountSid, authToken: "token", numbersFile });
      const bought = await emulatorTwilioClient(first.url, accountSid, "token").incomingPhoneNumbers.create({ areaCode: "808", smsUrl: `${app.url}/sms` });
      await first.close();
      const second = await startTwilioEmulator({ port: 0, accountSid, authToken: "token", numbersFile });
      const kept = await emulatorTwilioClient(second.url, accountSid, "token").incomingPhoneNumbers(bought.sid).fetch();
      assert.deepEqual([kept.phoneNumber, kept.smsUrl], [bought.phoneNumber, `${app.url}/sms`]);
      await second.close();
      const otherAccount = "AC" + "b".repeat(32);
      const third = await startTwilioEmulator({ port: 0, accountSid: otherAccount, authToken: "token", numbersFile });
      assert.deepEqual(await emulatorTwilioClient(third.url, otherAccount, "token").incomingPhoneNumbers.list(), []);
      await third.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
