// Everything the emulator POSTs to an app: status callbacks, inbound SMS, opt-out keywords,
// TwiML replies and visible webhook failures, each signed the way the twilio library validates.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import twilio from "twilio";
import { newPhone, startTestEmulator, startWebhookReceiver, type RecordedWebhook, type WebhookReceiver } from "./test-support.ts";

type Emulator = Awaited<ReturnType<typeof startTestEmulator>>;
let emu: Emulator;
let app: WebhookReceiver;

before(async () => {
  emu = await startTestEmulator({ webhookTimeoutMs: 400 });
  app = await startWebhookReceiver();
});
after(async () => {
  await emu.close();
  await app.close();
});

function assertSigned(request: RecordedWebhook) {
  assert.ok(request.signature, "X-Twilio-Signature present");
  assert.ok(twilio.validateRequest(emu.authToken, request.signature, request.url, request.params), `signature valid for ${request.url}`);
  assert.equal(twilio.validateRequest("some-other-token", request.signature, request.url, request.params), false);
  assert.match(request.contentType, /^application\/x-www-form-urlencoded/);
}

async function configuredNumber(options: { path?: string; advancedOptOut?: boolean } = {}) {
  const phoneNumber = newPhone();
  await emu.control.configureNumber({ phoneNumber, smsUrl: `${app.url}${options.path ?? "/sms"}?number=${encodeURIComponent(phoneNumber)}`, advancedOptOut: options.advancedOptOut });
  return phoneNumber;
}

describe("status callbacks", () => {
  test("sent -> delivered, each signed, with Twilio's fields; no callback for the queued it was created with", async () => {
    const from = await configuredNumber();
    const to = newPhone();
    const callback = `${app.url}/status?lead=42&x=a%20b`;
    const message = await emu.client.messages.create({ to, from, body: "status please", statusCallback: callback });
    const calls = await app.waitFor((r) => r.params.MessageSid === message.sid, 2);
    assert.deepEqual(calls.map((c) => c.params.MessageStatus), ["sent", "delivered"]);
    for (const call of calls) {
      assertSigned(call);
      assert.equal(call.url, callback);
      assert.equal(call.params.SmsSid, message.sid);
      assert.equal(call.params.SmsStatus, call.params.MessageStatus);
      assert.equal(call.params.AccountSid, emu.accountSid);
      assert.equal(call.params.From, from);
      assert.equal(call.params.To, to);
      assert.equal(call.params.ApiVersion, "2010-04-01");
      assert.equal(call.params.ErrorCode, undefined);
    }
    assert.match(calls[1].params.RawDlrDoneDate, /^\d{10}$/);
    assert.equal((await emu.control.message(message.sid)).status, "delivered");
  });

  test("a landline ends undelivered with ErrorCode 30006, an unreachable phone with 30003", async () => {
    const from = await configuredNumber();
    const landline = newPhone();
    const unreachable = newPhone();
    await emu.control.setPhone({ phone: landline, lineType: "landline" });
    await emu.control.setPhone({ phone: unreachable, lineType: "unreachable" });
    const a = await emu.client.messages.create({ to: landline, from, body: "to a landline", statusCallback: `${app.url}/status` });
    const b = await emu.client.messages.create({ to: unreachable, from, body: "to nowhere", statusCallback: `${app.url}/status` });
    const [lastA] = (await app.waitFor((r) => r.params.MessageSid === a.sid, 2)).slice(-1);
    const [lastB] = (await app.waitFor((r) => r.params.MessageSid === b.sid, 2)).slice(-1);
    assert.equal(lastA.params.MessageStatus, "undelivered");
    assert.equal(lastA.params.ErrorCode, "30006");
    assert.equal(lastB.params.MessageStatus, "undelivered");
    assert.equal(lastB.params.ErrorCode, "30003");
    assertSigned(lastA);
    const fetched = await emu.client.messages(a.sid).fetch();
    assert.equal(fetched.status, "undelivered");
    assert.equal(fetched.errorCode, 30006);
  });

  test("a phone marked mobile again receives messages", async () => {
    const from = await configuredNumber();
    const phone = newPhone();
    await emu.control.setPhone({ phone, lineType: "landline" });
    await emu.control.setPhone({ phone, lineType: "mobile" });
    const events = await emu.control.events();
    const message = await emu.client.messages.create({ to: phone, from, body: "back to mobile" });
    const final = await events.messageStatus(message.sid);
    events.close();
    assert.equal(final.status, "delivered");
  });

  test("every status change is on the event stream, in order", async () => {
    const from = await configuredNumber();
    const to = newPhone();
    const events = await emu.control.events({ phone: to });
    const message = await emu.client.messages.create({ to, from, body: "watch me" });
    await events.messageStatus(message.sid, "delivered");
    events.close();
    const mine = events.received.filter((e) => e.message?.sid === message.sid);
    assert.deepEqual(mine.map((e) => `${e.type}:${e.message!.status}`), ["message.created:queued", "message.status:sent", "message.status:delivered"]);
    assert.ok(mine.every((e, i) => i === 0 || e.seq > mine[i - 1].seq));
    assert.match(mine[0].message!.dateCreated, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});

describe("inbound SMS", () => {
  test("is POSTed to the number's webhook with Twilio's fields, signed", async () => {
    const number = await configuredNumber();
    const lead = newPhone();
    const { sid } = await emu.control.inbound({ from: lead, to: number, body: "Hi, I need a plumber" });
    assert.match(sid, /^SM[0-9a-f]{32}$/);
    const [hook] = await app.waitFor((r) => r.params.MessageSid === sid);
    assertSigned(hook);
    assert.equal(hook.path, "/sms");
    assert.equal(hook.params.SmsSid, sid);
    assert.equal(hook.params.SmsMessageSid, sid);
    assert.equal(hook.params.AccountSid, emu.accountSid);
    assert.equal(hook.params.From, lead);
    assert.equal(hook.params.To, number);
    assert.equal(hook.params.Body, "Hi, I need a plumber");
    assert.equal(hook.params.NumMedia, "0");
    assert.equal(hook.params.NumSegments, "1");
    assert.equal(hook.params.SmsStatus, "received");
    assert.equal(hook.params.FromCountry, "US");
    assert.equal(hook.params.ToCountry, "US");
    assert.equal(hook.params.ApiVersion, "2010-04-01");
    assert.equal(hook.params.OptOutType, undefined);
    assert.equal(hook.params.MessagingServiceSid, undefined);
    const stored = await emu.control.messages(lead);
    assert.equal(stored.length, 1);
    assert.equal(stored[0].direction, "inbound");
    assert.equal(stored[0].status, "received");
  });

  test("carries MessagingServiceSid when the number is in a service", async () => {
    const serviceSid = "MG" + "c".repeat(32);
    const number = newPhone();
    await emu.control.configureNumber({ phoneNumber: number, smsUrl: `${app.url}/sms`, messagingServiceSid: serviceSid });
    const { sid } = await emu.control.inbound({ from: newPhone(), to: number, body: "hello" });
    const [hook] = await app.waitFor((r) => r.params.MessageSid === sid);
    assert.equal(hook.params.MessagingServiceSid, serviceSid);
    assertSigned(hook);
  });

  test("bodies with symbols, unicode and newlines are signed correctly", async () => {
    const number = await configuredNumber();
    const body = "Ça coûte combien? 50% & <rush> \"now\"\n😀 a+b=c";
    const { sid } = await emu.control.inbound({ from: newPhone(), to: number, body });
    const [hook] = await app.waitFor((r) => r.params.MessageSid === sid);
    assert.equal(hook.params.Body, body);
    assert.equal(hook.params.NumSegments, "1");
    assertSigned(hook);
  });

  test("a TwiML <Message> reply is delivered to the sender", async () => {
    const number = await configuredNumber({ path: "/twiml" });
    const lead = newPhone();
    app.respond = (request, res) => {
      if (request.path !== "/twiml") return void res.writeHead(204).end();
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks &amp; welcome, ${request.params.Body.length} chars</Message></Response>`);
    };
    try {
      const events = await emu.control.events({ phone: lead });
      const { sid } = await emu.control.inbound({ from: lead, to: number, body: "hello there" });
      const reply = await events.next((e) => e.type === "message.created" && e.message?.direction === "outbound-reply");
      const delivered = await events.messageStatus(reply.message!.sid, "delivered");
      events.close();
      assert.equal(delivered.from, number);
      assert.equal(delivered.to, lead);
      assert.equal(delivered.body, "Thanks & welcome, 11 chars");
      const inbound = await emu.control.message(sid);
      assert.equal(inbound.webhook?.state, "delivered");
      assert.equal(inbound.webhook?.httpStatus, 200);
      const thread = await emu.control.messages(lead);
      assert.deepEqual(thread.map((m) => m.direction), ["inbound", "outbound-reply"]);
    } finally {
      app.respond = (_r, res) => void res.writeHead(204).end();
    }
  });

  test("an empty <Response/> sends nothing back", async () => {
    const number = await configuredNumber({ path: "/empty" });
    const lead = newPhone();
    app.respond = (_request, res) => void res.writeHead(200, { "content-type": "text/xml" }).end("<Response/>");
    try {
      const events = await emu.control.events({ phone: lead });
      const { sid } = await emu.control.inbound({ from: lead, to: number, body: "no reply please" });
      await events.next((e) => e.type === "message.status" && e.message?.sid === sid && e.message.webhook?.state === "delivered");
      events.close();
      assert.equal((await emu.control.messages(lead)).length, 1);
    } finally {
      app.respond = (_r, res) => void res.writeHead(204).end();
    }
  });

  test("redelivery repeats the webhook with the same MessageSid", async () => {
    const number = await configuredNumber();
    const { sid } = await emu.control.inbound({ from: newPhone(), to: number, body: "twice" });
    await emu.control.redeliver(sid);
    const hooks = await app.waitFor((r) => r.params.MessageSid === sid, 2);
    assert.equal(hooks[0].params.Body, hooks[1].params.Body);
    for (const hook of hooks) assertSigned(hook);
  });

  test("an unknown Twilio number or a malformed phone is a clear 4xx", async () => {
    const unknown = await fetch(`${emu.url}/emulator/inbound`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: newPhone(), to: newPhone(), body: "hi" }),
    });
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: string }).error, /not a number of this Twilio account/);
    const bad = await fetch(`${emu.url}/emulator/inbound`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: "555-1234", to: newPhone(), body: "hi" }),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /from must be an E\.164/);
  });
});

describe("webhook failures are recorded", () => {
  test("a non-2xx answer marks the inbound message's webhook failed (11200)", async () => {
    const number = await configuredNumber({ path: "/broken" });
    app.respond = (request, res) => void res.writeHead(request.path === "/broken" ? 500 : 204).end();
    try {
      const events = await emu.control.events();
      const { sid } = await emu.control.inbound({ from: newPhone(), to: number, body: "anyone there?" });
      const failed = await events.next((e) => e.type === "webhook" && e.webhook?.messageSid === sid);
      events.close();
      assert.equal(failed.webhook!.ok, false);
      assert.equal(failed.webhook!.httpStatus, 500);
      assert.equal(failed.webhook!.errorCode, 11200);
      const message = await emu.control.message(sid);
      assert.equal(message.webhook?.state, "failed");
      const log = await emu.control.webhooks(sid);
      assert.equal(log.length, 1);
      assert.equal(log[0].ok, false);
    } finally {
      app.respond = (_r, res) => void res.writeHead(204).end();
    }
  });

  test("a webhook slower than the timeout is recorded as a connection failure (11205)", async () => {
    const number = await configuredNumber({ path: "/slow" });
    app.respond = (request, res) => {
      if (request.path === "/slow") setTimeout(() => res.writeHead(200).end(), 1500);
      else res.writeHead(204).end();
    };
    try {
      const events = await emu.control.events();
      const { sid } = await emu.control.inbound({ from: newPhone(), to: number, body: "slow" });
      const failed = await events.next((e) => e.type === "webhook" && e.webhook?.messageSid === sid, 5000);
      events.close();
      assert.equal(failed.webhook!.ok, false);
      assert.equal(failed.webhook!.errorCode, 11205);
      assert.match(failed.webhook!.error!, /no answer within the read timeout of 400 ms/);
      // A read timeout is not retried unless the URL's retry policy says rt.
      assert.equal((await emu.control.webhooks(sid)).length, 1);
    } finally {
      app.respond = (_r, res) => void res.writeHead(204).end();
    }
  });

  test("a number without a webhook URL records the failure on the message", async () => {
    const number = newPhone();
    await emu.control.configureNumber({ phoneNumber: number, smsUrl: null });
    const events = await emu.control.events();
    const { sid } = await emu.control.inbound({ from: newPhone(), to: number, body: "lost" });
    const event = await events.next((e) => e.type === "message.status" && e.message?.sid === sid);
    events.close();
    assert.equal(event.message!.webhook?.state, "failed");
    assert.match(event.message!.webhook!.error!, /no SMS webhook URL/);
  });

  test("a failing status callback is logged, retried once as Twilio does for a refused connection, and delivery still completes", async () => {
    const from = await configuredNumber();
    const events = await emu.control.events();
    const message = await emu.client.messages.create({ to: newPhone(), from, body: "x", statusCallback: "http://127.0.0.1:9/unreachable" });
    await events.messageStatus(message.sid, "delivered");
    await events.next((e) => e.type === "webhook" && e.webhook?.messageSid === message.sid && e.webhook.params.MessageStatus === "delivered" && e.webhook.attempt === 2);
    events.close();
    const log = await emu.control.webhooks(message.sid);
    // sent, delivered: each tried twice (Twilio's default: rc=1, rp=ct), with one idempotency token per status.
    assert.deepEqual(log.map((entry) => `${entry.params.MessageStatus}#${entry.attempt}`), ["sent#1", "sent#2", "delivered#1", "delivered#2"]);
    assert.ok(log.every((entry) => !entry.ok && entry.kind === "status-callback" && entry.errorCode === 11205));
    assert.equal(new Set(log.map((entry) => entry.idempotencyToken)).size, 2);
  });
});

describe("Advanced Opt-Out", () => {
  const keywordCases: [string, string][] = [
    ["STOP", "STOP"], ["stop", "STOP"], ["  Unsubscribe. ", "STOP"], ["cancel", "STOP"], ["END", "STOP"], ["quit", "STOP"],
    ["stopall", "STOP"], ["START", "START"], ["yes", "START"], ["unstop", "START"], ["HELP", "HELP"], ["info", "HELP"],
  ];
  for (const [body, type] of keywordCases) {
    test(`"${body}" arrives with OptOutType=${type}`, async () => {
      const number = await configuredNumber({ advancedOptOut: true });
      const { sid } = await emu.control.inbound({ from: newPhone(), to: number, body });
      const [hook] = await app.waitFor((r) => r.params.MessageSid === sid);
      assert.equal(hook.params.OptOutType, type);
      assertSigned(hook);
    });
  }

  test("ordinary text and numbers without Advanced Opt-Out carry no OptOutType", async () => {
    const plain = await configuredNumber({ advancedOptOut: false });
    const withFlag = await configuredNumber({ advancedOptOut: true });
    const a = await emu.control.inbound({ from: newPhone(), to: plain, body: "STOP" });
    const b = await emu.control.inbound({ from: newPhone(), to: withFlag, body: "please stop by tomorrow" });
    const [hookA] = await app.waitFor((r) => r.params.MessageSid === a.sid);
    const [hookB] = await app.waitFor((r) => r.params.MessageSid === b.sid);
    assert.equal(hookA.params.OptOutType, undefined);
    assert.equal(hookB.params.OptOutType, undefined);
  });

  test("STOP confirms, blocks later sends with 21610, START lifts the block", async () => {
    const number = await configuredNumber({ advancedOptOut: true });
    const lead = newPhone();
    const events = await emu.control.events({ phone: lead });
    await emu.control.inbound({ from: lead, to: number, body: "STOP" });
    const confirmation = await events.next((e) => e.type === "message.created" && e.message?.direction === "outbound-reply");
    assert.match(confirmation.message!.body, /unsubscribed/);
    await events.messageStatus(confirmation.message!.sid, "delivered");
    await assert.rejects(emu.client.messages.create({ to: lead, from: number, body: "are you sure?" }), (error: { code: number }) => error.code === 21610);
    await emu.control.inbound({ from: lead, to: number, body: "START" });
    await events.next((e) => e.type === "message.created" && /re-subscribed/.test(e.message?.body ?? ""));
    events.close();
    const message = await emu.client.messages.create({ to: lead, from: number, body: "welcome back" });
    assert.equal(message.status, "queued");
  });

  test("the block is per sending number", async () => {
    const stopped = await configuredNumber({ advancedOptOut: true });
    const other = await configuredNumber({ advancedOptOut: true });
    const lead = newPhone();
    await emu.control.inbound({ from: lead, to: stopped, body: "STOP" });
    await assert.rejects(emu.client.messages.create({ to: lead, from: stopped, body: "x" }));
    const fromOther = await emu.client.messages.create({ to: lead, from: other, body: "another business" });
    assert.equal(fromOther.status, "queued");
  });
});

describe("numbers", () => {
  test("IncomingPhoneNumbers shows and updates the SMS webhook like the console", async () => {
    const number = await configuredNumber();
    const [resource] = await emu.client.incomingPhoneNumbers.list({ phoneNumber: number });
    assert.equal(resource.phoneNumber, number);
    assert.match(resource.smsUrl, /\/sms\?number=/);
    const updated = await emu.client.incomingPhoneNumbers(resource.sid).update({ smsUrl: `${app.url}/moved` });
    assert.equal(updated.smsUrl, `${app.url}/moved`);
    const { sid } = await emu.control.inbound({ from: newPhone(), to: number, body: "where did you go" });
    const [hook] = await app.waitFor((r) => r.params.MessageSid === sid);
    assert.equal(hook.path, "/moved");
    assertSigned(hook);
  });

  test("control API rejects bad number input with a clear error", async () => {
    const response = await fetch(`${emu.url}/emulator/numbers`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ phoneNumber: "+15551234567", smsUrl: "ftp://nope" }),
    });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: string }).error, /smsUrl must be an http/);
  });
});
