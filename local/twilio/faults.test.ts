// Fault injection: 500s, 429s, timeouts and error codes for the next N calls or at a rate.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { emulatorTwilioClient } from "./client.ts";
import { newPhone, startTestEmulator, startWebhookReceiver, type WebhookReceiver } from "./test-support.ts";

type Emulator = Awaited<ReturnType<typeof startTestEmulator>>;
let emu: Emulator;
let app: WebhookReceiver;
let business: string;

before(async () => {
  emu = await startTestEmulator();
  app = await startWebhookReceiver();
  business = newPhone();
  await emu.control.configureNumber({ phoneNumber: business, smsUrl: null });
});
after(async () => {
  await emu.close();
  await app.close();
});
afterEach(() => emu.control.clearFaults());

async function send(to = newPhone()) {
  const response = await fetch(`${emu.url}/2010-04-01/Accounts/${emu.accountSid}/Messages.json`, {
    method: "POST",
    headers: {
      authorization: "Basic " + Buffer.from(`${emu.accountSid}:${emu.authToken}`).toString("base64"),
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ To: to, From: business, Body: "fault test" }).toString(),
  });
  return { status: response.status, body: (await response.json()) as { code?: number; sid?: string; status: number | string } };
}

describe("fault injection", () => {
  test("http500 for the next 2 calls, then normal service", async () => {
    await emu.control.fault({ mode: "http500", count: 2 });
    const results = [await send(), await send(), await send()];
    assert.deepEqual(results.map((r) => r.status), [500, 500, 201]);
    assert.equal(results[0].body.code, 20500);
    assert.deepEqual(await (await fetch(`${emu.url}/emulator/faults`)).json(), []);
  });

  test("http429 with code 20429 reaches the official client as a RestException", async () => {
    await emu.control.fault({ mode: "http429", count: 1 });
    await assert.rejects(emu.client.messages.create({ to: newPhone(), from: business, body: "x" }), (error: { status: number; code: number }) => {
      assert.equal(error.status, 429);
      assert.equal(error.code, 20429);
      return true;
    });
    const ok = await emu.client.messages.create({ to: newPhone(), from: business, body: "x" });
    assert.equal(ok.status, "queued");
  });

  test("timeout hangs past the client's timeout and creates nothing", async () => {
    await emu.control.fault({ mode: "timeout", count: 2, hangMs: 1200 });
    const impatient = emulatorTwilioClient(emu.url, emu.accountSid, emu.authToken, 300);
    const lead = newPhone();
    const started = Date.now();
    await assert.rejects(impatient.messages.create({ to: lead, from: business, body: "x" }), /timeout/i);
    assert.ok(Date.now() - started < 1100, "the client gave up before the emulator answered");
    const patient = await send(lead);
    assert.equal(patient.status, 504);
    assert.deepEqual(await emu.control.messages(lead), []);
  });

  test("timeout with afterHang close drops the connection without an answer", async () => {
    await emu.control.fault({ mode: "timeout", count: 1, hangMs: 200, afterHang: "close" });
    const lead = newPhone();
    await assert.rejects(send(lead), /fetch failed|socket|closed|terminated/i);
    assert.deepEqual(await emu.control.messages(lead), []);
    assert.equal((await send(lead)).status, 201);
  });

  test("timeout with accepted creates the message and then holds the answer, as an answer lost on the way back", async () => {
    await emu.control.fault({ mode: "timeout", count: 1, hangMs: 600, accepted: true });
    const impatient = emulatorTwilioClient(emu.url, emu.accountSid, emu.authToken, 200);
    const lead = newPhone();
    await assert.rejects(impatient.messages.create({ to: lead, from: business, body: "taken anyway" }), /timeout/i);
    const [taken] = await emu.control.messages(lead);
    assert.equal(taken.body, "taken anyway", "Twilio has it although the client never heard");
    const listed = await emu.client.messages.list({ to: lead, from: business, dateSentAfter: new Date(Date.now() - 60_000) });
    assert.deepEqual(listed.map((m) => m.sid), [taken.sid], "and lists it, so a careful client finds it before sending again");
    await assert.rejects(emu.control.fault({ mode: "http500", accepted: true } as never), /accepted applies to mode .*timeout.* only/);
  });

  test("error with an API code answers 400 with that code", async () => {
    await emu.control.fault({ mode: "error", code: 21611, count: 1 });
    const result = await send();
    assert.equal(result.status, 400);
    assert.equal(result.body.code, 21611);
  });

  test("error with a delivery code accepts the message, then fails delivery with that ErrorCode", async () => {
    await emu.control.fault({ mode: "error", code: 30007, count: 1 });
    await emu.control.fault({ mode: "error", code: 30034, count: 1 });
    const filtered = await emu.client.messages.create({ to: newPhone(), from: business, body: "x", statusCallback: `${app.url}/s` });
    const unregistered = await emu.client.messages.create({ to: newPhone(), from: business, body: "x", statusCallback: `${app.url}/s` });
    assert.equal(filtered.status, "queued");
    const filteredCalls = await app.waitFor((r) => r.params.MessageSid === filtered.sid, 2);
    assert.equal(filteredCalls[1].params.MessageStatus, "undelivered");
    assert.equal(filteredCalls[1].params.ErrorCode, "30007");
    const unregisteredCalls = await app.waitFor((r) => r.params.MessageSid === unregistered.sid, 1);
    assert.deepEqual(unregisteredCalls.map((c) => c.params.MessageStatus), ["failed"]);
    assert.equal(unregisteredCalls[0].params.ErrorCode, "30034");
  });

  test("a rate fault hits about that share of calls, reproducibly with a seed", async () => {
    const pattern = async () => {
      await emu.control.fault({ mode: "http500", rate: 0.3, seed: 1234 });
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) statuses.push((await send()).status);
      await emu.control.clearFaults();
      return statuses;
    };
    const first = await pattern();
    const failures = first.filter((s) => s === 500).length;
    assert.ok(failures >= 15 && failures <= 45, `about 30 of 100 calls failed, got ${failures}`);
    assert.ok(first.every((s) => s === 500 || s === 201));
    assert.deepEqual(await pattern(), first, "same seed, same calls fail");
  });

  test("rate and count together stop after count faults", async () => {
    await emu.control.fault({ mode: "http500", rate: 0.5, count: 3, seed: 7 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await send()).status);
    assert.equal(statuses.filter((s) => s === 500).length, 3);
  });

  test("without count or rate a fault stays until DELETE /emulator/faults", async () => {
    await emu.control.fault({ mode: "http500" });
    assert.deepEqual([(await send()).status, (await send()).status, (await send()).status], [500, 500, 500]);
    await emu.control.clearFaults();
    assert.equal((await send()).status, 201);
  });

  test("bad fault requests are refused with a reason", async () => {
    for (const body of [{ mode: "explode" }, { mode: "error" }, { mode: "http500", rate: 1.5 }, { mode: "http500", count: 0 }]) {
      const response = await fetch(`${emu.url}/emulator/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.ok(((await response.json()) as { error: string }).error.length > 0);
    }
  });
});

describe("reset", () => {
  test("clears messages, faults, phones and (unless kept) numbers", async () => {
    const own = await startTestEmulator();
    try {
      const number = newPhone();
      const lead = newPhone();
      await own.control.configureNumber({ phoneNumber: number, smsUrl: null });
      await own.client.messages.create({ to: lead, from: number, body: "before reset" });
      await own.control.fault({ mode: "http500" });
      await own.control.reset({ keepNumbers: true });
      assert.deepEqual(await own.control.messages(lead), []);
      const again = await own.client.messages.create({ to: lead, from: number, body: "after reset" });
      assert.equal(again.status, "queued", "fault cleared and number kept");
      await own.control.reset();
      await assert.rejects(own.client.messages.create({ to: lead, from: number, body: "x" }), (e: { code: number }) => e.code === 21606);
    } finally {
      await own.close();
    }
  });
});
