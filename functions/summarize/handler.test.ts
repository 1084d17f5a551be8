import { assert, assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { createSummarizeHandler } from "./handler.ts";
import { fakeFetch, fakeRpc, serviceCredentials as credentials, serviceHeaders } from "../_shared/testing/fakes.ts";
import { segmentInfo } from "../_shared/sms-segments.ts";

function due(n: number, overrides: Record<string, unknown> = {}) {
  return {
    conversation_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    locale: "en",
    now: "2026-11-26T15:00:00.123456+00:00",
    slots: { need: null, timing: null, location: null, constraints: [] },
    completion_reason: "slots_filled",
    business: { name: "Lone Star Plumbing", timezone: "America/Chicago", owner_phone: "+15125559999" },
    lead: {
      name: `Lead ${n}`,
      phone: `+1512555${String(n).padStart(4, "0")}`,
      email: null,
      message: "Water heater leaking",
      source_url: null,
      created_at: "2026-11-26T14:00:00Z",
    },
    messages: [
      {
        direction: "outbound",
        kind: "text_back",
        body: "When do you need this done, and where?",
        created_at: "2026-11-26T14:01:00Z",
      },
      { direction: "inbound", kind: "inbound", body: "tomorrow after 3, 78745", created_at: "2026-11-26T14:02:00Z" },
    ],
    ...overrides,
  };
}

const post = () => new Request("http://fn/summarize", { method: "POST", headers: serviceHeaders });

Deno.test("claims due summaries, summarizes and completes each with the owner text", async () => {
  const r = fakeRpc({
    claim_due_summaries: (_a, i) => (i === 0 ? [due(1), due(2)] : []),
    complete_conversation_summary: () => ({ queued: true }),
  });
  const res = await createSummarizeHandler({ rpc: r.rpc, credentials, llm: null })(post());
  assertEquals(res.status, 200);
  assertEquals(await res.json(), { claimed: 2, completed: 2, fallbacks: 0, failed: 0 });
  const [first] = r.callsTo("complete_conversation_summary");
  const summary = first.args.p_summary as Record<string, unknown>;
  assertEquals(summary.need, "Water heater leaking");
  assertEquals(summary.timing_start, "2026-11-27T21:00:00.000Z");
  assertEquals(summary.location, "78745");
  assertEquals(summary.source, "builtin");
  const text = (first.args.p_owner_lines as string[]).join("\n");
  assertMatch(text, /tel:\+15125550001/);
  assert(segmentInfo(text).segments <= 2);
});

Deno.test("one failing conversation does not stop the batch", async () => {
  const r = fakeRpc({
    claim_due_summaries: (_a, i) => (i === 0 ? [due(1), { conversation_id: "broken" }, due(3)] : []),
    complete_conversation_summary: (a) => {
      if (String(a.p_conversation_id).endsWith("1")) throw new Error("deadlock");
      return { queued: true };
    },
  });
  const res = await createSummarizeHandler({ rpc: r.rpc, credentials, llm: null })(post());
  assertEquals(await res.json(), { claimed: 3, completed: 1, fallbacks: 0, failed: 2 });
});

Deno.test("an LLM that is down still yields the built-in summary (counted as a fallback)", async () => {
  const r = fakeRpc({
    claim_due_summaries: (_a, i) => (i === 0 ? [due(1)] : []),
    complete_conversation_summary: () => ({ queued: true }),
  });
  const llm = { url: "http://llm.test", model: "m", apiKey: null, timeoutMs: 100 };
  const down = fakeFetch(() => new Response("unavailable", { status: 503 }));
  const res = await createSummarizeHandler({ rpc: r.rpc, credentials, llm, fetch: down.fetch })(post());
  assertEquals(await res.json(), { claimed: 1, completed: 1, fallbacks: 1, failed: 0 });
  const summary = r.callsTo("complete_conversation_summary")[0].args.p_summary as Record<string, unknown>;
  assertEquals(summary.source, "builtin");
  assertMatch(String(summary.fallback_reason), /http/);
  assertEquals(summary.location, "78745");
});

Deno.test("an LLM that answers is used", async () => {
  const r = fakeRpc({
    claim_due_summaries: (_a, i) => (i === 0 ? [due(1)] : []),
    complete_conversation_summary: () => ({ queued: true }),
  });
  const llm = { url: "http://llm.test", model: "m", apiKey: null, timeoutMs: 100 };
  const ok = fakeFetch(() =>
    new Response(
      JSON.stringify({
        choices: [{
          message: {
            content: JSON.stringify({
              need: "replace water heater",
              timing: "tomorrow after 3",
              location: "78745",
              constraints: [],
            }),
          },
        }],
      }),
    )
  );
  const res = await createSummarizeHandler({ rpc: r.rpc, credentials, llm, fetch: ok.fetch })(post());
  assertEquals((await res.json()).fallbacks, 0);
  const summary = r.callsTo("complete_conversation_summary")[0].args.p_summary as Record<string, unknown>;
  assertEquals(summary.source, "llm");
  assertEquals(summary.need, "replace water heater");
});

Deno.test("drains several batches and stops at the bound", async () => {
  const r = fakeRpc({ claim_due_summaries: (_a, i) => [due(i + 1)], complete_conversation_summary: () => ({ queued: true }) });
  const res = await createSummarizeHandler({ rpc: r.rpc, credentials, llm: null, maxBatches: 4 })(post());
  assertEquals((await res.json()).completed, 4);
});

Deno.test("the completion reason is visible in the owner text", async () => {
  const r = fakeRpc({
    claim_due_summaries: (_a, i) => (i === 0 ? [due(1, { completion_reason: "call_requested" })] : []),
    complete_conversation_summary: () => ({ queued: true }),
  });
  await createSummarizeHandler({ rpc: r.rpc, credentials, llm: null })(post());
  assertMatch((r.callsTo("complete_conversation_summary")[0].args.p_owner_lines as string[]).join("\n"), /Wants a call back/);
});

Deno.test("the owner text uses the owner's language when the database provides it", async () => {
  const spanishLead = { locale: "es", lead: { ...due(1).lead, message: "Tengo una fuga en el baño" } };
  const r = fakeRpc({
    claim_due_summaries: (_a, i) =>
      i === 0
        ? [
          due(1, spanishLead),
          due(2, { ...spanishLead, business: { ...due(2).business, default_locale: "en" } }),
        ]
        : [],
    complete_conversation_summary: () => ({ queued: true }),
  });
  await createSummarizeHandler({ rpc: r.rpc, credentials, llm: null })(post());
  const [first, second] = r.callsTo("complete_conversation_summary").map((c) => (c.args.p_owner_lines as string[]).join("\n"));
  assertMatch(first, /^Resumen de cliente/);
  assertMatch(second, /^Lead summary/);
});

Deno.test("only POST is accepted", async () => {
  const r = fakeRpc({});
  assertEquals((await createSummarizeHandler({ rpc: r.rpc, credentials, llm: null })(new Request("http://fn/summarize", { headers: serviceHeaders }))).status, 405);
});
