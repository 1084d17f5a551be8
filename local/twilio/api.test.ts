// The Messages API as the official `twilio` client uses it: send, fetch, list, auth and error bodies.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import twilio from "twilio";
import { newPhone, startTestEmulator } from "./test-support.ts";

type Emulator = Awaited<ReturnType<typeof startTestEmulator>>;
let emu: Emulator;
let business: string;

before(async () => {
  emu = await startTestEmulator();
  business = newPhone();
  await emu.control.configureNumber({ phoneNumber: business, smsUrl: null });
});
after(() => emu.close());

async function rawPost(path: string, form: Record<string, string>, auth = `${emu.accountSid}:${emu.authToken}`) {
  const response = await fetch(emu.url + path, {
    method: "POST",
    headers: { authorization: "Basic " + Buffer.from(auth).toString("base64"), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

function messagesPath() {
  return `/2010-04-01/Accounts/${emu.accountSid}/Messages.json`;
}

describe("Messages API with the official client", () => {
  test("create returns Twilio's message resource with status queued", async () => {
    const lead = newPhone();
    const message = await emu.client.messages.create({ to: lead, from: business, body: "Hello from the test" });
    assert.match(message.sid, /^SM[0-9a-f]{32}$/);
    assert.equal(message.status, "queued");
    assert.equal(message.to, lead);
    assert.equal(message.from, business);
    assert.equal(message.body, "Hello from the test");
    assert.equal(message.direction, "outbound-api");
    assert.equal(message.accountSid, emu.accountSid);
    assert.equal(message.numSegments, "1");
    assert.equal(message.price, null);
    assert.equal(message.apiVersion, "2010-04-01");
    assert.equal(message.uri, `/2010-04-01/Accounts/${emu.accountSid}/Messages/${message.sid}.json`);
    assert.ok(message.dateCreated instanceof Date && !Number.isNaN(message.dateCreated.getTime()), "date_created parses as RFC 2822");
    assert.ok(Math.abs(message.dateCreated.getTime() - Date.now()) < 5000);
  });

  test("raw 201 body uses Twilio's field names and RFC 2822 dates", async () => {
    const res = await rawPost(messagesPath(), { To: newPhone(), From: business, Body: "raw" });
    assert.equal(res.status, 201);
    assert.match(String(res.body.date_created), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    for (const key of ["account_sid", "api_version", "body", "date_sent", "date_updated", "direction", "error_code", "error_message", "from", "messaging_service_sid", "num_media", "num_segments", "price", "price_unit", "sid", "status", "subresource_uris", "to", "uri"]) {
      assert.ok(key in res.body, `resource has ${key}`);
    }
  });

  test("fetch returns the message with its current status", async () => {
    const lead = newPhone();
    const events = await emu.control.events();
    const sent = await emu.client.messages.create({ to: lead, from: business, body: "fetch me" });
    await events.messageStatus(sent.sid, "delivered");
    events.close();
    const fetched = await emu.client.messages(sent.sid).fetch();
    assert.equal(fetched.sid, sent.sid);
    assert.equal(fetched.status, "delivered");
    assert.ok(fetched.dateSent instanceof Date);
  });

  test("fetching an unknown sid gives 20404", async () => {
    await assert.rejects(emu.client.messages("SM" + "0".repeat(32)).fetch(), (error: { status: number; code: number }) => {
      assert.equal(error.status, 404);
      assert.equal(error.code, 20404);
      return true;
    });
  });

  test("list pages through every message with To/From filters, newest first", async () => {
    const lead = newPhone();
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) sids.push((await emu.client.messages.create({ to: lead, from: business, body: `m${i}` })).sid);
    await emu.client.messages.create({ to: newPhone(), from: business, body: "someone else" });
    const listed = await emu.client.messages.list({ to: lead, pageSize: 2 });
    assert.deepEqual(listed.map((m) => m.sid), [...sids].reverse());
    const limited = await emu.client.messages.list({ to: lead, limit: 3 });
    assert.equal(limited.length, 3);
    const fromFilter = await emu.client.messages.list({ from: business, to: lead });
    assert.equal(fromFilter.length, 5);
    const page = await emu.client.messages.page({ to: lead, pageSize: 2 });
    assert.equal(page.instances.length, 2);
    assert.ok(page.nextPageUrl, "a first page of 2 out of 5 links to the next");
  });

  test("list filters on DateSent", async () => {
    const lead = newPhone();
    await emu.client.messages.create({ to: lead, from: business, body: "dated" });
    const today = new Date();
    const sameDay = await emu.client.messages.list({ to: lead, dateSent: today });
    assert.equal(sameDay.length, 1);
    const before = await emu.client.messages.list({ to: lead, dateSentBefore: new Date(Date.now() - 86_400_000 * 2) });
    assert.equal(before.length, 0);
    const afterYesterday = await emu.client.messages.list({ to: lead, dateSentAfter: new Date(Date.now() - 86_400_000) });
    assert.equal(afterYesterday.length, 1);
  });

  test("a Messaging Service sends from its number pool", async () => {
    const serviceSid = "MG" + "a".repeat(32);
    const pooled = newPhone();
    await emu.control.configureNumber({ phoneNumber: pooled, smsUrl: null, messagingServiceSid: serviceSid });
    const message = await emu.client.messages.create({ to: newPhone(), messagingServiceSid: serviceSid, body: "via service" });
    assert.equal(message.status, "accepted");
    assert.equal(message.messagingServiceSid, serviceSid);
    const stored = await emu.control.message(message.sid);
    assert.equal(stored.from, pooled);
    await assert.rejects(
      emu.client.messages.create({ to: newPhone(), messagingServiceSid: "MG" + "b".repeat(32), body: "empty pool" }),
      (error: { code: number }) => error.code === 21704,
    );
  });
});

describe("control API message listing", () => {
  test("GET /emulator/messages?phone= accepts the phone with an unencoded +, oldest first", async () => {
    const lead = newPhone();
    const first = await emu.client.messages.create({ to: lead, from: business, body: "first" });
    const second = await emu.client.messages.create({ to: lead, from: business, body: "second" });
    for (const query of [lead, encodeURIComponent(lead)]) {
      const response = await fetch(`${emu.url}/emulator/messages?phone=${query}`);
      assert.equal(response.status, 200);
      const list = (await response.json()) as { sid: string; from: string; to: string; body: string; status: string; direction: string; dateCreated: string }[];
      assert.deepEqual(list.map((m) => m.sid), [first.sid, second.sid]);
      assert.equal(list[0].from, business);
      assert.equal(list[0].direction, "outbound-api");
      assert.match(list[0].dateCreated, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    const bad = await fetch(`${emu.url}/emulator/messages?phone=5551234`);
    assert.equal(bad.status, 400);
  });
});

describe("authentication", () => {
  test("a wrong auth token gets Twilio's 401 body with code 20003", async () => {
    const res = await rawPost(messagesPath(), { To: newPhone(), From: business, Body: "x" }, `${emu.accountSid}:wrong`);
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, { code: 20003, message: "Authenticate", more_info: "https://www.twilio.com/docs/errors/20003", status: 401 });
    assert.match(res.headers.get("www-authenticate") ?? "", /^Basic/);
  });

  test("the official client with wrong credentials is rejected", async () => {
    const { emulatorTwilioClient } = await import("./client.ts");
    const bad = emulatorTwilioClient(emu.url, emu.accountSid, "not-the-token");
    await assert.rejects(bad.messages.create({ to: newPhone(), from: business, body: "x" }), (error: { status: number; code: number }) => {
      assert.equal(error.status, 401);
      assert.equal(error.code, 20003);
      return true;
    });
  });

  test("missing credentials and another account's path are rejected", async () => {
    const none = await fetch(emu.url + messagesPath(), { method: "POST", body: "To=%2B15551234567" });
    assert.equal(none.status, 401);
    const otherAccount = "AC" + "f".repeat(32);
    const res = await rawPost(`/2010-04-01/Accounts/${otherAccount}/Messages.json`, { To: newPhone(), From: business, Body: "x" });
    assert.equal(res.status, 401);
  });

  test("sends nothing when authentication fails", async () => {
    const lead = newPhone();
    await rawPost(messagesPath(), { To: lead, From: business, Body: "x" }, `${emu.accountSid}:wrong`);
    assert.deepEqual(await emu.control.messages(lead), []);
  });
});

describe("validation errors use Twilio's error body", () => {
  const cases: { name: string; form: () => Record<string, string>; code: number }[] = [
    { name: "missing To", form: () => ({ From: business, Body: "x" }), code: 21604 },
    { name: "missing Body", form: () => ({ To: newPhone(), From: business }), code: 21602 },
    { name: "empty Body", form: () => ({ To: newPhone(), From: business, Body: "" }), code: 21602 },
    { name: "missing From and MessagingServiceSid", form: () => ({ To: newPhone(), Body: "x" }), code: 21603 },
    { name: "To not a phone number", form: () => ({ To: "12345", From: business, Body: "x" }), code: 21211 },
    { name: "To with letters", form: () => ({ To: "+1555CALLNOW", From: business, Body: "x" }), code: 21211 },
    { name: "From not a Twilio number of this account", form: () => ({ To: newPhone(), From: newPhone(), Body: "x" }), code: 21606 },
    { name: "From not a valid sender", form: () => ({ To: newPhone(), From: "+1-not-valid!", Body: "x" }), code: 21212 },
    { name: "To equals From", form: () => ({ To: business, From: business, Body: "x" }), code: 21266 },
    { name: "body over 1600 characters", form: () => ({ To: newPhone(), From: business, Body: "x".repeat(1601) }), code: 21617 },
    { name: "malformed MessagingServiceSid", form: () => ({ To: newPhone(), MessagingServiceSid: "MG123", Body: "x" }), code: 21701 },
  ];
  for (const c of cases) {
    test(`${c.name} -> ${c.code}`, async () => {
      const res = await rawPost(messagesPath(), c.form());
      assert.equal(res.status, 400);
      assert.equal(res.body.code, c.code);
      assert.equal(res.body.status, 400);
      assert.equal(res.body.more_info, `https://www.twilio.com/docs/errors/${c.code}`);
      assert.equal(typeof res.body.message, "string");
      assert.deepEqual(Object.keys(res.body).sort(), ["code", "message", "more_info", "status"]);
    });
  }

  test("the official client surfaces code and message as a RestException", async () => {
    await assert.rejects(emu.client.messages.create({ to: "+1", from: business, body: "x" }), (error: unknown) => {
      assert.ok(error instanceof twilio.RestException);
      assert.equal(error.code, 21211);
      assert.equal(error.status, 400);
      assert.match(error.message, /not a valid phone number/);
      return true;
    });
  });
});

describe("Twilio's magic test numbers", () => {
  const fromCases: [string, number][] = [["+15005550001", 21212], ["+15005550007", 21606], ["+15005550008", 21611]];
  for (const [from, code] of fromCases) {
    test(`From ${from} -> ${code}`, async () => {
      await assert.rejects(emu.client.messages.create({ to: newPhone(), from, body: "magic" }), (error: { code: number; status: number }) => {
        assert.equal(error.code, code);
        assert.equal(error.status, 400);
        return true;
      });
    });
  }
  const toCases: [string, number][] = [
    ["+15005550001", 21211], ["+15005550002", 21612], ["+15005550003", 21408], ["+15005550004", 21610], ["+15005550009", 21614],
  ];
  for (const [to, code] of toCases) {
    test(`To ${to} -> ${code}`, async () => {
      await assert.rejects(emu.client.messages.create({ to, from: business, body: "magic" }), (error: { code: number; status: number }) => {
        assert.equal(error.code, code);
        assert.equal(error.status, 400);
        return true;
      });
    });
  }
  test("From +15005550006 passes without being configured", async () => {
    const message = await emu.client.messages.create({ to: newPhone(), from: "+15005550006", body: "magic pass" });
    assert.equal(message.status, "queued");
  });
  test("a magic To number never creates a message", async () => {
    await assert.rejects(emu.client.messages.create({ to: "+15005550002", from: business, body: "x" }));
    assert.deepEqual(await emu.control.messages("+15005550002"), []);
  });
});

describe("num_segments", () => {
  const cases: [string, string, number][] = [
    ["160 GSM-7 characters fit one segment", "a".repeat(160), 1],
    ["161 GSM-7 characters need two", "a".repeat(161), 2],
    ["306 GSM-7 characters fit two 153-septet parts", "a".repeat(306), 2],
    ["307 GSM-7 characters need three", "a".repeat(307), 3],
    ["extension characters count twice (80 x €)", "€".repeat(80), 1],
    ["81 x € is 162 septets, two segments", "€".repeat(81), 2],
    ["70 UCS-2 characters fit one segment", "é".repeat(69) + "ł", 1],
    ["71 UCS-2 characters need two", "ł".repeat(71), 2],
    ["one emoji makes the message UCS-2 (emoji = 2 units)", "a".repeat(68) + "😀", 1],
    ["134 UCS-2 units fit two 67-unit parts", "ł".repeat(134), 2],
    ["135 UCS-2 units need three", "ł".repeat(135), 3],
  ];
  for (const [name, body, segments] of cases) {
    test(name, async () => {
      const message = await emu.client.messages.create({ to: newPhone(), from: business, body });
      assert.equal(message.numSegments, String(segments));
    });
  }
});
