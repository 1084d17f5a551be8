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
  };
}

/** Claims return the given batches in order, then nothing. */
function rpcWith(batches: ReturnType<typeof message>[][], failedStatus = "queued") {
  return fakeRpc({
    claim_outbound_messages: (_a, i) => batches[i] ?? [],
    mark_message_sent: () => true,
    mark_message_failed: (a) => (a.p_retryable ? failedStatus : "failed"),
  });
}

const post = () => new Request("http://fn/sms-dispatch", { method: "POST", body: "{}", headers: serviceHeaders });
const created = (sid: string) => new Response(JSON.stringify({ sid, status: "queued" }), { status: 201 });
const twilioError = (status: number, code: number, message = "error") =>
  new Response(JSON.stringify({ code, message, status }), { status });

async function run(deps: DispatchDeps) {
  const res = await createDispatchHandler(deps)(post());
  return { status: res.status, body: await res.json() };
}

Deno.test("sends every claimed message with Twilio's API shape and drains until a claim is empty", async () => {
  const r = rpcWith([[message(1), message(2)], [message(3)]]);
  let n = 0;
  const f = fakeFetch(() => created(`SM${++n}`));
  const { status, body } = await run({ rpc: r.rpc, credentials, twilio, fetch: f.fetch });
  assertEquals(status, 200);
  assertEquals(body, { claimed: 3, sent: 3, retried: 0, failed: 0 });
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
    ["201 without a sid", () => new Response("{}", { status: 201 }), "invalid_response", false],
  ] as const
) {
  Deno.test(`Twilio ${name} -> mark_message_failed(code ${code}, retryable ${retryable})`, async () => {
    const r = rpcWith([[message(1)]]);
    const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(respond).fetch });
    const [call] = r.callsTo("mark_message_failed");
    assertEquals(call.args.p_error_code, code);
    assertEquals(call.args.p_retryable, retryable);
    assertEquals(body, { claimed: 1, sent: 0, retried: retryable ? 1 : 0, failed: retryable ? 0 : 1 });
  });
}

Deno.test("a timeout and a network error are retryable", async () => {
  const r = rpcWith([[message(1), message(2)]]);
  let i = 0;
  const fetchFn =
    ((url: string, init: RequestInit) =>
      i++ === 0 ? hangingFetch(url, init) : Promise.reject(new TypeError("connection reset"))) as typeof fetch;
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fetchFn, concurrency: 1 });
  const calls = r.callsTo("mark_message_failed").map((c) => [c.args.p_error_code, c.args.p_retryable]);
  assertEquals(calls, [["timeout", true], ["network", true]]);
  assertEquals(body.retried, 2);
});

Deno.test("the last attempt of a retryable error counts as failed (the database dead-letters it)", async () => {
  const r = rpcWith([[message(1)]], "failed");
  const { body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(() => new Response("", { status: 500 })).fetch });
  assertEquals(body, { claimed: 1, sent: 0, retried: 0, failed: 1 });
});

Deno.test("a message whose lease expired before mark_message_sent still counts as sent", async () => {
  const r = fakeRpc({ claim_outbound_messages: (_a, i) => (i === 0 ? [message(1)] : []), mark_message_sent: () => false });
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
  });
  let n = 0;
  const { status, body } = await run({ rpc: r.rpc, credentials, twilio, fetch: fakeFetch(() => created(`SM${++n}`)).fetch, concurrency: 1 });
  assertEquals(status, 200);
  assertEquals(body, { claimed: 2, sent: 1, retried: 0, failed: 0 });
});

Deno.test("one invocation is bounded by maxBatches", async () => {
  const r = fakeRpc({ claim_outbound_messages: (_a, i) => [message(i)], mark_message_sent: () => true });
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
