import { assert, assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { RpcError } from "../_shared/http.ts";
import { createDispatchHandler, type DispatchDeps } from "./handler.ts";
import { fakeFetch, fakeRpc, hangingFetch, serviceCredentials as credentials, serviceHeaders } from "../_shared/testing/fakes.ts";
import type { TwilioEnv } from "../_shared/env.ts";

const twilio: TwilioEnv = {
  TWILIO_ACCOUNT_SID: "AC" + "a".repeat(32),
  TWILIO_AUTH_TOKEN: "secret-token",
  TWILIO_API_BASE_URL: "http://twilio.test",
  TWILIO_WEBHOOK_BASE_URL: "https://abc.supabase.co/functions/v1",
  TWILIO_REQUEST_TIMEOUT_MS: 100,
};

function message(n: number, kind = "owner_alert") {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    business_id: "22222222-2222-4222-8222-222222222222",
    lead_id: "33333333-3333-4333-8333-333333333333",
    conversation_id: null,
    kind,
    to_phone: `+1512555${String(n).padStart(4, "0")}`,
    from_phone: "+15005550006",
    body: `message ${n}`,
    attempts: 1,
    unknown_attempt_at: null as string | null,
  };
}

/** Claims return the given batches in order, then nothing. */
function rpcWith(batches: ReturnType<typeof message>[][], failedStatus = "queued") {
  return fakeRpc({
    claim_outbound_messages: (_a, i) => batches[i] ?? [],
    mark_message_sent: () => true,
    mark_message_failed: (a) => (a.p_retryable ? failedStatus : "failed"),
    next_outbox_due_at: () => null,
  });
}

const post = () => new Request("http://fn/sms-dispatch", { method: "POST", body: "{}", headers: serviceHeaders });
const created = (sid: string) => new Response(JSON.stringify({ sid, status: "queued" }), { status: 201 });
const twilioError = (status: number, code: number, message = "error") =>
  new Response(JSON.stringify({ code, message, status }), { status });

/** One invocation; the background retry keeper it leaves is awaited too, so no test leaks a timer. */
async function run(deps: DispatchDeps) {
  const background: Promise<unknown>[] = [];
  const res = await createDispatchHandler({ waitUntil: (p) => background.push(p), ...deps })(post());
  const body = await res.json();
  await Promise.all(background);
  return { status: res.status, body };
}

Deno.test("sends every claimed message with Twilio's API shape and drains until a claim is empty", async () => {
  const r = rpcWith([[message(1), message(2)], [message(3)]]);
  let n = 0;
  const f = fakeFetch(() => created(`SM${++n}`));
  const { status, body } = await run({ rpc: r.rpc, credentials, twilio, fetch: f.fetch });
  assertEquals(status, 200);
  assertEquals(body, { claimed: 3, sent: 3, reconciled: 0, retried: 0, failed: 0 });
  assertEquals(r.callsTo("claim_outbound_messages").length, 3, "claims again until empty");
  assertEquals(f.calls[0].url, `http://twilio.test/2010-04-01/Accounts/${twilio.TWILIO_ACCOUNT_SID}/Messages.json`);
  const headers = new Headers(f.calls[0].init.headers);
  assertEquals(headers.get("authorization"), "Basic " + btoa(`${twilio.TWILIO_ACCOUNT_SID}:secret-token`));
  const form = new URLSearchParams(String(f.calls[0].init.body));
  assertEquals(form.get("To"), "+15125550001");
  assertEquals(form.get("From"), "+15005550006");
  assertEquals(form.get("Body"), "message 1");
  assertEquals(form.get("StatusCallback"), "https://abc.supabase.co/functions/v1/twilio-status");
  assert(f.calls[0].init.signal, "every request has a timeout signal");
  const sent = r.callsTo("mark_message_sent").map((c) => c.args.p_twilio_sid).sort();
  assertEquals(sent, ["SM1", "SM2", "SM3"]);
});

for (
  const [name, respond, code, retryable] of [
    ["HTTP 500", () => new Response("oops", { status: 500 }), "http_500", true],
    ["HTTP 503 with a Twilio body", () => twilioError(503, 20500), "20500", true],
    ["HTTP 429", () => twilioError(429, 20429, "Too Many Requests"), "20429", true],
    ["21611 sender queue full", () => twilioError(400, 21611), "21611", true],
    ["30003 unreachable", () => twilioError(400, 30003), "30003", true],
    ["30008 unknown", () => twilioError(400, 30008), "30008", true],
    ["21211 invalid To", () => twilioError(400, 21211, "The 'To' number is not valid"), "21211", false],
    ["21610 opted out", () => twilioError(400, 21610), "21610", false],
    ["21614 landline", () => twilioError(400, 21614), "21614", false],
    ["30007 filtered", () => twilioError(400, 30007), "30007", false],
    ["HTTP 401 without body", () => new Response("", { status: 401 }), "http_401", false],
    // Twilio took something it did not name: retried, but looked up first.
    ["201 without a sid", () => new Response("{}", { status: 201 }), "invalid_response", true],
  ] as const
) {
  Deno.test(`Twilio ${name} -> mark_message_failed(code ${code}, retryable ${retryable})`, async () => {
    const r = rpcWith([[message(1)]]);
    const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(respond).fetch });
    const [call] = r.callsTo("mark_message_failed");
    assertEquals(call.args.p_error_code, code);
    assertEquals(call.args.p_retryable, retryable);
    assertEquals(body, { claimed: 1, sent: 0, reconciled: 0, retried: retryable ? 1 : 0, failed: retryable ? 0 : 1 });
  });
}

Deno.test("a timeout, a reset connection, a gateway 504 and a 2xx without a sid leave the outcome unknown; a refused connection or Twilio's 500 do not", async () => {
  const r = rpcWith([[message(1), message(2), message(3), message(4), message(5), message(6)]]);
  const answers: Array<(url: string, init: RequestInit) => Promise<Response>> = [
    (url, init) => hangingFetch(url, init),
    () => Promise.reject(new TypeError("error sending request: connection reset by peer")),
    () => Promise.resolve(new Response("", { status: 504 })),
    () => Promise.resolve(new Response("{}", { status: 201 })),
    () => Promise.reject(new TypeError("error sending request: tcp connect error: Connection refused")),
    () => Promise.resolve(twilioError(500, 20500)),
  ];
  let i = 0;
  const fetchFn = ((url: string, init: RequestInit) => answers[i++](url, init)) as typeof fetch;
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fetchFn, concurrency: 1 });
  const calls = r.callsTo("mark_message_failed").map((c) => [c.args.p_error_code, c.args.p_retryable, c.args.p_outcome_unknown]);
  assertEquals(calls, [
    ["timeout", true, true],
    ["network", true, true],
    ["http_504", true, true],
    ["invalid_response", true, true],
    ["network", true, false],
    ["20500", true, false],
  ]);
  assertEquals(body.retried, 6);
});

Deno.test("an attempt of unknown outcome found in Twilio's list is recorded as sent, not sent again", async () => {
  const since = "2026-12-01T10:00:00.000Z";
  const r = rpcWith([[{ ...message(1), unknown_attempt_at: since }]]);
  const f = fakeFetch(() =>
    Response.json({
      messages: [
        { sid: "SMother", body: "another text", date_created: "Tue, 01 Dec 2026 10:00:03 +0000" },
        { sid: "SMfound", body: "message 1", date_created: "Tue, 01 Dec 2026 10:00:02 +0000" },
      ],
    })
  );
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: f.fetch });
  assertEquals(f.calls.length, 1, "one lookup, no send");
  assertEquals(f.calls[0].init.method, "GET");
  const url = new URL(f.calls[0].url);
  assertEquals(url.pathname, `/2010-04-01/Accounts/${twilio.TWILIO_ACCOUNT_SID}/Messages.json`);
  assertEquals(url.searchParams.get("To"), "+15125550001");
  assertEquals(url.searchParams.get("From"), "+15005550006");
  assertEquals(url.searchParams.get("DateSent>"), "2026-12-01T09:59:00.000Z");
  assertEquals(r.callsTo("mark_message_sent")[0].args, { p_message_id: message(1).id, p_twilio_sid: "SMfound" });
  assertEquals(body, { claimed: 1, sent: 0, reconciled: 1, retried: 0, failed: 0 });
});

Deno.test("the lookup pages through Twilio's list (many texts to one owner) within a window around the attempt", async () => {
  const r = rpcWith([[{ ...message(1), unknown_attempt_at: "2026-12-01T10:00:00.000Z" }]]);
  const f = fakeFetch((call) =>
    new URL(call.url).searchParams.get("PageToken")
      ? Response.json({ messages: [{ sid: "SMpage2", body: "message 1", date_created: "Tue, 01 Dec 2026 10:00:01 +0000" }], next_page_uri: null })
      : Response.json({
        messages: [{ sid: "SMother", body: "message 9", date_created: "Tue, 01 Dec 2026 10:00:09 +0000" }],
        next_page_uri: `/2010-04-01/Accounts/${twilio.TWILIO_ACCOUNT_SID}/Messages.json?To=%2B15125550001&PageSize=1000&Page=1&PageToken=PA1`,
      })
  );
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: f.fetch });
  assertEquals(f.calls.length, 2);
  assertEquals(new URL(f.calls[0].url).searchParams.get("DateSent<"), "2026-12-01T10:05:00.000Z");
  assertEquals(new URL(f.calls[1].url).origin, "http://twilio.test", "the next page is asked of the same API");
  assertEquals(r.callsTo("mark_message_sent")[0].args.p_twilio_sid, "SMpage2");
  assertEquals(body.reconciled, 1);
});

Deno.test("an attempt of unknown outcome not in Twilio's list is sent; one from before it does not count", async () => {
  const r = rpcWith([[{ ...message(1), unknown_attempt_at: "2026-12-01T10:00:00.000Z" }]]);
  const f = fakeFetch((call) =>
    call.init.method === "GET"
      ? Response.json({ messages: [{ sid: "SMold", body: "message 1", date_created: "Tue, 01 Dec 2026 09:50:00 +0000" }] })
      : created("SMnew")
  );
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: f.fetch });
  assertEquals(f.calls.map((c) => c.init.method), ["GET", "POST"]);
  assertEquals(r.callsTo("mark_message_sent")[0].args.p_twilio_sid, "SMnew");
  assertEquals(body.sent, 1);
});

Deno.test("when Twilio's list cannot be read, nothing is sent: retried later, still of unknown outcome", async () => {
  const r = rpcWith([[{ ...message(1), unknown_attempt_at: "2026-12-01T10:00:00.000Z" }]]);
  const f = fakeFetch(() => new Response("down", { status: 503 }));
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: f.fetch });
  assertEquals(f.calls.map((c) => c.init.method), ["GET"]);
  const [call] = r.callsTo("mark_message_failed");
  assertEquals([call.args.p_error_code, call.args.p_retryable, call.args.p_outcome_unknown], ["reconcile_failed", true, true]);
  assertEquals(body.retried, 1);
});

Deno.test("a retry due within the horizon is woken at its own time by the same invocation", async () => {
  let dueAt: Date | null = new Date(Date.now() + 40);
  const r = fakeRpc({
    claim_outbound_messages: (_a, i) => (i === 1 ? [message(2)] : []),
    mark_message_sent: () => true,
    next_outbox_due_at: () => {
      const answer = dueAt;
      dueAt = null;
      return answer?.toISOString() ?? null;
    },
  });
  const started = Date.now();
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(() => created("SM2")).fetch, retryHorizonMs: 1000 });
  assertEquals(body.claimed, 0, "the response does not wait for the retry");
  assert(Date.now() - started >= 40, "the keeper slept until the retry was due");
  assertEquals(r.callsTo("mark_message_sent").map((c) => c.args.p_twilio_sid), ["SM2"], "and then sent it");
});

Deno.test("a message due but not claimable does not make the keeper spin", async () => {
  const r = fakeRpc({
    claim_outbound_messages: () => [],
    next_outbox_due_at: () => new Date(Date.now() - 1000).toISOString(),
  });
  await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(() => created("SM1")).fetch, keepAliveMs: 1500 });
  const claims = r.callsTo("claim_outbound_messages").length;
  assert(claims >= 2 && claims <= 4, `${claims} claims in 1.5 s`);
});

Deno.test("a retry due later than the horizon is left to the minute sweep", async () => {
  const r = fakeRpc({
    claim_outbound_messages: () => [],
    next_outbox_due_at: () => new Date(Date.now() + 5 * 60_000).toISOString(),
  });
  await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(() => created("SM1")).fetch, retryHorizonMs: 1000 });
  assertEquals(r.callsTo("claim_outbound_messages").length, 1);
  assertEquals(r.callsTo("next_outbox_due_at").length, 1);
});

Deno.test("the last attempt of a retryable error counts as failed (the database dead-letters it)", async () => {
  const r = rpcWith([[message(1)]], "failed");
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(() => new Response("", { status: 500 })).fetch });
  assertEquals(body, { claimed: 1, sent: 0, reconciled: 0, retried: 0, failed: 1 });
});

Deno.test("a message whose lease expired before mark_message_sent still counts as sent", async () => {
  const r = fakeRpc({
    claim_outbound_messages: (_a, i) => (i === 0 ? [message(1)] : []),
    mark_message_sent: () => false,
    next_outbox_due_at: () => null,
  });
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(() => created("SM1")).fetch });
  assertEquals(body.sent, 1);
});

Deno.test("a failure recording one message does not stop the others (its lease hands it back)", async () => {
  const r = fakeRpc({
    claim_outbound_messages: (_a, i) => (i === 0 ? [message(1), message(2)] : []),
    mark_message_sent: (a) => {
      if (a.p_twilio_sid === "SM1") throw new Error("connection lost");
      return true;
    },
    next_outbox_due_at: () => null,
  });
  let n = 0;
  const { status, body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(() => created(`SM${++n}`)).fetch, concurrency: 1 });
  assertEquals(status, 200);
  assertEquals(body, { claimed: 2, sent: 1, reconciled: 0, retried: 0, failed: 0 });
});

Deno.test("one invocation is bounded by maxBatches", async () => {
  const r = fakeRpc({ claim_outbound_messages: (_a, i) => [message(i)], mark_message_sent: () => true, next_outbox_due_at: () => null });
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(() => created("SMx")).fetch, maxBatches: 3 });
  assertEquals(body.claimed, 3);
  assertEquals(r.callsTo("claim_outbound_messages").length, 3);
});

Deno.test("claim arguments: batch size and lease", async () => {
  const r = rpcWith([]);
  await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(() => created("SM1")).fetch, batchSize: 7, leaseSeconds: 45 });
  assertEquals(r.callsTo("claim_outbound_messages")[0].args, { p_batch_size: 7, p_lease_seconds: 45 });
});

Deno.test("an unexpected failure on claim answers 500 without details", async () => {
  const r = fakeRpc({
    claim_outbound_messages: () => {
      throw new Error("db down");
    },
  });
  const res = await createDispatchHandler({ rpc: r.rpc, credentials, twilio })(post());
  assertEquals(res.status, 500);
});

Deno.test("a malformed claim result answers 502 with a safe message, the details only in the log", async () => {
  const r = fakeRpc({ claim_outbound_messages: () => [{ id: "not-a-uuid" }] });
  const res = await createDispatchHandler({ rpc: r.rpc, credentials, twilio })(post());
  assertEquals(res.status, 502);
  assertEquals(await res.json(), { error: "rpc_failed", message: "a database call failed; try again later" });
});

Deno.test("a database error never reaches the caller in its own words", async () => {
  const r = fakeRpc({
    claim_outbound_messages: () => {
      throw new RpcError("claim_outbound_messages", 'P0001 relation "public.messages" does not exist');
    },
  });
  const res = await createDispatchHandler({ rpc: r.rpc, credentials, twilio })(post());
  assertEquals(res.status, 502);
  const text = await res.text();
  assert(!/relation|public\.messages|P0001/.test(text), text);
});

Deno.test("only POST is accepted", async () => {
  const r = rpcWith([]);
  const res = await createDispatchHandler({ rpc: r.rpc, credentials, twilio })(new Request("http://fn/sms-dispatch", { headers: serviceHeaders }));
  assertEquals(res.status, 405);
  assertEquals(res.headers.get("allow"), "POST");
  assertEquals(r.calls.length, 0);
});

Deno.test("a claim failing in a worker that joined later ends the drain with an error, never an unhandled rejection", async () => {
  // The first two claims come back full, so workers join; every claim after them fails, while the
  // first worker is still sending. Deno ends a process on an unhandled rejection: this test fails then.
  let claims = 0;
  const r = fakeRpc({
    claim_outbound_messages: () => {
      claims++;
      if (claims <= 2) return [message(claims * 2 - 1), message(claims * 2)];
      throw new RpcError("claim_outbound_messages", "TypeError: fetch failed");
    },
    mark_message_sent: () => true,
    next_outbox_due_at: () => null,
  });
  const f = fakeFetch(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return created("SM1");
  });
  const { status, body } = await run({ rpc: r.rpc, credentials, twilio, fetch: f.fetch, batchSize: 2 });
  assertEquals(status, 502);
  assertMatch(JSON.stringify(body), /error/i);
  assertEquals(r.callsTo("mark_message_sent").length, 4, "what was claimed is still sent and recorded");
  await new Promise((resolve) => setTimeout(resolve, 20));
});

Deno.test("wakes that arrive while a drain runs share it: one drain at a time, and one more pass after it", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  let claims = 0;
  const r = fakeRpc({
    claim_outbound_messages: async () => {
      claims++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
      return claims === 1 ? [message(1)] : [];
    },
    mark_message_sent: () => true,
    next_outbox_due_at: () => null,
  });
  const f = fakeFetch(() => created("SM1"));
  const background: Promise<unknown>[] = [];
  const handler = createDispatchHandler({ rpc: r.rpc, credentials, twilio, fetch: f.fetch, waitUntil: (p) => background.push(p) });
  const responses = await Promise.all([handler(post()), handler(post()), handler(post())]);
  await Promise.all(background);
  assertEquals(responses.map((res) => res.status), [200, 200, 200]);
  assertEquals(maxInFlight, 1, "never two drains claiming side by side");
  // The first pass claims the message and then an empty batch; the wakes that came meanwhile get one
  // more pass (one empty claim), not one each.
  assertEquals(claims, 3);
  assertEquals((await responses[2].json()).sent, 1, "a wake that waited answers with the drain it shared");
});
