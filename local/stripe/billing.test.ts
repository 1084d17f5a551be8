// The subscription lifecycle through the clock: renewals that succeed, renewals that fail into
// past_due and the dunning schedule's end, recovery with a new card, trials, cancel at period end,
// plan switches, incomplete subscriptions expiring, checkout sessions expiring.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type Stripe from "stripe";
import { createPlans, startTestEmulator, type TestEmulator } from "./test-support.ts";

const day = 86_400;
let emu: TestEmulator;
let plans: Awaited<ReturnType<typeof createPlans>>;

before(async () => {
  emu = await startTestEmulator();
});
after(async () => {
  await emu?.close();
});
beforeEach(async () => {
  // Each test starts from a clean account (clock back at real time, default settings).
  await emu.control.reset();
  await emu.control.settings({ invoiceFinalizeDelaySeconds: 3600, dunning: { retryDays: [3, 5, 7], afterFinalAttempt: "cancel" } });
  plans = await createPlans(emu.stripe);
});

async function subscribe(card: string, extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
  const session = await emu.stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: plans.starter.id, quantity: 1 }],
    customer_email: "owner@example.test",
    success_url: "https://app.test/ok?session={CHECKOUT_SESSION_ID}",
    subscription_data: { metadata: { business_id: "b-7" } },
    ...extra,
  });
  const { session: done } = await emu.control.payCheckout(session.id, { card });
  const sub = await emu.stripe.subscriptions.retrieve(done.subscription as string);
  return { session: done, sub };
}

function typesOf(advance: { events: { type: string }[] }) {
  return advance.events.map((e) => e.type);
}

describe("renewals", () => {
  test("a period ends: the subscription rolls over, the invoice waits an hour in draft, then is paid", async () => {
    const { session, sub } = await subscribe("4242 4242 4242 4242");
    assert.equal(session.payment_status, "paid");
    assert.equal(sub.status, "active");
    assert.deepEqual(sub.metadata, { business_id: "b-7" });
    const item = sub.items.data[0];
    const first = await emu.stripe.invoices.retrieve(sub.latest_invoice as string);
    assert.equal(first.status, "paid");
    assert.equal(first.billing_reason, "subscription_create");
    assert.equal(first.amount_paid, 2900);
    assert.deepEqual(first.parent?.subscription_details, { metadata: { business_id: "b-7" }, subscription: sub.id });

    const rolled = await emu.control.advance({ to: item.current_period_end });
    assert.deepEqual(typesOf(rolled), ["customer.subscription.updated", "invoice.created"]);
    const renewed = await emu.stripe.subscriptions.retrieve(sub.id);
    assert.equal(renewed.items.data[0].current_period_start, item.current_period_end);
    assert.ok(renewed.items.data[0].current_period_end > item.current_period_end + 27 * day);
    const draft = await emu.stripe.invoices.retrieve(renewed.latest_invoice as string);
    assert.equal(draft.status, "draft");
    assert.equal(draft.automatically_finalizes_at, item.current_period_end + 3600);
    assert.equal(draft.lines.data[0].period.start, item.current_period_end);

    const charged = await emu.control.advance({ seconds: 3600 });
    assert.deepEqual(typesOf(charged), ["invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]);
    const paid = await emu.stripe.invoices.retrieve(draft.id, { expand: ["payments"] });
    assert.equal(paid.status, "paid");
    assert.equal(paid.billing_reason, "subscription_cycle");
    assert.equal(paid.amount_paid, 2900);
    assert.equal(paid.payments!.data[0].status, "paid");
    assert.deepEqual((await emu.stripe.invoices.list({ subscription: sub.id })).data.map((i) => i.id), [draft.id, first.id]);
  });

  test("a failed renewal makes the subscription past_due, retries on the dunning schedule, then cancels", async () => {
    const { sub } = await subscribe("4242424242424242");
    await emu.control.setCustomerCard(sub.customer as string, "4000000000000341");
    const end = sub.items.data[0].current_period_end;

    const failed = await emu.control.advance({ to: end + 3600 });
    assert.deepEqual(typesOf(failed), ["customer.subscription.updated", "invoice.created", "invoice.finalized", "invoice.payment_failed", "customer.subscription.updated"]);
    let current = await emu.stripe.subscriptions.retrieve(sub.id);
    assert.equal(current.status, "past_due");
    let invoice = await emu.stripe.invoices.retrieve(current.latest_invoice as string);
    assert.equal(invoice.status, "open");
    assert.equal(invoice.attempt_count, 1);
    assert.equal(invoice.next_payment_attempt, end + 3600 + 3 * day);

    const second = await emu.control.advance({ days: 3 });
    assert.deepEqual(typesOf(second), ["invoice.payment_failed"]);
    invoice = await emu.stripe.invoices.retrieve(invoice.id);
    assert.equal(invoice.attempt_count, 2);
    assert.equal(invoice.next_payment_attempt, end + 3600 + 8 * day);

    const rest = await emu.control.advance({ days: 12 });
    assert.deepEqual(typesOf(rest), ["invoice.payment_failed", "invoice.payment_failed", "customer.subscription.deleted"]);
    current = await emu.stripe.subscriptions.retrieve(sub.id);
    assert.equal(current.status, "canceled");
    assert.equal(current.cancellation_details?.reason, "payment_failed");
    invoice = await emu.stripe.invoices.retrieve(invoice.id);
    assert.equal(invoice.attempt_count, 4);
    assert.equal(invoice.next_payment_attempt, null);
    assert.equal(invoice.status, "open");
    assert.deepEqual((await emu.stripe.subscriptions.list({ customer: sub.customer as string })).data, [], "ended subscriptions are not listed by default");
    assert.equal((await emu.stripe.subscriptions.list({ customer: sub.customer as string, status: "all" })).data.length, 1);
  });

  test("with dunning set to 'unpaid', the last failure leaves the subscription unpaid; a new card recovers it", async () => {
    await emu.control.settings({ dunning: { retryDays: [1], afterFinalAttempt: "unpaid" }, invoiceFinalizeDelaySeconds: 0 });
    const { sub } = await subscribe("4242424242424242");
    await emu.control.setCustomerCard(sub.customer as string, "4000 0000 0000 0341");
    await emu.control.advance({ to: sub.items.data[0].current_period_end + 1 * day });
    assert.equal((await emu.stripe.subscriptions.retrieve(sub.id)).status, "unpaid");

    const { charged } = await emu.control.setCustomerCard(sub.customer as string, "5555555555554444", { chargeOpenInvoices: true });
    assert.deepEqual(charged.map((c) => c.ok), [true]);
    const recovered = await emu.stripe.subscriptions.retrieve(sub.id, { expand: ["default_payment_method"] });
    assert.equal(recovered.status, "active");
    assert.equal((recovered.default_payment_method as Stripe.PaymentMethod).card?.last4, "4444");
    assert.equal((await emu.stripe.invoices.retrieve(recovered.latest_invoice as string)).status, "paid");
  });

  test("invoices.pay charges an open invoice now and answers 402 when the card is declined", async () => {
    await emu.control.settings({ invoiceFinalizeDelaySeconds: 0 });
    const { sub } = await subscribe("4242424242424242");
    await emu.control.setCustomerCard(sub.customer as string, "4000000000000341");
    await emu.control.advance({ to: sub.items.data[0].current_period_end });
    const open = (await emu.stripe.invoices.list({ subscription: sub.id, status: "open" })).data[0];
    await assert.rejects(emu.stripe.invoices.pay(open.id), (e: Stripe.errors.StripeError) => e.type === "StripeCardError" && e.statusCode === 402 && e.decline_code === "generic_decline");
    await emu.control.setCustomerCard(sub.customer as string, "4242424242424242");
    const paid = await emu.stripe.invoices.pay(open.id);
    assert.equal(paid.status, "paid");
    assert.equal((await emu.stripe.subscriptions.retrieve(sub.id)).status, "active");
    await assert.rejects(emu.stripe.invoices.pay(open.id), /already paid/);
  });
});

describe("checkout outcomes", () => {
  test("4000 0000 0000 0341: checkout completes, the first charge fails, the subscription is incomplete and expires after 23 hours", async () => {
    const { session, sub } = await subscribe("4000000000000341");
    assert.equal(session.status, "complete");
    assert.equal(session.payment_status, "unpaid");
    assert.equal(sub.status, "incomplete");
    const invoice = await emu.stripe.invoices.retrieve(sub.latest_invoice as string);
    assert.equal(invoice.status, "open");
    assert.equal(invoice.attempt_count, 1);
    assert.equal(invoice.next_payment_attempt, null, "the first invoice is not retried automatically");
    const failedEvents = (await emu.stripe.events.list({ type: "invoice.payment_failed" })).data;
    assert.equal((failedEvents[0].data.object as Stripe.Invoice).id, invoice.id);

    const expired = await emu.control.advance({ seconds: 23 * 3600 });
    assert.deepEqual(typesOf(expired), ["invoice.voided", "customer.subscription.updated"]);
    const ended = await emu.stripe.subscriptions.retrieve(sub.id);
    assert.equal(ended.status, "incomplete_expired");
    assert.equal((await emu.stripe.invoices.retrieve(invoice.id)).status, "void");
  });

  test("4000 0000 0000 0002 is declined at once: nothing is created and the session stays open", async () => {
    const session = await emu.stripe.checkout.sessions.create({ mode: "subscription", line_items: [{ price: plans.starter.id, quantity: 1 }], success_url: "https://app.test/ok" });
    await assert.rejects(emu.control.payCheckout(session.id, { card: "4000000000000002", email: "d@example.test" }), /402[^]*"decline_code": "generic_decline"/);
    assert.equal((await emu.stripe.checkout.sessions.retrieve(session.id)).status, "open");
    assert.deepEqual((await emu.stripe.customers.list({ email: "d@example.test" })).data, []);
    assert.deepEqual((await emu.stripe.subscriptions.list()).data, []);
  });

  test("a trial: trialing with a $0 paid invoice, trial_will_end three days before, then active and charged", async () => {
    const { session, sub } = await subscribe("4242424242424242", { subscription_data: { trial_period_days: 14 } });
    assert.equal(session.payment_status, "no_payment_required");
    assert.equal(sub.status, "trialing");
    assert.equal(sub.trial_end! - sub.trial_start!, 14 * day);
    const first = await emu.stripe.invoices.retrieve(sub.latest_invoice as string);
    assert.deepEqual([first.status, first.amount_due, first.lines.data[0].description], ["paid", 0, "Trial period for Starter"]);

    assert.deepEqual(typesOf(await emu.control.advance({ days: 11 })), ["customer.subscription.trial_will_end"]);
    await emu.control.advance({ seconds: 3 * day + 3600 });
    const active = await emu.stripe.subscriptions.retrieve(sub.id);
    assert.equal(active.status, "active");
    const charged = await emu.stripe.invoices.retrieve(active.latest_invoice as string);
    assert.deepEqual([charged.status, charged.amount_paid], ["paid", 2900]);
  });

  test("an open checkout session expires after 24 hours on the clock", async () => {
    const session = await emu.stripe.checkout.sessions.create({ mode: "subscription", line_items: [{ price: plans.starter.id, quantity: 1 }], success_url: "https://app.test/ok" });
    assert.deepEqual(typesOf(await emu.control.advance({ days: 1 })), ["checkout.session.expired"]);
    assert.equal((await emu.stripe.checkout.sessions.retrieve(session.id)).status, "expired");
    await assert.rejects(emu.control.payCheckout(session.id, { card: "4242424242424242", email: "late@example.test" }), /expired/);
  });
});

describe("changes", () => {
  test("cancel_at_period_end keeps the subscription until the period ends, then deletes it", async () => {
    const { sub } = await subscribe("4242424242424242");
    const end = sub.items.data[0].current_period_end;
    const cancelling = await emu.stripe.subscriptions.update(sub.id, { cancel_at_period_end: true, cancellation_details: { feedback: "too_expensive" } });
    assert.equal(cancelling.status, "active");
    assert.equal(cancelling.cancel_at_period_end, true);
    assert.equal(cancelling.cancel_at, end);
    assert.equal(cancelling.cancellation_details?.reason, "cancellation_requested");
    const [updated] = (await emu.stripe.events.list({ type: "customer.subscription.updated", limit: 1 })).data;
    assert.equal((updated.data.previous_attributes as Partial<Stripe.Subscription>).cancel_at_period_end, false);

    assert.deepEqual(typesOf(await emu.control.advance({ to: end })), ["customer.subscription.deleted"]);
    const ended = await emu.stripe.subscriptions.retrieve(sub.id);
    assert.deepEqual([ended.status, ended.ended_at], ["canceled", end]);
    assert.equal((await emu.stripe.invoices.list({ subscription: sub.id })).data.length, 1, "no renewal invoice");
    await assert.rejects(emu.stripe.subscriptions.update(sub.id, { cancel_at_period_end: false }), /canceled subscription/);
  });

  test("switching price keeps the cycle for the same interval and bills at once for a new interval", async () => {
    const { sub } = await subscribe("4242424242424242");
    const itemId = sub.items.data[0].id;
    const upgraded = await emu.stripe.subscriptions.update(sub.id, { items: [{ id: itemId, price: plans.pro.id }], proration_behavior: "none" });
    assert.equal(upgraded.items.data[0].price.id, plans.pro.id);
    assert.equal(upgraded.items.data[0].current_period_end, sub.items.data[0].current_period_end);
    assert.equal(upgraded.latest_invoice, sub.latest_invoice);

    const yearly = await emu.stripe.subscriptions.update(sub.id, { items: [{ id: itemId, price: plans.proYearly.id }] });
    const invoice = await emu.stripe.invoices.retrieve(yearly.latest_invoice as string);
    assert.deepEqual([invoice.billing_reason, invoice.status, invoice.amount_paid], ["subscription_update", "paid", 79000]);
    assert.ok(yearly.items.data[0].current_period_end - yearly.items.data[0].current_period_start >= 365 * day);

    await assert.rejects(emu.stripe.subscriptions.update(sub.id, { items: [{ id: "si_nope", price: plans.pro.id }] }), (e: Stripe.errors.StripeError) => e.param === "items[0][id]");
  });

  test("subscriptions.cancel ends at once; expand reaches nested objects", async () => {
    const { sub } = await subscribe("4242424242424242");
    const expanded = await emu.stripe.subscriptions.retrieve(sub.id, { expand: ["customer", "latest_invoice", "items.data.price.product"] });
    assert.equal((expanded.customer as Stripe.Customer).email, "owner@example.test");
    assert.equal((expanded.latest_invoice as Stripe.Invoice).object, "invoice");
    assert.equal((expanded.items.data[0].price.product as Stripe.Product).name, "Starter");
    await assert.rejects(emu.stripe.subscriptions.retrieve(sub.id, { expand: ["status"] }), /cannot be expanded/);

    const canceled = await emu.stripe.subscriptions.cancel(sub.id, { cancellation_details: { comment: "closing the shop" } });
    assert.equal(canceled.status, "canceled");
    assert.equal(canceled.cancellation_details?.comment, "closing the shop");
    const [deleted] = (await emu.stripe.events.list({ type: "customer.subscription.deleted", limit: 1 })).data;
    assert.equal((deleted.data.object as Stripe.Subscription).id, sub.id);
    await assert.rejects(emu.stripe.subscriptions.cancel(sub.id), /already been canceled/);
  });
});
