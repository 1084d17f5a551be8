import { Webhook } from "standardwebhooks";
import { assert, assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { fakeFetch, hangingFetch } from "../_shared/testing/fakes.ts";
import type { RawRpc } from "../_shared/rpc.ts";
import { createDeliverHandler, type HandlerDeps } from "./handler.ts";
import { EXCERPT_CHARS, leaseSeconds, MAX_RESPONSE_BYTES } from "./deliver.ts";
import { webhookRpc } from "./rpc.ts";
import type { ResolveDns } from "./target.ts";

const SERVICE_KEY = "service-role-key";
const SECRET_KEY = "sb_secret_webhooks_test";
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OLD_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const payload = JSON.stringify({ type: "lead.created", timestamp: "2026-12-03T14:05:09.120Z", version: 1, data: { lead: { name: "Dana" } } });

function claimed(n: number, overrides: Record<string, unknown> = {}) {
  return {
    delivery_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    attempt: 1,
    webhook_id: `msg_${String(n).padStart(32, "0")}`,
    event_type: "lead.created",
    payload,
    url: "https://hooks.example.com/in",
    secrets: [SECRET],
    allow_loopback: false,
    ...overrides,
  };
}

interface Call {
  name: string;
  args: Record<string, unknown>;
}

/** Claims answer the given batches in order, then nothing; records answer `recorded` (or throw). */
function fakeRpc(batches: unknown[][], recorded: (args: Record<string, unknown>) => unknown = (a) => ({
  recorded: true,
  status: a.p_error == null && Number(a.p_response_status) < 300 ? "succeeded" : "pending",
})) {
  const calls: Call[] = [];
  let claims = 0;
  const raw = ((name: string, args: Record<string, unknown>) => {
    calls.push({ name, args });
    if (name === "claim_webhook_deliveries") return Promise.resolve(batches[claims++] ?? []);
    if (name === "record_webhook_attempt") {
      try {
        return Promise.resolve(recorded(args));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return Promise.reject(new Error(`unexpected rpc ${name}`));
  }) as RawRpc;
  return { rpc: webhookRpc(raw), calls, records: () => calls.filter((c) => c.name === "record_webhook_attempt").map((c) => c.args) };
}

const publicDns: ResolveDns = (host, type) =>
  Promise.resolve(type === "A" ? ({ "hooks.example.com": ["93.184.216.34"], "b.example.com": ["93.184.216.35"] }[host] ?? []) : []);

function deps(overrides: Partial<HandlerDeps>): HandlerDeps {
  return { rpc: fakeRpc([]).rpc, credentials: { serviceRoleKey: SERVICE_KEY, secretKeys: [SECRET_KEY] }, resolveDns: publicDns, fetch: fakeFetch(() => new Response("ok")).fetch, ...overrides };
}

function post(body: string | null = null, key: string | null = SERVICE_KEY): Request {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  return new Request("http://fn/webhook-deliver", { method: "POST", headers, body });
}

async function run(d: HandlerDeps, req = post()) {
  const res = await createDeliverHandler(d)(req);
  return { status: res.status, body: await res.json() };
}

Deno.test("every delivery is signed per Standard Webhooks and verifies with the endpoint's secret", async () => {
  const r = fakeRpc([[claimed(1)]]);
  const f = fakeFetch(() => new Response("thanks", { status: 200 }));
  const pinned: string[][] = [];
  const { status, body } = await run(deps({ rpc: r.rpc, fetch: (url, init, addresses) => (pinned.push(addresses), f.fetch(url, init)) }));
  assertEquals(status, 200);
  assertEquals(body, { claimed: 1, succeeded: 1, retried: 0, failed: 0, endpoints_disabled: 0 });
  const [call] = f.calls;
  assertEquals(call.url, "https://hooks.example.com/in");
  assertEquals(call.init.method, "POST");
  assertEquals(pinned, [["93.184.216.34"]], "the request connects only to the address the target check approved");
  assert(call.init.signal, "every request has a timeout");
  const headers = Object.fromEntries(new Headers(call.init.headers).entries());
  assertEquals(headers["content-type"], "application/json");
  assertEquals(headers["webhook-id"], claimed(1).webhook_id);
  assertMatch(headers["user-agent"], /^leadloop-webhooks\//);
  assertEquals(call.init.body, payload, "the body is the stored payload, byte for byte");
  assertEquals(new Webhook(SECRET).verify(String(call.init.body), headers), JSON.parse(payload));
  assertEquals(r.records(), [{
    p_delivery_id: claimed(1).delivery_id, p_attempt: 1, p_latency_ms: r.records()[0].p_latency_ms, p_response_status: 200, p_response_excerpt: "thanks",
  }]);
});

Deno.test("during a rotation both secrets sign: a receiver holding either one verifies", async () => {
  const f = fakeFetch(() => new Response(""));
  await run(deps({ rpc: fakeRpc([[claimed(1, { secrets: [SECRET, OLD_SECRET] })]]).rpc, fetch: f.fetch }));
  const headers = Object.fromEntries(new Headers(f.calls[0].init.headers).entries());
  assertEquals(headers["webhook-signature"].split(" ").length, 2);
  for (const secret of [SECRET, OLD_SECRET]) new Webhook(secret).verify(String(f.calls[0].init.body), headers);
});

Deno.test("a signature from another secret does not verify (the test receiver's check can fail)", async () => {
  const f = fakeFetch(() => new Response(""));
  await run(deps({ rpc: fakeRpc([[claimed(1)]]).rpc, fetch: f.fetch }));
  const headers = Object.fromEntries(new Headers(f.calls[0].init.headers).entries());
  let refused = false;
  try {
    new Webhook(OLD_SECRET).verify(String(f.calls[0].init.body), headers);
  } catch {
    refused = true;
  }
  assert(refused);
});

Deno.test("the schedule's clock moves with {now}; the signature keeps the real time", async () => {
  const r = fakeRpc([[claimed(1)]]);
  const f = fakeFetch(() => new Response(""));
  const later = "2026-12-04T15:00:00.000Z";
  await run(deps({ rpc: r.rpc, fetch: f.fetch }), post(JSON.stringify({ now: later })));
  assertEquals(r.calls.filter((c) => c.name === "claim_webhook_deliveries").map((c) => c.args.p_now), [later, later]);
  assertEquals(r.records()[0].p_now, later);
  const sent = Number(new Headers(f.calls[0].init.headers).get("webhook-timestamp"));
  assert(Math.abs(sent - Date.now() / 1000) < 5, "webhook-timestamp is now, not the schedule's time");
});

for (
  const [name, respond, status, error] of [
    ["a 500", () => new Response("oops", { status: 500 }), 500, null],
    ["a 410", () => new Response("gone", { status: 410 }), 410, null],
    ["a redirect", () => new Response(null, { status: 302, headers: { location: "https://elsewhere.example.com/" } }), 302,
      "redirects are not followed (Location: https://elsewhere.example.com/)"],
    ["a network error", () => Promise.reject(new TypeError("connection reset")), null, "connection failed: connection reset"],
  ] as const
) {
  Deno.test(`${name} is recorded as a failed attempt`, async () => {
    const r = fakeRpc([[claimed(1)]]);
    const { body } = await run(deps({ rpc: r.rpc, fetch: fakeFetch(respond as () => Promise<Response>).fetch }));
    const [record] = r.records();
    assertEquals([record.p_response_status ?? null, record.p_error ?? null], [status, error]);
    assertEquals(body.retried, 1);
  });
}

Deno.test("a receiver that does not answer in time is a timeout", async () => {
  const r = fakeRpc([[claimed(1)]]);
  await run(deps({ rpc: r.rpc, fetch: hangingFetch, timeoutMs: 50 }));
  assertMatch(String(r.records()[0].p_error), /^timeout: no complete answer within/);
});

Deno.test("a slow DNS answer is bounded by the same timeout", async () => {
  const r = fakeRpc([[claimed(1)]]);
  const f = fakeFetch(() => new Response(""));
  await run(deps({ rpc: r.rpc, fetch: f.fetch, timeoutMs: 50, resolveDns: () => new Promise(() => undefined) }));
  assertMatch(String(r.records()[0].p_error), /^timeout/);
  assertEquals(f.calls.length, 0);
});

Deno.test("at most 64 KiB of an answer is read, and the log keeps 1000 characters", async () => {
  let pulled = 0;
  const huge = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += 16 * 1024;
      controller.enqueue(new TextEncoder().encode("x".repeat(16 * 1024)));
      if (pulled > 10 * 1024 * 1024) controller.close();
    },
  });
  const r = fakeRpc([[claimed(1)]]);
  await run(deps({ rpc: r.rpc, fetch: fakeFetch(() => new Response(huge)).fetch }));
  assert(pulled <= MAX_RESPONSE_BYTES + 3 * 16 * 1024, `read ${pulled} bytes`);
  assertEquals(String(r.records()[0].p_response_excerpt).length, EXCERPT_CHARS);
});

Deno.test("control characters of an answer never reach the log", async () => {
  const r = fakeRpc([[claimed(1)]]);
  await run(deps({ rpc: r.rpc, fetch: fakeFetch(() => new Response("ok\u0000\u001b[31m\nnext\tline")).fetch }));
  assertEquals(r.records()[0].p_response_excerpt, "ok[31m\nnext\tline");
});

Deno.test("a target that is not public is refused before any request, on the production platform", async () => {
  const r = fakeRpc([[
    claimed(1, { url: "https://169.254.169.254/latest/meta-data" }),
    claimed(2, { url: "http://127.0.0.1:8080/hook" }),
    claimed(3, { url: "https://b.example.com/in" }),
  ]]);
  const f = fakeFetch(() => new Response(""));
  const { body } = await run(deps({ rpc: r.rpc, fetch: f.fetch, concurrency: 1 }));
  assertEquals(f.calls.map((c) => c.url), ["https://b.example.com/in"]);
  const errors = r.records().map((a) => a.p_error ?? null);
  assertMatch(String(errors[0]), /^refused: 169\.254\.169\.254 points to 169\.254\.169\.254, which is not a public address/);
  assertMatch(String(errors[1]), /^refused: 127\.0\.0\.1 points to this machine/);
  assertEquals(errors[2], null);
  assertEquals(body, { claimed: 3, succeeded: 1, retried: 2, failed: 0, endpoints_disabled: 0 });
});

Deno.test("loopback is sent to when the platform is local", async () => {
  const f = fakeFetch(() => new Response(""));
  await run(deps({ rpc: fakeRpc([[claimed(1, { url: "http://127.0.0.1:8080/hook", allow_loopback: true })]]).rpc, fetch: f.fetch }));
  assertEquals(f.calls.length, 1);
});

Deno.test("an endpoint without a secret, or an unreadable claimed row, is a failed attempt, never a silent lease", async () => {
  const r = fakeRpc([[claimed(1, { secrets: [] }), { ...claimed(2), webhook_id: "nope" }, { nothing: true }]]);
  const f = fakeFetch(() => new Response(""));
  const { body } = await run(deps({ rpc: r.rpc, fetch: f.fetch, concurrency: 1 }));
  assertEquals(f.calls.length, 0);
  assertMatch(String(r.records()[0].p_error), /no signing secret/);
  assertMatch(String(r.records()[1].p_error), /^internal: unreadable delivery \(webhook_id/);
  assertEquals(body.claimed, 2, "a row without even an id cannot be settled; its lease hands it back");
});

Deno.test("the endpoint turned off by the database is counted", async () => {
  const r = fakeRpc([[claimed(1)]], () => ({ recorded: true, status: "failed", next_attempt_at: null, endpoint_disabled: true }));
  const { body } = await run(deps({ rpc: r.rpc, fetch: fakeFetch(() => new Response("", { status: 503 })).fetch }));
  assertEquals(body, { claimed: 1, succeeded: 0, retried: 0, failed: 1, endpoints_disabled: 1 });
});

Deno.test("a failure recording one attempt does not stop the others; a stale lease is not counted", async () => {
  const r = fakeRpc([[claimed(1), claimed(2), claimed(3)]], (a) => {
    if (a.p_delivery_id === claimed(1).delivery_id) throw new Error("connection lost");
    if (a.p_delivery_id === claimed(2).delivery_id) return { recorded: false, status: "sending" };
    return { recorded: true, status: "succeeded" };
  });
  const { status, body } = await run(deps({ rpc: r.rpc, concurrency: 1 }));
  assertEquals(status, 200);
  assertEquals(body, { claimed: 3, succeeded: 1, retried: 0, failed: 0, endpoints_disabled: 0 });
});

Deno.test("claims until empty, bounded per invocation, with a lease covering the batch", async () => {
  const r = fakeRpc([[claimed(1)], [claimed(2)], [claimed(3)], [claimed(4)]]);
  const { body } = await run(deps({ rpc: r.rpc, maxBatches: 3, batchSize: 4, concurrency: 2, timeoutMs: 10_000 }));
  assertEquals(body.claimed, 3);
  const claims = r.calls.filter((c) => c.name === "claim_webhook_deliveries").map((c) => c.args);
  assertEquals(claims[0], { p_batch_size: 4, p_lease_seconds: 50 });
  assertEquals(leaseSeconds(10, 5, 15_000), 60);
  assertEquals(leaseSeconds(100, 1, 15_000), 900, "never more than the database accepts");
});

Deno.test("no batch starts once the time budget is spent", async () => {
  let t = 0;
  const r = fakeRpc([[claimed(1)], [claimed(2)], [claimed(3)]]);
  const f = fakeFetch(() => {
    t += 40_000; // each answer takes 40 s of the clock
    return new Response("");
  });
  const { body } = await run(deps({ rpc: r.rpc, fetch: f.fetch, clock: () => t, budgetMs: 60_000 }));
  assertEquals(body.claimed, 2, "the third batch would start after 80 s");
});

Deno.test("only the service role may call it", async () => {
  for (const key of [null, "anon-key", `${SERVICE_KEY}x`, ""]) {
    const r = fakeRpc([[claimed(1)]]);
    const { status } = await run(deps({ rpc: r.rpc }), post(null, key));
    assertEquals(status, 401, `key ${key}`);
    assertEquals(r.calls.length, 0);
  }
  const { status } = await run(deps({ rpc: fakeRpc([[]]).rpc }), post(null, SECRET_KEY));
  assertEquals(status, 200, "a secret key (sb_secret_...) is the service role too");
});

Deno.test("bad requests are refused before anything is claimed", async () => {
  for (const body of ['{"now": "tomorrow"}', '{"now": "2026-12-04T15:00:00Z", "x": 1}', "{not json", "x".repeat(2000)]) {
    const r = fakeRpc([[claimed(1)]]);
    const { status } = await run(deps({ rpc: r.rpc }), post(body));
    assertEquals(status, 400, body.slice(0, 40));
    assertEquals(r.calls.length, 0);
  }
  const res = await createDeliverHandler(deps({}))(new Request("http://fn/webhook-deliver", { headers: { authorization: `Bearer ${SERVICE_KEY}` } }));
  assertEquals(res.status, 405);
});
