import { assert, assertEquals, assertMatch, assertRejects } from "./testing/assert.ts";
import { summarize, type SummaryInput } from "./summarizer.ts";
import { segmentInfo } from "./sms-segments.ts";
import { fakeFetch, hangingFetch } from "./testing/fakes.ts";

const base: SummaryInput = {
  lead: { name: "Dana Whitfield", phone: "+15125550101", message: "Kitchen sink is clogged and backing up" },
  messages: [
    { direction: "outbound", kind: "text_back", body: "Hi Dana! When do you need this done, and where (address or area)?" },
    { direction: "inbound", kind: "inbound", body: "tomorrow morning if possible. we have a dog" },
    { direction: "outbound", kind: "question", body: "Thanks! What's the address or ZIP code for the job?" },
    { direction: "inbound", kind: "inbound", body: "78745" },
  ],
  locale: "en",
  timezone: "America/Chicago",
  now: "2026-11-26T15:00:00Z",
};
const llm = { url: "http://llm.test/v1", model: "test-model", apiKey: "sk-test", timeoutMs: 200 };

function chat(content: string) {
  return new Response(JSON.stringify({ choices: [{ message: { role: "assistant", content } }] }), {
    headers: { "Content-Type": "application/json" },
  });
}

Deno.test("built-in summary: slots, timing_start in the business zone, links, two segments at most", async () => {
  const { summary, source, fallbackReason } = await summarize(base);
  assertEquals(source, "builtin");
  assertEquals(fallbackReason, null);
  assertEquals(summary.need, "Kitchen sink is clogged and backing up");
  assertEquals(summary.timing, "tomorrow morning");
  assertEquals(summary.timing_start, "2026-11-27T14:00:00.000Z"); // 8:00 CST
  assertEquals(summary.location, "78745");
  assertEquals(summary.missing, []);
  assert(summary.constraints.some((c) => /dog/.test(c)));
  assertMatch(summary.text, /tel:\+15125550101/);
  assertMatch(summary.text, /sms:\+15125550101/);
  assert(segmentInfo(summary.text).segments <= 2);
});

Deno.test("missing slots are listed and the text says so", async () => {
  const { summary } = await summarize({ ...base, lead: { name: "Al", phone: "+15125550102", message: "" }, messages: [] });
  assertEquals(summary.missing, ["need", "timing", "location"]);
  assertMatch(summary.text, /Missing: need, timing, location/);
});

Deno.test("a very long conversation is clipped to two GSM-7 segments, links intact", async () => {
  const long =
    "My basement flooded after the water heater burst and there is water everywhere in the laundry room and the storage area, "
      .repeat(4);
  const { summary } = await summarize({
    ...base,
    lead: {
      name: "Bartholomew Montgomery-Featherstonehaugh",
      phone: "+15125550103",
      message: long + " We have two dogs, a gate code 4411, landlord must approve, parking on the street only.",
    },
  });
  const info = segmentInfo(summary.text);
  assertEquals(info.encoding, "GSM-7");
  assert(info.segments <= 2, `got ${info.segments} segments`);
  assertMatch(summary.text, /Call tel:\+15125550103\nText sms:\+15125550103$/);
});

Deno.test("non-GSM characters use the UCS-2 budget (134 units) and still fit", async () => {
  const { summary } = await summarize({
    ...base,
    locale: "es",
    lead: {
      name: "Zoë 🌵 Müller",
      phone: "+15125550104",
      message: "Necesito reparar el aire acondicionado, no enfría nada y hace mucho calor en toda la casa 🥵",
    },
  });
  const info = segmentInfo(summary.text);
  assertEquals(info.encoding, "UCS-2");
  assert(info.units <= 134, `${info.units} units`);
  assertMatch(summary.text, /^Resumen de cliente/);
  assertMatch(summary.text, /sms:\+15125550104/);
});

Deno.test("Spanish relative timing resolves in the business zone", async () => {
  const { summary } = await summarize({
    ...base,
    locale: "es",
    timezone: "America/Denver",
    lead: {
      name: "Luis",
      phone: "+15125550105",
      message: "Hola, el calentador gotea. Mañana por la tarde. Estoy en Aurora, 80012",
    },
    messages: [],
  });
  assertEquals(summary.timing_start, "2026-11-27T19:00:00.000Z"); // 12:00 MST
  assertEquals(summary.location, "Aurora 80012");
});

Deno.test("LLM result is used when valid: request shape, zod-checked content, timing_start resolved from words", async () => {
  const f = fakeFetch(() =>
    chat(
      JSON.stringify({
        need: "unclog kitchen sink",
        timing: "next Tuesday after 3",
        location: "Austin 78745",
        constraints: ["dog"],
      }),
    )
  );
  const { summary, source } = await summarize(base, { llm, fetch: f.fetch });
  assertEquals(source, "llm");
  assertEquals(summary.need, "unclog kitchen sink");
  assertEquals(summary.timing_start, "2026-12-01T21:00:00.000Z");
  assertEquals(f.calls.length, 1);
  assertEquals(f.calls[0].url, "http://llm.test/v1/chat/completions");
  const headers = new Headers(f.calls[0].init.headers);
  assertEquals(headers.get("authorization"), "Bearer sk-test");
  const body = JSON.parse(String(f.calls[0].init.body));
  assertEquals(body.model, "test-model");
  assertEquals(body.response_format, { type: "json_object" });
});

for (
  const [name, fetchFn, reason] of [
    ["garbage content", fakeFetch(() => chat("I think the lead wants a plumber.")).fetch, /invalid_json/],
    ["wrong JSON shape", fakeFetch(() => chat(JSON.stringify({ need: 42 }))).fetch, /invalid_json/],
    ["not a chat completion", fakeFetch(() => new Response("{}", { status: 200 })).fetch, /invalid_response/],
    ["HTTP 503", fakeFetch(() => new Response("down", { status: 503 })).fetch, /http/],
    ["connection refused", (() => Promise.reject(new TypeError("connection refused"))) as typeof fetch, /network/],
    ["timeout", hangingFetch, /timeout/],
  ] as const
) {
  Deno.test(`LLM failure (${name}) falls back to the built-in summary`, async () => {
    const started = Date.now();
    const { summary, source, fallbackReason } = await summarize(base, { llm, fetch: fetchFn });
    assertEquals(source, "builtin");
    assertMatch(fallbackReason ?? "", reason);
    assertEquals(summary.location, "78745");
    assert(Date.now() - started < 2000, "the timeout bounds the wait");
  });
}

Deno.test("malformed input is rejected with a message naming the field", async () => {
  await assertRejects(() => summarize({ ...base, timezone: "Mars/Olympus" }), /timezone must be an IANA zone/);
  await assertRejects(() => summarize({ ...base, lead: { name: "x" } as never }), /phone/);
});

Deno.test("a lead who never replied: the summary says so and comes from the form", async () => {
  const lead = { name: "Maria Lopez", phone: "+15125550123", message: "Water heater leaking in the garage" };
  const silent = await summarize({ ...base, lead, messages: [{ direction: "outbound", kind: "text_back", body: "Hi Maria, what do you need?" }] });
  assertEquals(silent.summary.lines.slice(0, 2), ["Lead summary: Maria Lopez", "No reply yet - from the form:"]);
  assert(silent.summary.text.includes("Water heater"), silent.summary.text);
  const replied = await summarize({ ...base, lead, messages: [{ direction: "inbound", kind: "inbound", body: "Tomorrow at 9" }] });
  assert(!replied.summary.text.includes("No reply yet"), replied.summary.text);
});
