import { assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { serviceBillingRpc } from "../_shared/billing.ts";
import { fakeStripe, scriptedRpc, signedEvent, stripeSubscription, WEBHOOK_SECRET } from "../_shared/testing/stripe-fakes.ts";
import { createWebhookHandler } from "./handler.ts";

type Outcome = { outcome: string; business_id?: string; status?: string };

/** `answers` are record_stripe_event's answers, in call order. */
function setup(answers: Outcome[] | ((args: Record<string, unknown>) => Outcome), current = stripeSubscription({ status: "active" })) {
  let i = 0;
  const rpc = scriptedRpc({
    record_stripe_event: (args) => (typeof answers === "function" ? answers(args) : answers[i++]),
  });
  const stripe = fakeStripe((call) => (call.method === "GET" && call.path === `/v1/subscriptions/${current.id}` ? { body: current } : undefined));
  const handler = createWebhookHandler({ service: serviceBillingRpc(rpc.call), stripe: stripe.stripe, webhookSecret: WEBHOOK_SECRET });
  return { handler, rpc, stripe };
}

Deno.test("a subscription event is verified and handed to the database with its snapshot", async () => {
  const t = setup([{ outcome: "applied", status: "past_due" }]);
  const sub = stripeSubscription({ status: "past_due", cancelAtPeriodEnd: true });
  const res = await t.handler(await signedEvent("customer.subscription.updated", sub, { id: "evt_due", created: 1_800_000_000 }));
  assertEquals(res.status, 200);
  assertEquals(await res.json(), { received: true, outcome: "applied", status: "past_due" });
  assertEquals(t.rpc.calls.length, 1);
  assertEquals(t.rpc.calls[0].args, {
    p_event_id: "evt_due",
    p_event_type: "customer.subscription.updated",
    p_event_created: "2027-01-15T08:00:00.000Z",
    p_fetched: false,
    p_subscription: {
      id: "sub_1",
      customer: "cus_1",
      status: "past_due",
      created: "2026-12-31T23:59:00.000Z",
      lookup_key: "leadloop_growth_monthly",
      price_id: "price_growth",
      current_period_start: "2027-01-01T00:00:00.000Z",
      current_period_end: "2027-02-01T00:00:00.000Z",
      cancel_at_period_end: true,
      cancel_at: null,
      canceled_at: null,
      changed_at: "2027-01-01T00:00:00.000Z",
    },
  });
  assertEquals(t.stripe.calls.length, 0, "no re-read when the database could decide");
});

Deno.test("needs_refetch (same second, or another subscription): the subscription is re-read and applied as current", async () => {
  const t = setup([{ outcome: "needs_refetch" }, { outcome: "applied" }], stripeSubscription({ status: "active" }));
  const res = await t.handler(await signedEvent("customer.subscription.created", stripeSubscription({ status: "incomplete" })));
  assertEquals((await res.json()).outcome, "applied");
  assertEquals(t.stripe.calls.map((c) => `${c.method} ${c.path}`), ["GET /v1/subscriptions/sub_1"]);
  const second = t.rpc.calls[1].args;
  assertEquals([second.p_fetched, (second.p_subscription as { status: string }).status], [true, "active"]);
  assertEquals(t.stripe.calls[0].params.get("expand[0]"), "latest_invoice");
});

Deno.test("invoice.paid: the subscription is re-read, with the period the invoice paid for (its subscription line)", async () => {
  const t = setup((args) => ({ outcome: args.p_fetched ? "applied" : "needs_refetch" }));
  const invoice = {
    id: "in_1",
    object: "invoice",
    period_start: 1_796_083_200, // the period that ended: not the one paid for
    period_end: 1_798_761_600,
    parent: { type: "subscription_details", subscription_details: { subscription: "sub_1", metadata: {} } },
    lines: { object: "list", data: [{ id: "il_1", parent: { type: "subscription_item_details" }, period: { start: 1_798_761_600, end: 1_801_440_000 } }] },
  };
  await t.handler(await signedEvent("invoice.paid", invoice));
  assertEquals(t.rpc.calls.length, 2);
  assertEquals(t.rpc.calls[0].args.p_subscription, undefined, "asks first: a duplicate needs no Stripe call");
  assertEquals(t.rpc.calls[1].args.p_paid_period_start, "2027-01-01T00:00:00.000Z");
  // A failed payment re-reads too, but resets nothing.
  const failed = setup((args) => ({ outcome: args.p_fetched ? "applied" : "needs_refetch" }));
  await failed.handler(await signedEvent("invoice.payment_failed", invoice));
  assertEquals(failed.rpc.calls[1].args.p_paid_period_start, undefined);
});

Deno.test("a redelivered event is a duplicate: nothing is re-read", async () => {
  const t = setup([{ outcome: "duplicate" }]);
  const res = await t.handler(await signedEvent("checkout.session.completed", { id: "cs_1", object: "checkout.session", mode: "subscription", subscription: "sub_1" }));
  assertEquals([res.status, (await res.json()).outcome], [200, "duplicate"]);
  assertEquals(t.stripe.calls.length, 0);
});

Deno.test("events that change no subscription are acknowledged and not recorded", async () => {
  const t = setup([]);
  for (const [type, object] of [
    ["price.created", { id: "price_1", object: "price" }],
    ["checkout.session.completed", { id: "cs_1", object: "checkout.session", mode: "payment", subscription: null }],
    ["invoice.paid", { id: "in_1", object: "invoice", parent: null, lines: { data: [] } }],
  ] as const) {
    const res = await t.handler(await signedEvent(type, object));
    assertEquals([res.status, (await res.json()).outcome], [200, "ignored"], type);
  }
  assertEquals(t.rpc.calls.length, 0);
});

Deno.test("a bad signature is a 400 and nothing is read or written: wrong secret, tampered body, missing, too old", async () => {
  const t = setup([]);
  const sub = stripeSubscription();
  const requests = [
    await signedEvent("customer.subscription.deleted", sub, { secret: "whsec_someone_else" }),
    await signedEvent("customer.subscription.deleted", sub, { tamper: true }),
    await signedEvent("customer.subscription.deleted", sub, { signature: null }),
    await signedEvent("customer.subscription.deleted", sub, { signature: "t=1,v1=abc" }),
    await signedEvent("customer.subscription.deleted", sub, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
  ];
  for (const [i, req] of requests.entries()) {
    const res = await t.handler(req);
    assertEquals(res.status, 400, `request ${i}`);
    assertMatch((await res.json()).message, /Stripe-Signature/);
  }
  assertEquals([t.rpc.calls.length, t.stripe.calls.length], [0, 0]);
  assertEquals((await t.handler(new Request("http://x/stripe-webhook"))).status, 405);
});

Deno.test("the database or Stripe failing is a 5xx, so Stripe delivers the event again", async () => {
  const broken = setup(() => {
    throw { code: "22023", message: "no plan has the Stripe lookup key" };
  });
  assertEquals((await broken.handler(await signedEvent("customer.subscription.updated", stripeSubscription()))).status, 502);
  const t = setup([{ outcome: "needs_refetch" }], { ...stripeSubscription(), id: "sub_elsewhere" });
  assertEquals((await t.handler(await signedEvent("customer.subscription.updated", stripeSubscription()))).status, 502);
});

Deno.test("a re-read is as recent as the latest change it shows: its latest invoice's transitions count", async () => {
  const current = {
    ...stripeSubscription({ status: "past_due" }),
    latest_invoice: { id: "in_2", object: "invoice", created: 1_798_761_600, status_transitions: { finalized_at: 1_798_765_200, paid_at: null } },
  };
  const t = setup((args) => ({ outcome: args.p_fetched ? "applied" : "needs_refetch" }), current);
  await t.handler(await signedEvent("invoice.payment_failed", { id: "in_2", object: "invoice", parent: { subscription_details: { subscription: "sub_1" } }, lines: { data: [] } }));
  assertEquals((t.rpc.calls[1].args.p_subscription as { changed_at: string }).changed_at, "2027-01-01T01:00:00.000Z");
});
