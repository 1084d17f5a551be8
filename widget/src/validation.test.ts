import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizePhone, validateLeadForm, type FieldSpec, type LeadFormInput } from "./validation.ts";
import { DEFAULT_FIELDS } from "./api.ts";

const blank: LeadFormInput = { name: "", phone: "", email: "", message: "", smsConsent: false, honeypot: "" };

test("normalizePhone reads national numbers in the widget's default country", () => {
  assert.deepEqual(normalizePhone("(415) 555-2671", "US"), { ok: true, e164: "+14155552671" });
  assert.deepEqual(normalizePhone("415.555.2671", "US"), { ok: true, e164: "+14155552671" });
  assert.deepEqual(normalizePhone("020 7946 0958", "GB"), { ok: true, e164: "+442079460958" });
  assert.deepEqual(normalizePhone("06 12 34 56 78", "FR"), { ok: true, e164: "+33612345678" });
});

test("normalizePhone keeps an explicit country code over the default country", () => {
  assert.deepEqual(normalizePhone("+44 20 7946 0958", "US"), { ok: true, e164: "+442079460958" });
});

test("normalizePhone refuses letters, short numbers and numbers that cannot exist", () => {
  const bad = ["call me", "555-CALL-NOW", "12345", "(415) 555-267", "+1 011 555 2671", ""];
  for (const raw of bad) {
    const result = normalizePhone(raw, "US");
    assert.equal(result.ok, false, raw);
    if (!result.ok) assert.match(result.error, /\w/);
  }
});

test("normalizePhone without a default country asks for the country code", () => {
  const result = normalizePhone("415 555 2671", null);
  assert.equal(result.ok, false);
  if (!result.ok) assert.match(result.error, /country code/);
  assert.deepEqual(normalizePhone("+1 415 555 2671", null), { ok: true, e164: "+14155552671" });
});

test("validateLeadForm builds the insert payload with an E.164 phone and trimmed fields", () => {
  const result = validateLeadForm(
    { ...blank, name: "  Dana Ruiz ", phone: "415 555 2671", email: " dana@example.com ", message: " Leaky tap " },
    DEFAULT_FIELDS,
    "US",
  );
  assert.deepEqual(result, {
    ok: true,
    value: {
      name: "Dana Ruiz",
      phone: "+14155552671",
      email: "dana@example.com",
      message: "Leaky tap",
      sms_consent: false,
      honeypot: null,
    },
  });
});

test("validateLeadForm never requires SMS consent and passes it through as given", () => {
  const base = { ...blank, name: "Dana", phone: "+14155552671" };
  const without = validateLeadForm(base, DEFAULT_FIELDS, "US");
  const withConsent = validateLeadForm({ ...base, smsConsent: true }, DEFAULT_FIELDS, "US");
  assert.equal(without.ok && without.value.sms_consent, false);
  assert.equal(withConsent.ok && withConsent.value.sms_consent, true);
});

test("validateLeadForm reports one message per bad field", () => {
  const result = validateLeadForm({ ...blank, phone: "12", email: "not-an-email" }, DEFAULT_FIELDS, "US");
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(Object.keys(result.errors).sort(), ["email", "name", "phone"]);
  assert.match(result.errors.email!, /name@example.com/);
});

test("validateLeadForm enforces length limits", () => {
  const result = validateLeadForm(
    { ...blank, name: "x".repeat(101), phone: "+14155552671", message: "y".repeat(2001) },
    DEFAULT_FIELDS,
    "US",
  );
  assert.equal(result.ok, false);
  if (!result.ok) assert.deepEqual(Object.keys(result.errors).sort(), ["message", "name"]);
});

test("validateLeadForm follows the configured required flags and hidden fields", () => {
  const fields: FieldSpec[] = [
    { key: "phone", label: "Phone", required: false },
    { key: "email", label: "Email", required: true },
  ];
  const missingEmail = validateLeadForm({ ...blank, name: "ignored" }, fields, "US");
  assert.equal(missingEmail.ok, false);
  if (!missingEmail.ok) assert.deepEqual(Object.keys(missingEmail.errors), ["email"]);
  const ok = validateLeadForm({ ...blank, name: "hidden field", email: "a@b.co" }, fields, "US");
  assert.deepEqual(ok.ok && ok.value, {
    name: null, phone: null, email: "a@b.co", message: null, sms_consent: false, honeypot: null,
  });
});

test("validateLeadForm forwards a filled honeypot so the database can drop the bot", () => {
  const result = validateLeadForm(
    { ...blank, name: "Bot", phone: "+14155552671", honeypot: "http://spam.example" },
    DEFAULT_FIELDS,
    "US",
  );
  assert.equal(result.ok && result.value.honeypot, "http://spam.example");
});
