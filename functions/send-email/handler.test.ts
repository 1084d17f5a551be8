import { assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { createSendEmailHandler, type HandlerDeps } from "./handler.ts";
import { claimedEmail, fakeMailer, fakeOutbox } from "./testing.ts";

const serviceRoleKey = "service-role-key";
const post = (body = "{}", key: string | null = serviceRoleKey) =>
  new Request("http://fn/send-email", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(key === null ? {} : { Authorization: `Bearer ${key}` }) },
    body,
  });

const credentials = { serviceRoleKey, secretKeys: ["sb_secret_email"] };

async function run(deps: Omit<HandlerDeps, "credentials">, req = post()) {
  const res = await createSendEmailHandler({ ...deps, credentials })(req);
  return { status: res.status, body: await res.json() };
}

Deno.test("sends every claimed email and claims again until the outbox is empty", async () => {
  const outbox = fakeOutbox([[claimedEmail(1), claimedEmail(2)], [claimedEmail(3)]]);
  const m = fakeMailer();
  const { status, body } = await run({ rpc: outbox.rpc, mailer: m.mailer });
  assertEquals(status, 200);
  assertEquals(body, { claimed: 3, sent: 3, retried: 0, failed: 0 });
  assertEquals(outbox.callsTo("claim_emails").length, 3, "claims until a claim is empty");
  assertEquals(m.sent[0], { id: claimedEmail(1).id, to: "owner1@example.com", subject: "New lead: Lead 1", text: "text 1", html: "<p>html 1</p>" });
  assertEquals(outbox.callsTo("mark_email_sent")[0].args, { p_email_id: claimedEmail(1).id, p_provider_message_id: "p-1" },
    "the database's own clock unless the caller moved it");
  assertEquals(outbox.callsTo("claim_emails")[0].args, { p_batch_size: 20, p_lease_seconds: 120 });
});

Deno.test("a provider failure is reported with whether to retry; the database answers what became of it", async () => {
  const outbox = fakeOutbox([[claimedEmail(1), claimedEmail(2)]]);
  const m = fakeMailer((e) => e.to.startsWith("owner1")
    ? { ok: false, retryable: true, error: "ESOCKET connect ECONNREFUSED 127.0.0.1:1" }
    : { ok: false, retryable: false, error: "EENVELOPE 550 no such user" });
  const { body } = await run({ rpc: outbox.rpc, mailer: m.mailer });
  assertEquals(body, { claimed: 2, sent: 0, retried: 1, failed: 1 });
  const failed = outbox.callsTo("mark_email_failed").map((c) => c.args);
  assertEquals(failed.find((a) => a.p_email_id === claimedEmail(1).id), {
    p_email_id: claimedEmail(1).id, p_error: "ESOCKET connect ECONNREFUSED 127.0.0.1:1", p_retryable: true,
  });
  assertEquals(failed.find((a) => a.p_email_id === claimedEmail(2).id)?.p_retryable, false);
});

Deno.test("a mailer that throws counts as a failure worth retrying, not a crash", async () => {
  const outbox = fakeOutbox([[claimedEmail(1)]]);
  const m = fakeMailer(() => {
    throw new Error("boom");
  });
  const { status, body } = await run({ rpc: outbox.rpc, mailer: m.mailer });
  assertEquals(status, 200);
  assertEquals(body.retried, 1);
  assertMatch(String(outbox.callsTo("mark_email_failed")[0].args.p_error), /unexpected: boom/);
});

Deno.test("an outbox row that does not parse is settled as a permanent failure, never sent", async () => {
  const outbox = fakeOutbox([[claimedEmail(1, { subject: "two\nlines" }), { nothing: true }]]);
  const m = fakeMailer();
  const { body } = await run({ rpc: outbox.rpc, mailer: m.mailer });
  assertEquals(m.sent.length, 0);
  assertEquals(body, { claimed: 2, sent: 0, retried: 0, failed: 2 });
  const failed = outbox.callsTo("mark_email_failed");
  assertEquals(failed.length, 1, "only the row whose id can be read can be settled");
  assertEquals(failed[0].args.p_retryable, false);
  assertMatch(String(failed[0].args.p_error), /unusable outbox row: subject/);
});

Deno.test("the caller may move the outbox's clock; it reaches every RPC", async () => {
  const outbox = fakeOutbox([[claimedEmail(1)]]);
  const now = "2026-12-04T10:00:00.000Z";
  await run({ rpc: outbox.rpc, mailer: fakeMailer().mailer }, post(JSON.stringify({ now })));
  for (const call of outbox.calls) assertEquals(call.args.p_now, now, call.name);
});

Deno.test("the service role key or a secret key may call it", async () => {
  for (const key of [serviceRoleKey, "sb_secret_email"]) {
    const { status } = await run({ rpc: fakeOutbox([]).rpc, mailer: fakeMailer().mailer }, post("{}", key));
    assertEquals(status, 200, key);
  }
});

Deno.test("only the service role may call it: no token, the anon key or a user's token get 401 and send nothing", async () => {
  for (const key of [null, "anon-key", "eyJhbGciOiJIUzI1NiJ9.user.token", `${serviceRoleKey}x`, "sb_publishable_x"]) {
    const outbox = fakeOutbox([[claimedEmail(1)]]);
    const { status, body } = await run({ rpc: outbox.rpc, mailer: fakeMailer().mailer }, post("{}", key));
    assertEquals(status, 401, String(key));
    assertEquals(body.error, "unauthorized");
    assertEquals(outbox.calls.length, 0);
  }
});

Deno.test("bad requests are refused before anything is claimed", async () => {
  const cases: Array<[Request, number]> = [
    [new Request("http://fn/send-email", { method: "GET", headers: { Authorization: `Bearer ${serviceRoleKey}` } }), 405],
    [post("{nope"), 400],
    [post(JSON.stringify({ now: "yesterday" })), 400],
    [post(JSON.stringify({ now: "2026-12-04T10:00:00Z", extra: 1 })), 400],
    [post(JSON.stringify({ pad: "x".repeat(2000) })), 413],
  ];
  for (const [req, expected] of cases) {
    const outbox = fakeOutbox([[claimedEmail(1)]]);
    const { status } = await run({ rpc: outbox.rpc, mailer: fakeMailer().mailer }, req);
    assertEquals(status, expected);
    assertEquals(outbox.calls.length, 0);
  }
});

Deno.test("an empty body (as pg_net may post) is a plain wake", async () => {
  const outbox = fakeOutbox([]);
  const { status, body } = await run({ rpc: outbox.rpc, mailer: fakeMailer().mailer }, post(""));
  assertEquals(status, 200);
  assertEquals(body, { claimed: 0, sent: 0, retried: 0, failed: 0 });
});

Deno.test("no new batch is claimed once the time budget is spent", async () => {
  const outbox = fakeOutbox(Array.from({ length: 10 }, (_, i) => [claimedEmail(i + 1)]));
  const m = fakeMailer(async () => {
    await new Promise((r) => setTimeout(r, 20));
    return { ok: true, providerMessageId: null };
  });
  const res = await createSendEmailHandler({ rpc: outbox.rpc, mailer: m.mailer, credentials, budgetMs: 30 })(post());
  const body = await res.json();
  assertEquals(body.claimed < 10, true, `claimed ${body.claimed}`);
  assertEquals(outbox.callsTo("mark_email_sent")[0].args.p_provider_message_id, undefined, "no provider id: left to the default");
});
