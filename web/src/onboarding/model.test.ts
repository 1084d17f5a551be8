import { test } from "node:test";
import assert from "node:assert/strict";
import { businessErrorField, currentStep, toE164, validateBusinessForm } from "./model.ts";

test("the wizard resumes at the first step not done", () => {
  assert.equal(currentStep(null), "business");
  assert.equal(currentStep({ twilio_number: null, owner_phone_verified_at: null, widgets: 0 }), "number");
  assert.equal(currentStep({ twilio_number: "+14155550100", owner_phone_verified_at: null, widgets: 1 }), "code");
  assert.equal(currentStep({ twilio_number: "+14155550100", owner_phone_verified_at: "2026-12-03T00:00:00Z", widgets: 0 }), "widget");
  assert.equal(currentStep({ twilio_number: "+14155550100", owner_phone_verified_at: "2026-12-03T00:00:00Z", widgets: 2 }), "snippet");
});

test("the owner phone as typed becomes E.164", () => {
  assert.equal(toE164("(415) 555-2671"), "+14155552671");
  assert.equal(toE164("1 415 555 2671"), "+14155552671");
  assert.equal(toE164("+44 7700 900123"), "+447700900123");
  for (const bad of ["", "555-2671", "call me", "+0123456789", "415 555 26711"]) assert.equal(toE164(bad), null, bad);
});

test("the business form names each problem beside its field", () => {
  const zones = ["America/Chicago"];
  const bad = validateBusinessForm({ name: " ", phone: "12", timezone: "Mars/Base", locale: "en" }, zones);
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(Object.keys(bad.errors).sort(), ["name", "phone", "timezone"]);
  const good = validateBusinessForm({ name: " Acme  Roofing ", phone: "(415) 555-2671", timezone: "America/Chicago", locale: "es" }, zones);
  assert.deepEqual(good, { ok: true, value: { p_name: "Acme Roofing", p_owner_phone: "+14155552671", p_timezone: "America/Chicago", p_locale: "es" } });
});

test("a database refusal goes beside its field", () => {
  assert.equal(businessErrorField("creating the business: owner_phone: leadloop cannot text +19005550123 (premium rate)"), "phone");
  assert.equal(businessErrorField("timezone: \"X\" is not a time zone"), "timezone");
  assert.equal(businessErrorField("you already own 10 businesses"), null);
});
