// What the billing page tells the owner, for each state the database can hold.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Subscription } from "../lib/types.ts";
import { billingView, formatPrice, mayCheckOut } from "./model.ts";

const NOW = new Date("2026-12-10T12:00:00Z");
const growth = {
  id: "growth", name: "Growth", description: "", conversations_per_period: 500, price_cents: 7900, currency: "usd",
  billing_interval: "month" as const, trial_days: null, stripe_lookup_key: "leadloop_growth_monthly", sort_order: 2,
};

function sub(overrides: Partial<Subscription> = {}): Subscription {
  return {
    status: "active", plan_id: "growth", current_period_start: "2026-12-01T00:00:00Z", current_period_end: "2027-01-01T00:00:00Z",
    conversation_quota: 500, conversations_used: 120, past_due_since: null, grace_ends_at: null, cancel_at_period_end: false,
    cancel_at: null, stripe_subscription_id: "sub_1", plan: growth, ...overrides,
  };
}

test("an active Stripe plan: renews, usage, texting, no notice", () => {
  const view = billingView(sub(), NOW);
  assert.deepEqual([view.planName, view.chip.label, view.used, view.quota, view.texting, view.notice], ["Growth", "Active", 120, 500, true, null]);
  assert.match(view.period, /^Renews on January 1, 2027$/);
  assert.equal(billingView(sub({ cancel_at_period_end: true }), NOW).period, "Ends on January 1, 2027; it will not renew");
});

test("past_due: texting until the grace ends, with when; then stopped, owner alerts named", () => {
  const during = billingView(sub({ status: "past_due", past_due_since: "2026-12-09T12:00:00Z", grace_ends_at: "2026-12-12T12:00:00Z" }), NOW);
  assert.equal(during.texting, true);
  assert.equal(during.notice?.tone, "warning");
  assert.match(during.notice!.text, /still texted until December 12/);
  assert.match(during.notice!.text, /Manage billing/);
  assert.equal(during.period, "The current period ends January 1, 2027");
  const after = billingView(sub({ status: "past_due", past_due_since: "2026-12-06T12:00:00Z", grace_ends_at: "2026-12-09T12:00:00Z" }), NOW);
  assert.equal(after.texting, false);
  assert.equal(after.notice?.tone, "error");
  assert.match(after.notice!.text, /Payment overdue. You still get an alert for every lead, but leads are not texted back/);
});

test("a trial runs to its end, then stops; a Stripe period gets a day for its renewal to arrive", () => {
  const trial = sub({ status: "trialing", plan_id: "trial", stripe_subscription_id: null, conversation_quota: 50, conversations_used: 3, current_period_end: "2026-12-15T00:00:00Z", plan: null });
  assert.match(billingView(trial, NOW).period, /^Trial ends December 1[45], 2026$/);
  const ended = billingView({ ...trial, current_period_end: "2026-12-09T00:00:00Z" }, NOW);
  assert.deepEqual([ended.texting, ended.notice?.tone], [false, "error"]);
  assert.match(ended.notice!.text, /trial has ended/);
  assert.equal(billingView(sub({ current_period_end: "2026-12-10T00:00:00Z" }), NOW).texting, true, "Stripe renewal on its way");
});

test("quota used up, ended and unstarted subscriptions, no subscription: not texting, and why", () => {
  const full = billingView(sub({ conversations_used: 500 }), NOW);
  assert.deepEqual([full.texting, full.notice?.tone], [false, "warning"]);
  assert.match(full.notice!.text, /All 500 conversations/);
  for (const status of ["canceled", "unpaid", "paused", "incomplete_expired"] as const) {
    assert.equal(billingView(sub({ status }), NOW).texting, false, status);
  }
  assert.match(billingView(sub({ status: "incomplete" }), NOW).notice!.text, /first payment did not go through/);
  assert.deepEqual([billingView(null, NOW).texting, billingView(null, NOW).planName], [false, "No plan"]);
});

test("checkout is offered unless a Stripe subscription is still running; prices read as people write them", () => {
  assert.equal(mayCheckOut(null), true);
  assert.equal(mayCheckOut(sub({ stripe_subscription_id: null })), true, "a trial or hand-made plan");
  assert.equal(mayCheckOut(sub()), false);
  assert.equal(mayCheckOut(sub({ status: "past_due" })), false);
  assert.equal(mayCheckOut(sub({ status: "canceled" })), true);
  assert.equal(mayCheckOut(sub({ status: "incomplete" })), true);
  assert.equal(formatPrice(growth), "$79 / month");
  assert.equal(formatPrice({ price_cents: 1999, currency: "eur", billing_interval: "year" }), "€19.99 / year");
  assert.equal(formatPrice({ price_cents: 0, currency: "usd", billing_interval: null }), "Free");
});
