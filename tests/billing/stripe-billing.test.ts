// Billing through the whole stack: the billing functions under Deno behind the gateway, the Stripe
// emulator's checkout, clock and signed webhooks, the stripe-webhook function and the database's gate.
// Needs a running stack for LEADLOOP_INSTANCE (npm test starts one).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import Stripe from "stripe";
import { closeDb, db, deleteBusiness, randomPhone, received, stack, submitLead, type TestBusiness, waitFor, waitForReceived } from "../loop/loop-support.ts";
import {
  callFunction,
  checkoutAndPay,
  memberOf,
  notificationsOf,
  storedCustomer,
  stripe,
  stripeControl,
  subscriptionOf,
  trialBusiness,
  waitForSubscription,
} from "./billing-support.ts";

const businesses: TestBusiness[] = [];
async function newTrialBusiness() {
  const made = await trialBusiness();
  businesses.push(made.business);
  return made;
}

after(async () => {
  await stripeControl.release().catch(() => undefined);
  for (const b of businesses) await deleteBusiness(b);
  await closeDb();
});

async function stripeEventCount(businessId: string): Promise<number> {
  const { rows } = await db().query("select count(*)::int as n from private.stripe_events where business_id = $1", [businessId]);
  return rows[0].n;
}

test("checkout -> active: one customer per business, the session carries the business, the owner is told once", async () => {
  const { business, owner } = await newTrialBusiness();
  assert.equal((await subscriptionOf(business.id))?.status, "trialing");

  // Two first checkouts at once (a double click): one Stripe customer, stored once.
  const [a, b] = await Promise.all([0, 1].map(() => callFunction("billing-checkout", owner.token, { business_id: business.id, plan: "growth" })));
  assert.deepEqual([a.status, b.status], [200, 200], JSON.stringify([a.body, b.body]));
  const sessions = await Promise.all([a, b].map((r) => stripe.checkout.sessions.retrieve(String(r.body.session_id))));
  const customer = await storedCustomer(business.id);
  assert.ok(customer);
  assert.deepEqual(sessions.map((s) => s.customer), [customer, customer]);
  const [session] = sessions;
  assert.equal(session.client_reference_id, business.id);
  assert.equal(session.metadata?.business_id, business.id);
  assert.equal(String(a.body.url), `${stack.stripe.checkoutOrigin}/c/pay/${session.id}`);
  assert.match(session.success_url ?? "", new RegExp(`^${new URL(stack.dashboardUrl!).origin}/billing\\?checkout=success`));

  const paid = await stripeControl.payCheckout(session.id, { card: "4242424242424242" });
  assert.match(paid.redirectUrl, new RegExp(`/billing\\?checkout=success&session_id=${session.id}$`));
  const active = await waitForSubscription(business.id, "active on Stripe", (s) => s.status === "active" && s.stripe_subscription_id !== null);
  assert.deepEqual([active.plan_id, active.conversation_quota, active.conversations_used], ["growth", 500, 0]);
  const truth = await stripe.subscriptions.retrieve(active.stripe_subscription_id!);
  assert.equal(active.current_period_end.getTime(), truth.items.data[0].current_period_end * 1000);

  await stripeControl.settle();
  assert.deepEqual((await notificationsOf(business.id)).map((n) => n.kind), ["billing.active"], "told once, whatever the number of events");

  const again = await callFunction("billing-checkout", owner.token, { business_id: business.id, plan: "pro" });
  assert.deepEqual([again.status, again.body.error], [409, "already_subscribed"]);
  const portal = await callFunction("billing-portal", owner.token, { business_id: business.id });
  assert.equal(portal.status, 200);
  assert.match(String(portal.body.url), new RegExp(`^${stack.stripe.checkoutOrigin}/p/session/`));
  // supabase-js, as the dashboard calls it, gets the same answer.
  const invoked = await owner.client.functions.invoke("billing-portal", { body: { business_id: business.id } });
  assert.equal(invoked.error, null);
  assert.match((invoked.data as { url: string }).url, /\/p\/session\//);
});

test("a first payment that fails leaves the trial running, tells the owner, and checkout stays open", async () => {
  const { business, owner } = await newTrialBusiness();
  await checkoutAndPay(business, owner, "growth", "4000000000000341");
  await waitFor("the owner to hear the payment failed", async () =>
    (await notificationsOf(business.id)).some((n) => n.kind === "billing.incomplete"));
  await stripeControl.settle();
  const held = await subscriptionOf(business.id);
  assert.deepEqual([held?.status, held?.plan_id, held?.stripe_subscription_id], ["trialing", "trial", null]);
  const retry = await callFunction("billing-checkout", owner.token, { business_id: business.id, plan: "growth" });
  assert.equal(retry.status, 200);
});

test("staff, another business's owner, the anon key and a forged token are refused; nothing reaches Stripe", async () => {
  const { business } = await newTrialBusiness();
  const staff = await memberOf(business, "staff");
  const other = await newTrialBusiness();
  for (const name of ["billing-checkout", "billing-portal"] as const) {
    const body = { business_id: business.id, plan: "growth" };
    const request = name === "billing-portal" ? { business_id: business.id } : body;
    assert.equal((await callFunction(name, staff.token, request)).status, 403, `${name}: staff`);
    assert.equal((await callFunction(name, other.owner.token, request)).status, 403, `${name}: another business's owner`);
    assert.equal((await callFunction(name, stack.anonKey, request)).status, 403, `${name}: the anon key`);
    assert.equal((await callFunction(name, `${staff.token.slice(0, -4)}AAAA`, request)).status, 401, `${name}: a forged token`);
  }
  assert.equal(await storedCustomer(business.id), undefined, "no customer was created");
  assert.equal((await callFunction("billing-checkout", other.owner.token, { business_id: other.business.id, plan: "trial" })).status, 400, "the trial is not for sale");
});

test("failed renewal -> past_due; leads are texted for 3 days, then not, while owner alerts continue; paying restores", async () => {
  const { business, owner } = await newTrialBusiness();
  await checkoutAndPay(business, owner, "starter");
  const active = await waitForSubscription(business.id, "active", (s) => s.status === "active" && s.plan_id === "starter");
  const customer = (await storedCustomer(business.id))!;

  // The card now fails; move Stripe's clock past the period end and the invoice's finalization.
  await stripeControl.setCustomerCard(customer, "4000000000000341");
  const sub = await stripe.subscriptions.retrieve(active.stripe_subscription_id!);
  await stripeControl.advance({ to: sub.items.data[0].current_period_end + 2 * 3600 });
  await waitForSubscription(business.id, "past_due", (s) => s.status === "past_due");
  await stripeControl.settle();
  const pastDue = (await subscriptionOf(business.id))!;
  assert.equal(pastDue.status, "past_due", "every delivery of the renewal applied, still past_due");
  assert.ok(pastDue.past_due_since && pastDue.grace_ends_at);
  assert.equal(pastDue.grace_ends_at.getTime() - pastDue.past_due_since.getTime(), 3 * 86_400_000, "a 3-day grace");
  assert.equal(pastDue.conversations_used, 0);

  // Inside the grace, a lead is texted back as usual.
  const early = randomPhone();
  await submitLead(business, { name: "Grace Early", phone: early, message: "Dripping faucet" });
  await waitForReceived(early, 1);

  // Three days later (the database's clock cannot be advanced like Stripe's: the recorded time moves back instead).
  await db().query("update public.subscriptions set past_due_since = now() - interval '3 days 1 minute' where business_id = $1", [business.id]);
  const late = randomPhone();
  await submitLead(business, { name: "Grace Late", phone: late, message: "Burst pipe in the basement" });
  const alerts = await waitFor("the owner alert for the late lead", async () => {
    const got = await received(business.ownerPhone);
    return got.some((m) => /Grace Late/.test(m.body)) ? got : null;
  });
  assert.ok(alerts.some((m) => /Grace Early/.test(m.body)), "both leads alerted the owner");
  const { rows: [lead] } = await db().query("select followup_status, not_texted_reason, owner_alert_status from public.leads where phone = $1", [late]);
  assert.deepEqual([lead.followup_status, lead.not_texted_reason], ["not_texted", "payment_overdue"]);
  const { rows: [texts] } = await db().query("select count(*)::int as n from public.messages where to_phone = $1", [late]);
  assert.equal(texts.n, 0, "nothing was queued for the lead");
  assert.deepEqual(await received(late), []);
  const told = (await notificationsOf(business.id)).map((n) => n.kind);
  assert.deepEqual(told.filter((k) => k === "billing.past_due" || k === "billing.payment_overdue"), ["billing.past_due", "billing.payment_overdue"]);

  // A working card pays the open invoice: active again, the new period's quota from 0, the grace gone.
  await stripeControl.setCustomerCard(customer, "4242424242424242", { chargeOpenInvoices: true });
  const restored = await waitForSubscription(business.id, "active again", (s) => s.status === "active");
  assert.deepEqual([restored.past_due_since, restored.conversations_used], [null, 0]);
  const again = randomPhone();
  await submitLead(business, { name: "Grace Again", phone: again, message: "Water heater out" });
  await waitForReceived(again, 1);
});

test("a webhook with a bad, missing or stale signature is a 400 and changes nothing", async () => {
  const { business, owner } = await newTrialBusiness();
  await checkoutAndPay(business, owner, "growth");
  const held = await waitForSubscription(business.id, "active", (s) => s.status === "active" && s.stripe_subscription_id !== null);
  await stripeControl.settle();
  const before = { subscription: await subscriptionOf(business.id), events: await stripeEventCount(business.id), told: await notificationsOf(business.id) };

  const [real] = await stripeControl.events({ type: "customer.subscription.updated", objectId: held.stripe_subscription_id! });
  const event = (await stripeControl.event(real.id)).event;
  const forged = JSON.stringify({ ...event, id: `${event.id}forged`, created: event.created + 10, data: { object: { ...event.data.object, status: "canceled" } } }, null, 2);
  const post = (body: string, signature?: string) =>
    fetch(`${stack.functionsUrl}/stripe-webhook`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(signature ? { "Stripe-Signature": signature } : {}) },
      body,
    });
  const sign = (payload: string, secret: string, timestamp?: number) => Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp });
  const refused = [
    await post(forged, await sign(forged, "whsec_an_attackers_guess")),
    await post(forged),
    await post(forged, await sign(forged, stack.stripe.webhookSecret, Math.floor(Date.now() / 1000) - 600)),
    await post(forged, (await sign(JSON.stringify(event, null, 2), stack.stripe.webhookSecret))),
  ];
  for (const [i, res] of refused.entries()) assert.equal(res.status, 400, `request ${i}: ${await res.text()}`);

  assert.deepEqual(
    { subscription: await subscriptionOf(business.id), events: await stripeEventCount(business.id), told: await notificationsOf(business.id) },
    before,
  );
  // The endpoint itself works: the real event, correctly signed, is accepted (and already processed).
  const body = JSON.stringify(event, null, 2);
  const accepted = await post(body, await sign(body, stack.stripe.webhookSecret));
  assert.deepEqual([accepted.status, (await accepted.json()).outcome], [200, "duplicate"]);
});

test("the same events twice, out of order, end in Stripe's state, each change told once", async () => {
  const { business, owner } = await newTrialBusiness();
  await stripeControl.hold();
  try {
    await checkoutAndPay(business, owner, "growth");
    await stripeControl.release({ order: "reverse", duplicate: true });
  } finally {
    await stripeControl.release();
  }
  await stripeControl.settle();
  const active = await waitForSubscription(business.id, "active", (s) => s.status === "active" && s.stripe_subscription_id !== null);
  const id = active.stripe_subscription_id!;

  // Scheduled cancellation and a switch to Pro, delivered shuffled and twice.
  const prices = await stripe.prices.list({ lookup_keys: ["leadloop_pro_monthly"], limit: 1 });
  const item = (await stripe.subscriptions.retrieve(id)).items.data[0];
  await stripeControl.hold();
  try {
    await stripe.subscriptions.update(id, { cancel_at_period_end: true });
    await stripe.subscriptions.update(id, { items: [{ id: item.id, price: prices.data[0].id }], proration_behavior: "none" });
    await stripeControl.release({ order: "shuffle", duplicate: true, seed: 7 });
  } finally {
    await stripeControl.release();
  }
  await stripeControl.settle();
  const truth = await stripe.subscriptions.retrieve(id);
  const final = await waitForSubscription(business.id, "on Pro, ending at the period end", (s) => s.plan_id === "pro" && s.cancel_at_period_end);
  assert.deepEqual(
    [final.status, final.conversation_quota, final.current_period_end.getTime()],
    [truth.status, 2000, truth.items.data[0].current_period_end * 1000],
  );
  const kinds = (await notificationsOf(business.id)).map((n) => n.kind).sort();
  assert.deepEqual(kinds, ["billing.active", "billing.cancel_scheduled", "billing.plan_changed"]);

  // Every delivery, duplicates included, was answered 2xx; a replay changes nothing.
  const deliveries = (await Promise.all((await stripeControl.events({ objectId: id })).map((e) => stripeControl.deliveries({ eventId: e.id })))).flat();
  assert.ok(deliveries.length > 0);
  assert.deepEqual(deliveries.filter((d) => d.state !== "succeeded").map((d) => `${d.eventId} ${d.state}`), []);
  const [first] = await stripeControl.events({ type: "customer.subscription.created", objectId: id });
  const [replay] = await stripeControl.replay(first.id);
  await stripeControl.settle();
  const replayed = (await stripeControl.deliveries({ eventId: first.id })).find((d) => d.id === replay.id)!;
  assert.match(replayed.attempts.at(-1)?.responseBody ?? "", /"outcome":"duplicate"/);
  assert.deepEqual(await subscriptionOf(business.id), final);
});
