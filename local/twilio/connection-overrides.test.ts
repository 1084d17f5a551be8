// Inbound webhooks with Twilio's connection overrides (#rc, rp, ct, rt, tt in the URL fragment) and the
// number's SmsFallbackUrl, checked the way an app checks them: the official client's validateRequest
// over the URL it was called on.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import twilio from "twilio";
import { newPhone, startTestEmulator, startWebhookReceiver, type RecordedWebhook, type WebhookReceiver } from "./test-support.ts";

let emu: Awaited<ReturnType<typeof startTestEmulator>>;
let app: WebhookReceiver;

before(async () => {
  emu = await startTestEmulator({ webhookTimeoutMs: 2000 });
  app = await startWebhookReceiver();
});
after(async () => {
  await emu.close();
  await app.close();
});
beforeEach(() => {
  app.respond = (_request, res) => void res.writeHead(204).end();
});

/** Buys a number whose SMS webhooks are the given paths on the test app (fragments included). */
async function numberWith(smsPath: string, options: { fallbackPath?: string; smsMethod?: "GET" | "POST" } = {}) {
  const bought = await emu.client.incomingPhoneNumbers.create({
    areaCode: "512",
    smsUrl: `${app.url}${smsPath}`,
    smsMethod: options.smsMethod,
    ...(options.fallbackPath ? { smsFallbackUrl: `${app.url}${options.fallbackPath}` } : {}),
  });
  return bought.phoneNumber;
}

/** Answers each request to `path` with the next status in `statuses` (then the last one again). */
function answer(path: string, statuses: number[], body = "") {
  let calls = 0;
  app.respond = (request, res) => {
    if (request.path !== path) return void res.writeHead(204).end();
    const status = statuses[Math.min(calls++, statuses.length - 1)];
    res.writeHead(status, { "content-type": "text/xml" }).end(status < 300 ? body : "");
  };
}

function validFor(hook: RecordedWebhook, url: string, params: Record<string, string> = hook.params): boolean {
  return twilio.validateRequest(emu.authToken, hook.signature, url, params);
}

async function textAndSettle(number: string, body = "hello") {
  const events = await emu.control.events();
  const lead = newPhone();
  const { sid } = await emu.control.inbound({ from: lead, to: number, body });
  const settled = await events.next((e) => e.type === "message.status" && e.message?.sid === sid && e.message.webhook?.state !== "pending", 10_000);
  events.close();
  return { sid, lead, message: settled.message!, hooks: app.requests.filter((r) => r.params.MessageSid === sid || r.url.includes(sid)) };
}

describe("connection overrides", () => {
  test("#rc=3&rp=5xx: a webhook answering 500 twice then 200 is delivered on the third try, same request each time", async () => {
    const number = await numberWith("/sms#rc=3&rp=5xx,ct,rt");
    answer("/sms", [500, 500, 200], "<Response/>");
    const { sid, message, hooks } = await textAndSettle(number);
    assert.equal(message.webhook?.state, "delivered");
    assert.equal(message.webhook?.attempts, 3);
    assert.equal(hooks.length, 3);
    assert.equal(new Set(hooks.map((h) => h.idempotencyToken)).size, 1, "a retry carries the same I-Twilio-Idempotency-Token");
    for (const hook of hooks) {
      assert.equal(hook.url, `${app.url}/sms`, "the fragment is never sent");
      assert.ok(validFor(hook, `${app.url}/sms`), "signed over the URL without the fragment");
      assert.ok(!validFor(hook, `${app.url}/sms#rc=3&rp=5xx,ct,rt`), "and not over the configured URL with it");
    }
    const log = await emu.control.webhooks(sid);
    assert.deepEqual(log.map((e) => [e.attempt, e.httpStatus, e.ok]), [[1, 500, false], [2, 500, false], [3, 200, true]]);
    assert.equal(log[0].configuredUrl, `${app.url}/sms#rc=3&rp=5xx,ct,rt`);
  });

  test("without overrides a 500 is not retried (Twilio's default retries only a connection that failed)", async () => {
    const number = await numberWith("/sms");
    answer("/sms", [500, 200]);
    const { message, hooks } = await textAndSettle(number);
    assert.equal(hooks.length, 1);
    assert.equal(message.webhook?.state, "failed");
    assert.equal(message.webhook?.errorCode, 11200);
  });

  test("rp decides which failures are retried: 5xx does not retry a 404, 4xx does", async () => {
    const only5xx = await numberWith("/five#rc=2&rp=5xx");
    answer("/five", [404]);
    assert.equal((await textAndSettle(only5xx)).hooks.length, 1);
    const with4xx = await numberWith("/four#rc=2&rp=4xx");
    answer("/four", [404]);
    assert.equal((await textAndSettle(with4xx)).hooks.length, 3);
    const all = await numberWith("/all#rc=1&rp=all");
    answer("/all", [503, 200]);
    assert.equal((await textAndSettle(all)).message.webhook?.state, "delivered");
  });

  test("rt: a slow answer is given up after the read timeout and retried when rp says rt", async () => {
    const number = await numberWith("/slow#rt=150&rc=1&rp=rt");
    app.respond = (request, res) => void setTimeout(() => res.writeHead(200).end(), request.path === "/slow" ? 600 : 0);
    const { sid, message } = await textAndSettle(number);
    assert.equal(message.webhook?.state, "failed");
    assert.equal(message.webhook?.errorCode, 11205);
    const log = await emu.control.webhooks(sid);
    assert.equal(log.length, 2);
    assert.ok(log.every((e) => /read timeout of 150 ms/.test(e.error!) && e.durationMs < 500));
  });

  test("tt: the total time bounds all the retries together", async () => {
    const number = await numberWith("/slow#rt=200&rc=5&rp=rt&tt=500");
    app.respond = (_request, res) => void setTimeout(() => res.writeHead(200).end(), 1000);
    const { sid } = await textAndSettle(number);
    const log = await emu.control.webhooks(sid);
    assert.ok(log.length >= 2 && log.length <= 3, `attempts within 500 ms: ${log.length}`);
    assert.match(log.at(-1)!.error!, /total time/);
  });

  test("ct: a refused connection is retried once by default, rc more times when asked", async () => {
    const port = await closedPort();
    const byDefault = await emu.client.incomingPhoneNumbers.create({ areaCode: "512", smsUrl: `http://127.0.0.1:${port}/sms` });
    const first = await textAndSettle(byDefault.phoneNumber);
    assert.equal((await emu.control.webhooks(first.sid)).length, 2);
    const asked = await emu.client.incomingPhoneNumbers.create({ areaCode: "512", smsUrl: `http://127.0.0.1:${port}/sms#rc=3&rp=ct` });
    const second = await textAndSettle(asked.phoneNumber);
    assert.equal((await emu.control.webhooks(second.sid)).length, 4);
    assert.equal(second.message.webhook?.errorCode, 11205);
  });

  test("an invalid retry policy fails the request with 11243 and calls nothing", async () => {
    const number = await numberWith("/sms#rc=3&rp=sometimes");
    const { message, hooks } = await textAndSettle(number);
    assert.equal(hooks.length, 0);
    assert.equal(message.webhook?.errorCode, 11243);
  });

  test("SmsMethod GET sends the parameters in the query string, signed over that URL", async () => {
    const number = await numberWith("/get?shop=1#rc=1", { smsMethod: "GET" });
    const { hooks } = await textAndSettle(number, "via GET");
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0].method, "GET");
    const query = Object.fromEntries(new URL(hooks[0].url).searchParams);
    assert.equal(query.Body, "via GET");
    assert.equal(query.shop, "1");
    assert.ok(validFor(hooks[0], hooks[0].url, {}));
  });
});

describe("SmsFallbackUrl", () => {
  test("after the retries fail, the fallback gets the message with ErrorCode and ErrorUrl, and its TwiML reply is sent", async () => {
    const number = await numberWith("/sms#rc=2&rp=5xx", { fallbackPath: "/fallback?from=twilio" });
    app.respond = (request, res) => {
      if (request.path === "/sms") return void res.writeHead(500).end();
      res.writeHead(200, { "content-type": "text/xml" }).end("<Response><Message>We got your text.</Message></Response>");
    };
    const { sid, lead, message, hooks } = await textAndSettle(number, "STOP please");
    assert.deepEqual(hooks.map((h) => h.path), ["/sms", "/sms", "/sms", "/fallback"]);
    const fallback = hooks[3];
    assert.equal(fallback.params.MessageSid, sid);
    assert.equal(fallback.params.Body, "STOP please");
    assert.equal(fallback.params.ErrorCode, "11200");
    assert.equal(fallback.params.ErrorUrl, `${app.url}/sms`);
    assert.ok(validFor(fallback, `${app.url}/fallback?from=twilio`));
    assert.notEqual(fallback.idempotencyToken, hooks[0].idempotencyToken);
    assert.equal(message.webhook?.state, "failed");
    assert.deepEqual([message.webhook?.fallback?.state, message.webhook?.fallback?.httpStatus], ["delivered", 200]);
    const log = await emu.control.webhooks(sid);
    assert.deepEqual(log.map((e) => e.fallback), [false, false, false, true]);
    const events = await emu.control.events({ afterSeq: 0 });
    await events.next((e) => e.type === "message.created" && e.message?.to === lead && e.message.body === "We got your text.");
    events.close();
  });

  test("a connection failure is reported to the fallback as 11205; a fallback that fails too is recorded", async () => {
    const port = await closedPort();
    const bought = await emu.client.incomingPhoneNumbers.create({
      areaCode: "512",
      smsUrl: `http://127.0.0.1:${port}/sms#rc=0`,
      smsFallbackUrl: `${app.url}/fallback-down`,
    });
    answer("/fallback-down", [503]);
    const { message, hooks } = await textAndSettle(bought.phoneNumber);
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0].params.ErrorCode, "11205");
    assert.deepEqual([message.webhook?.state, message.webhook?.fallback?.state, message.webhook?.fallback?.errorCode], ["failed", "failed", 11200]);
  });

  test("a primary answering 200 with something that is not TwiML also sends Twilio to the fallback (12100)", async () => {
    const number = await numberWith("/html", { fallbackPath: "/fallback" });
    app.respond = (request, res) => {
      if (request.path === "/html") return void res.writeHead(200, { "content-type": "text/html" }).end("<html>maintenance</html>");
      res.writeHead(204).end();
    };
    const { hooks, message } = await textAndSettle(number);
    assert.deepEqual(hooks.map((h) => [h.path, h.params.ErrorCode]), [["/html", undefined], ["/fallback", "12100"]]);
    assert.equal(message.webhook?.state, "delivered");
    assert.equal(message.webhook?.fallback?.state, "delivered");
  });

  test("a primary that succeeds never calls the fallback", async () => {
    const number = await numberWith("/sms", { fallbackPath: "/fallback" });
    const { hooks } = await textAndSettle(number);
    assert.deepEqual(hooks.map((h) => h.path), ["/sms"]);
  });
});

/** A local port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
