import { assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { fakeFetch, hangingFetch } from "../_shared/testing/fakes.ts";
import { parseSender } from "./mailer.ts";
import { createResendMailer } from "./resend.ts";

const sender = parseSender('"Leadloop, Alerts" <alerts@mail.leadloop.test>');
const email = { id: "11111111-2222-4333-8444-555555555555", to: "owner@example.com", subject: "New lead: Ana", text: "t", html: "<p>h</p>" };
const settings = { apiKey: "re_test_123", apiUrl: "https://resend.test/", timeoutMs: 200 };
const answer = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

Deno.test("Resend: one POST /emails with the key, an idempotency key per email and both bodies", async () => {
  const f = fakeFetch(() => answer(200, { id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" }));
  const outcome = await createResendMailer({ ...settings, fetch: f.fetch }, sender).send(email);
  assertEquals(outcome, { ok: true, providerMessageId: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" });
  assertEquals(f.calls[0].url, "https://resend.test/emails");
  assertEquals(f.calls[0].init.method, "POST");
  assertEquals(f.calls[0].init.redirect, "error");
  const headers = new Headers(f.calls[0].init.headers);
  assertEquals(headers.get("authorization"), "Bearer re_test_123");
  assertEquals(headers.get("idempotency-key"), "leadloop-email/11111111-2222-4333-8444-555555555555");
  assertEquals(JSON.parse(String(f.calls[0].init.body)), {
    from: '"Leadloop, Alerts" <alerts@mail.leadloop.test>',
    to: ["owner@example.com"],
    subject: "New lead: Ana",
    text: "t",
    html: "<p>h</p>",
    headers: { "Auto-Submitted": "auto-generated" },
  });
});

Deno.test("Resend: throttling, outages, key problems and an idempotent request in flight are retried; a refused email is final", async () => {
  const cases: Array<[number, boolean]> = [[429, true], [500, true], [503, true], [401, true], [403, true], [409, true], [400, false], [422, false]];
  for (const [status, retryable] of cases) {
    const f = fakeFetch(() => answer(status, { name: "validation_error", message: `status ${status}` }));
    const outcome = await createResendMailer({ ...settings, fetch: f.fetch }, sender).send(email);
    assertEquals(outcome.ok, false, String(status));
    if (!outcome.ok) {
      assertEquals(outcome.retryable, retryable, String(status));
      assertEquals(outcome.error, `resend ${status}: validation_error: status ${status}`);
    }
  }
});

Deno.test("Resend: no answer in time, or no connection, is retried", async () => {
  const slow = await createResendMailer({ ...settings, fetch: hangingFetch }, sender).send(email);
  assertEquals(slow.ok === false && slow.retryable, true);
  const down = await createResendMailer({ ...settings, fetch: (() => Promise.reject(new TypeError("connection refused"))) as typeof fetch }, sender)
    .send(email);
  assertEquals(down.ok === false && down.retryable, true);
  if (!down.ok) assertMatch(down.error, /^resend: connection refused$/);
});

Deno.test("Resend: a huge or garbled answer is read only so far", async () => {
  const f = fakeFetch(() => new Response("x".repeat(1_000_000), { status: 502 }));
  const outcome = await createResendMailer({ ...settings, fetch: f.fetch }, sender).send(email);
  assertEquals(outcome.ok === false && outcome.error.length <= 1000, true);
  const accepted = await createResendMailer({ ...settings, fetch: fakeFetch(() => new Response("not json", { status: 200 })).fetch }, sender).send(email);
  assertEquals(accepted, { ok: true, providerMessageId: null });
});
