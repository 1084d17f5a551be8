import { test } from "node:test";
import assert from "node:assert/strict";
import { changedSettings, settingsFormFrom, validateSettings } from "./validation.ts";
import type { Business } from "../lib/types.ts";

const business: Business = {
  id: "b1", name: "Bright Plumbing", owner_phone: "+14155550100", timezone: "America/Los_Angeles",
  twilio_number: "+14155550199", followup_enabled: true, nudge_delay_minutes: 60, idle_timeout_minutes: 1440,
  max_questions: 3, quiet_hours_start: "08:00:00", quiet_hours_end: "20:00:00", sending_problem: null,
  owner_phone_verified_at: "2026-11-01T00:00:00Z", daily_sms_cap: 200, default_locale: "en",
  opt_out_confirmation_by: "leadloop", allowed_nanp_regions: ["US", "CA"],
};

test("settingsFormFrom shows Postgres times as HH:MM", () => {
  const form = settingsFormFrom(business);
  assert.equal(form.quiet_hours_start, "08:00");
  assert.equal(form.quiet_hours_end, "20:00");
  assert.equal(form.max_questions, "3");
});

test("validateSettings accepts the current values and converts numbers", () => {
  const result = validateSettings(settingsFormFrom(business));
  assert.deepEqual(result, {
    ok: true,
    value: { followup_enabled: true, quiet_hours_start: "08:00", quiet_hours_end: "20:00", nudge_delay_minutes: 60, idle_timeout_minutes: 1440, max_questions: 3, daily_sms_cap: 200 },
  });
});

test("validateSettings mirrors the database limits", () => {
  const result = validateSettings({
    ...settingsFormFrom(business),
    nudge_delay_minutes: "2", idle_timeout_minutes: "99999", max_questions: "2.5",
  });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.match(result.errors.nudge_delay_minutes!, /at least 5/);
  assert.match(result.errors.idle_timeout_minutes!, /at most 20160/);
  assert.match(result.errors.max_questions!, /whole number/);
});

test("quiet hours must end after they start", () => {
  const result = validateSettings({ ...settingsFormFrom(business), quiet_hours_start: "21:00", quiet_hours_end: "09:00" });
  assert.equal(result.ok, false);
  if (!result.ok) assert.match(result.errors.quiet_hours_end!, /end after/);
  const badTime = validateSettings({ ...settingsFormFrom(business), quiet_hours_start: "25:00" });
  assert.equal(badTime.ok, false);
});

test("changedSettings sends only what changed", () => {
  const unchanged = validateSettings(settingsFormFrom(business));
  assert.ok(unchanged.ok);
  if (!unchanged.ok) return;
  assert.deepEqual(changedSettings(business, unchanged.value), {});
  assert.deepEqual(changedSettings(business, { ...unchanged.value, max_questions: 5, quiet_hours_end: "19:30" }), {
    max_questions: 5, quiet_hours_end: "19:30",
  });
});

test("the daily text cap is 1 to the platform's maximum", () => {
  const high = validateSettings({ ...settingsFormFrom(business), daily_sms_cap: "10001" });
  assert.equal(high.ok, false);
  if (!high.ok) assert.match(high.errors.daily_sms_cap!, /at most 10000/);
  const zero = validateSettings({ ...settingsFormFrom(business), daily_sms_cap: "0" });
  assert.equal(zero.ok, false);
  const lowered = validateSettings({ ...settingsFormFrom(business), daily_sms_cap: "50" });
  assert.ok(lowered.ok);
  if (lowered.ok) assert.deepEqual(changedSettings(business, lowered.value), { daily_sms_cap: 50 });
});


test("toE164 reads US-style and international numbers", async () => {
  const { toE164 } = await import("./business.ts");
  assert.equal(toE164("(415) 555-0123"), "+14155550123");
  assert.equal(toE164("1 415 555 0123"), "+14155550123");
  assert.equal(toE164("+44 20 7946 0958"), "+442079460958");
  assert.equal(toE164("555-0123"), null);
  assert.equal(toE164("+0123"), null);
});

test("changedBusiness sends only what changed, countries in any order", async () => {
  const { businessFormFrom, changedBusiness, validateBusiness } = await import("./business.ts");
  const form = { ...businessFormFrom(business), allowed_nanp_regions: ["CA", "US"], owner_phone: "(415) 555-0100" };
  const result = validateBusiness(form);
  assert.ok(result.ok);
  assert.deepEqual(changedBusiness(business, result.value), {});
  const moved = validateBusiness({ ...form, owner_phone: "(415) 555-0111", allowed_nanp_regions: ["US", "PR", "CA"] });
  assert.ok(moved.ok);
  assert.deepEqual(changedBusiness(business, moved.value), { owner_phone: "+14155550111", allowed_nanp_regions: ["CA", "PR", "US"] });
  const empty = validateBusiness({ ...form, name: " ", allowed_nanp_regions: [] });
  assert.ok(!empty.ok);
  assert.deepEqual(Object.keys(empty.errors).sort(), ["allowed_nanp_regions", "name"]);
});
