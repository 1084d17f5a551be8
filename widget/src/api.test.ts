import { test } from "node:test";
import assert from "node:assert/strict";
import {
  classifySubmitResult,
  createRestClient,
  INSERT_COLUMNS,
  insertLead,
  loadWidgetConfig,
  normalizeFields,
  parseWidgetConfig,
  type LeadRow,
} from "./api.ts";
import { MESSAGES } from "./i18n.ts";

test("parseWidgetConfig maps the RPC result and falls back to the default fields", () => {
  const config = parseWidgetConfig({
    widget_id: "7d1f0f5e-8a43-4b8e-9a55-0c1f3f1c2b11",
    business_name: "Bright Plumbing",
    consent_text: "I agree to receive texts from Bright Plumbing. Msg & data rates may apply. Reply STOP to opt out.",
    fields: null,
    default_country: "us",
  });
  assert.equal(config?.businessName, "Bright Plumbing");
  assert.equal(config?.defaultCountry, "US");
  assert.deepEqual(config?.fields.map((f) => f.key), ["name", "phone", "email", "message"]);
  assert.ok(config?.fields.every((f) => f.label === null), "default fields take the widget's own labels");
});

test("parseWidgetConfig picks the consent text and the owner's labels in the visitor's language", () => {
  const row = {
    widget_id: "w", business_name: "Bright Plumbing", default_country: "US",
    consent_text: "I agree to receive texts from Bright Plumbing. Msg & data rates may apply. Reply STOP to opt out.",
    consent_texts: {
      en: "English consent from Bright Plumbing. Msg & data rates may apply. Reply STOP to opt out.",
      es: "Acepto recibir mensajes de Bright Plumbing. Pueden aplicarse tarifas de mensajes y datos. Responda STOP para cancelar.",
    },
    fields: { name: { label: { en: "Your name", es: "Su nombre" } }, phone: { label: "Cell" }, message: {} },
  };
  const es = parseWidgetConfig(row, "es");
  assert.match(es!.consentText, /^Acepto recibir/);
  assert.deepEqual(es!.fields.map((f) => f.label), ["Su nombre", "Cell", null]);
  assert.match(parseWidgetConfig(row, "en")!.consentText, /^English consent/);
  // Older configs (or a language the owner has not written) fall back to consent_text.
  const { consent_texts: _, ...legacy } = row;
  assert.match(parseWidgetConfig(legacy, "es")!.consentText, /^I agree/);
  assert.match(parseWidgetConfig({ ...row, consent_texts: { en: "x".repeat(60) } }, "es")!.consentText, /^I agree/);
  assert.throws(() => parseWidgetConfig({ ...legacy, consent_text: " " }, "es"), /consent_text/);
});

test("parseWidgetConfig returns null for an inactive widget and throws on a broken one", () => {
  assert.equal(parseWidgetConfig(null), null);
  assert.throws(() => parseWidgetConfig({ business_name: "X" }), /consent_text/);
  assert.throws(() => parseWidgetConfig([]), /not an object/);
});

test("normalizeFields accepts names, objects and maps, always asks name and phone, drops unknown keys", () => {
  assert.deepEqual(normalizeFields(["email", "name", "fax"]).map((f) => f.key), ["name", "phone", "email"]);
  const fromObjects = normalizeFields([{ name: "message", required: true, label: "What's up?" }, { key: "phone" }]);
  assert.deepEqual(fromObjects, [
    { key: "name", label: null, required: true },
    { key: "phone", label: null, required: true },
    { key: "message", label: "What's up?", required: true },
  ]);
  const fromMap = normalizeFields({ name: { required: false }, email: false, phone: { label: "Cell", required: false } });
  assert.deepEqual(fromMap, [
    { key: "name", label: null, required: true },
    { key: "phone", label: "Cell", required: true },
  ]);
});

test("normalizeFields reads the widgets.fields column default", () => {
  const fields = normalizeFields({ name: { required: true }, phone: { required: true }, email: { required: false }, message: { required: false } });
  assert.deepEqual(fields.map((f) => [f.key, f.required]), [["name", true], ["phone", true], ["email", false], ["message", false]]);
});

test("classifySubmitResult: 201 is saved, 429 shows the database's words", () => {
  assert.deepEqual(classifySubmitResult(201, null), { kind: "saved" });
  const limited = classifySubmitResult(429, { code: "PT429", message: "Too many requests from this device. Try again in a few minutes." });
  assert.deepEqual(limited, { kind: "rate_limited", message: "Too many requests from this device. Try again in a few minutes." });
});

test("classifySubmitResult in Spanish: the database's English words give way to the form's own", () => {
  const es = MESSAGES.es;
  assert.deepEqual(classifySubmitResult(429, { code: "PT429", message: "Too many requests from this device." }, es),
    { kind: "rate_limited", message: es.rateLimited });
  assert.deepEqual(classifySubmitResult(400, { code: "P0001", message: "phone: enter a phone number with country code.", details: "field: phone" }, es),
    { kind: "rejected", message: "Revise su número de teléfono.", fieldErrors: { phone: "Revise su número de teléfono." } });
  assert.deepEqual(classifySubmitResult(400, { code: "P0001", message: "Submissions from https://x.test are not allowed for this form.", details: "field: origin" }, es),
    { kind: "rejected", message: es.rejected, fieldErrors: {} });
  assert.equal(classifySubmitResult(0, { message: "TypeError: Failed to fetch" }, es).kind, "network");
});

test("classifySubmitResult: network failures and 5xx are retryable", () => {
  assert.equal(classifySubmitResult(0, { message: "TypeError: fetch failed", code: "" }).kind, "network");
  assert.equal(classifySubmitResult(503, { message: "upstream down" }).kind, "network");
});

test("classifySubmitResult pins a refusal to the field it names and hides constraint names", () => {
  const p0001 = classifySubmitResult(400, { code: "P0001", message: "phone must be a valid mobile number in E.164 format" });
  assert.equal(p0001.kind, "rejected");
  if (p0001.kind === "rejected") assert.equal(p0001.fieldErrors.phone, "phone must be a valid mobile number in E.164 format");
  const check = classifySubmitResult(400, {
    code: "23514",
    message: 'new row for relation "leads" violates check constraint "leads_email_check"',
  });
  assert.equal(check.kind, "rejected");
  if (check.kind === "rejected") {
    assert.deepEqual(check.fieldErrors, { email: "Please check your email address." });
    assert.doesNotMatch(check.message, /constraint/);
  }
});

test("classifySubmitResult reads the intake trigger's field detail and drops the field prefix", () => {
  const phone = classifySubmitResult(400, {
    code: "P0001", message: "phone: enter a phone number with country code, like +15551234567.", details: "field: phone",
  });
  assert.deepEqual(phone, {
    kind: "rejected",
    message: "Enter a phone number with country code, like +15551234567.",
    fieldErrors: { phone: "Enter a phone number with country code, like +15551234567." },
  });
  const origin = classifySubmitResult(400, {
    code: "P0001", message: "Submissions from https://evil.example are not allowed for this form.", details: "field: origin",
  });
  assert.deepEqual(origin, {
    kind: "rejected", message: "Submissions from https://evil.example are not allowed for this form.", fieldErrors: {},
  });
  // A message mentioning another field's word must not move the error there.
  const msg = classifySubmitResult(400, { code: "P0001", message: "message: keep the message under 2000 characters.", details: "field: message" });
  assert.equal(msg.kind === "rejected" && Object.keys(msg.fieldErrors).join(), "message");
});

function fakeFetch(respond: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const impl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init: init ?? {} });
    return respond(url, init ?? {});
  }) as typeof fetch;
  return { impl, calls };
}

const row: LeadRow = {
  widget_id: "w-1", name: "Dana", phone: "+14155552671", email: null, message: "Leak", sms_consent: true, honeypot: null,
  source_url: "https://brightplumbing.test/contact", locale: "es", reported_timezone: "America/Chicago",
};

test("insertLead posts exactly the granted columns and never asks for the row back", async () => {
  const { impl, calls } = fakeFetch(() => new Response(null, { status: 201 }));
  const client = createRestClient("http://api.test/", "anon-key", impl);
  const outcome = await insertLead(client, row);
  assert.deepEqual(outcome, { kind: "saved" });
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, "http://api.test/rest/v1/leads");
  assert.equal(calls[0].init.method, "POST");
  const headers = new Headers(calls[0].init.headers);
  assert.equal(headers.get("apikey"), "anon-key");
  assert.equal(headers.get("authorization"), "Bearer anon-key");
  assert.equal(headers.get("content-type"), "application/json");
  assert.equal(headers.get("prefer"), null, "PostgREST's default is return=minimal");
  const body = JSON.parse(String(calls[0].init.body));
  // The form's language (its consent text is the one kept) and the browser's zone (quiet hours) go too.
  assert.deepEqual(Object.keys(body).sort(), [
    "email", "honeypot", "locale", "message", "name", "phone", "reported_timezone", "sms_consent", "source_url", "widget_id",
  ]);
  assert.deepEqual(body, Object.fromEntries(INSERT_COLUMNS.map((c) => [c, row[c]])));
});

test("insertLead reports a dropped connection as a network outcome and sends only once", async () => {
  const { impl, calls } = fakeFetch(() => { throw new TypeError("fetch failed"); });
  const client = createRestClient("http://api.test", "anon-key", impl);
  const outcome = await insertLead(client, { ...row, sms_consent: false });
  assert.equal(outcome.kind, "network");
  assert.equal(calls.length, 1, "a POST must not be retried automatically");
});

test("insertLead reports a timeout (aborted request) as a network outcome", async () => {
  const { impl } = fakeFetch((_url, init) => new Promise((_resolve, reject) => {
    init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
  }));
  const controller = new AbortController();
  const pending = insertLead(createRestClient("http://api.test", "k", impl), row, MESSAGES.es, controller.signal);
  controller.abort();
  assert.deepEqual(await pending, { kind: "network", message: MESSAGES.es.network });
});

test("insertLead reads PostgREST's error body, and a proxy's HTML page as a server error", async () => {
  const refused = fakeFetch(() => Response.json(
    { code: "P0001", message: "email: enter a valid email address or leave it empty.", details: "field: email", hint: null },
    { status: 400 },
  ));
  assert.deepEqual(await insertLead(createRestClient("http://api.test", "k", refused.impl), row), {
    kind: "rejected",
    message: "Enter a valid email address or leave it empty.",
    fieldErrors: { email: "Enter a valid email address or leave it empty." },
  });
  const html = fakeFetch(() => new Response("<html>Bad gateway</html>", { status: 502 }));
  assert.equal((await insertLead(createRestClient("http://api.test", "k", html.impl), row)).kind, "network");
});

test("loadWidgetConfig distinguishes an unknown widget from an unreachable server", async () => {
  const nullBody = fakeFetch(() => new Response("null", { status: 200, headers: { "content-type": "application/json" } }));
  assert.deepEqual(await loadWidgetConfig(createRestClient("http://api.test", "k", nullBody.impl), "w"), { kind: "inactive" });
  assert.equal(nullBody.calls[0].url, "http://api.test/rest/v1/rpc/get_widget_config");
  assert.deepEqual(JSON.parse(String(nullBody.calls[0].init.body)), { p_widget_id: "w" });
  const badId = fakeFetch(() => Response.json({ code: "22P02", message: "invalid input syntax for type uuid" }, { status: 400 }));
  assert.deepEqual(await loadWidgetConfig(createRestClient("http://api.test", "k", badId.impl), "nope"), { kind: "inactive" });
  const down = fakeFetch(() => new Response("bad gateway", { status: 502 }));
  const result = await loadWidgetConfig(createRestClient("http://api.test", "k", down.impl), "w");
  assert.equal(result.kind, "unreachable");
  const garbled = fakeFetch(() => new Response("<html>", { status: 200 }));
  assert.equal((await loadWidgetConfig(createRestClient("http://api.test", "k", garbled.impl), "w")).kind, "unreachable");
});
