// Signed webhook delivery: every delivery verifies with stripe.webhooks.constructEventAsync,
// events have Stripe's shape, failures and timeouts are retried with backoff, and the controls
// deliver out of order, twice, or again on request.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import type Stripe from "stripe";
import { createPlans, sleep, startTestEmulator, startWebhookReceiver, type TestEmulator, type WebhookReceiver } from "./test-support.ts";

let emu: TestEmulator;
let app: WebhookReceiver;
let endpointId: string;

before(async () => {
  emu = await startTestEmulator({ settings: { webhookRetrySchedule: [0.05, 0.1, 0.2], webhookTimeoutMs: 300 } });
});
after(async () => {
  await emu?.close();
});
afterEach(async () => {
  await emu.control.removeWebhookEndpoint(endpointId).catch(() => {});
  await app?.close();
});

async function listen(options: { enabledEvents?: string[] } = {}) {
  app = await startWebhookReceiver(emu.stripe);
  endpointId = (await emu.control.addWebhookEndpoint({ url: `${app.url}/functions/v1/stripe-webhook`, secret: app.secret, ...options })).id;
}

async function subscribe(card = "4242424242424242") {
  const { starter } = await createPlans(emu.stripe);
  const session = await emu.stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: starter.id, quantity: 1 }],
    customer_email: `owner-${Date.now()}@example.test`,
    client_reference_id: "business-1",
    success_url: "https://app.test/billing?session={CHECKOUT_SESSION_ID}",
  });
  const { session: done } = await emu.control.payCheckout(session.id, { card });
  return done;
}

describe("signed delivery", () => {
  test("every event of a checkout arrives signed, verifiable and shaped like Stripe's", async () => {
    await listen();
    const session = await subscribe();
    const [completed] = await app.waitFor((d) => d.event.type === "checkout.session.completed");
    assert.deepEqual(app.rejected, []);
    const event = completed.event;
    assert.match(event.id, /^evt_/);
    assert.equal(event.object, "event");
    assert.equal(event.livemode, false);
    assert.equal(event.api_version, emu.apiVersion);
    assert.ok(Math.abs(event.created - Date.now() / 1000) < 60);
    assert.equal(typeof event.pending_webhooks, "number");
    assert.deepEqual(event.request, { id: null, idempotency_key: null }, "a person paying on the page is not an API request");
    const object = event.data.object as Stripe.Checkout.Session;
    assert.equal(object.id, session.id);
    assert.equal(object.status, "complete");
    assert.equal(object.client_reference_id, "business-1");
    assert.match(completed.signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.match(completed.body, /^\{\n {2}"id": "evt_/, "Stripe sends pretty-printed JSON");

    await app.waitFor((d) => d.event.type === "invoice.payment_succeeded");
    const types: string[] = app.received.map((d) => d.event.type);
    for (const type of ["customer.created", "payment_method.attached", "customer.subscription.created", "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated", "checkout.session.completed"]) {
      assert.ok(types.includes(type), `${type} delivered (got ${types.join(", ")})`);
    }
    // First attempts go out in the order the events happened.
    const seqs = (await emu.control.events()).filter((e) => e.deliveries.some((d) => d.endpointId === endpointId)).map((e) => e.id);
    assert.deepEqual(app.received.map((d) => d.event.id), seqs);
    const updated = app.received.find((d) => d.event.type === "customer.subscription.updated")!.event;
    assert.deepEqual(updated.data.previous_attributes, { status: "incomplete" });

    // The delivered body is what the API returns for the event.
    const fetched = await emu.stripe.events.retrieve(event.id);
    assert.deepEqual({ ...fetched, pending_webhooks: 0 }, { ...JSON.parse(completed.body), pending_webhooks: 0 });

    // A receiver with another secret cannot verify it (the signature really depends on the secret).
    await assert.rejects(emu.stripe.webhooks.constructEventAsync(completed.body, completed.signature, "whsec_someoneelse00000000"), /No signatures found matching/);
    await assert.rejects(emu.stripe.webhooks.constructEventAsync(completed.body.replace("complete", "expired"), completed.signature, app.secret));
  });

  test("an endpoint gets only the event types it enabled", async () => {
    await listen({ enabledEvents: ["checkout.session.completed"] });
    await subscribe();
    await app.waitFor((d) => d.event.type === "checkout.session.completed");
    await emu.control.settle();
    assert.deepEqual(app.received.map((d) => d.event.type), ["checkout.session.completed"]);
  });
});

describe("retries", () => {
  test("an endpoint failing three times gets the event on the fourth attempt", async () => {
    await listen({ enabledEvents: ["customer.created"] });
    let calls = 0;
    app.respond = (_d, res) => {
      calls++;
      res.writeHead(calls <= 3 ? 500 : 200);
      res.end(calls <= 3 ? "boom" : "ok");
    };
    const customer = await emu.stripe.customers.create({ email: "retry@example.test" });
    const deliveries = await app.waitFor((d) => (d.event.data.object as Stripe.Customer).id === customer.id, 4);
    assert.equal(new Set(deliveries.map((d) => d.event.id)).size, 1, "retries resend the same event id");
    assert.equal(calls, 4);
    await emu.control.settle();
    const [summary] = await emu.control.events({ objectId: customer.id });
    const delivery = summary.deliveries[0];
    assert.equal(delivery.state, "succeeded");
    assert.deepEqual(delivery.attempts.map((a) => a.httpStatus), [500, 500, 500, 200]);
    assert.equal(delivery.attempts[0].responseBody, "boom");
    // Backoff: each retry waits at least its configured delay after the previous attempt.
    const at = delivery.attempts.map((a) => Date.parse(a.at));
    assert.ok(at[1] - at[0] >= 45 && at[2] - at[1] >= 95 && at[3] - at[2] >= 195, `gaps ${at.slice(1).map((t, i) => t - at[i])}`);
    assert.equal((await emu.stripe.events.retrieve(summary.id)).pending_webhooks, 0);
  });

  test("a timeout counts as a failure; after the last retry the delivery is failed", async () => {
    await listen({ enabledEvents: ["customer.created"] });
    app.respond = () => {
      // never answers: the emulator gives up after webhookTimeoutMs
    };
    const customer = await emu.stripe.customers.create({ email: "timeout@example.test" });
    let summary = (await emu.control.events({ objectId: customer.id }))[0];
    for (let i = 0; i < 100 && summary.deliveries[0].state !== "failed"; i++) {
      await sleep(50);
      summary = (await emu.control.events({ objectId: customer.id }))[0];
    }
    const delivery = summary.deliveries[0];
    assert.equal(delivery.state, "failed");
    assert.equal(delivery.attempts.length, 4);
    assert.ok(delivery.attempts.every((a) => !a.ok && /timed out after 300 ms/.test(a.error ?? "")));
    assert.equal((await emu.stripe.events.retrieve(summary.id)).pending_webhooks, 0);
  });

  test("redirects are failures too, as Stripe does not follow them", async () => {
    await listen({ enabledEvents: ["customer.created"] });
    let calls = 0;
    app.respond = (_d, res) => {
      calls++;
      res.writeHead(calls === 1 ? 302 : 200, calls === 1 ? { location: "/elsewhere" } : {});
      res.end();
    };
    const customer = await emu.stripe.customers.create({ email: "redirect@example.test" });
    await app.waitFor((d) => (d.event.data.object as Stripe.Customer).id === customer.id, 2);
    await emu.control.settle();
    const [summary] = await emu.control.events({ objectId: customer.id });
    assert.deepEqual(summary.deliveries[0].attempts.map((a) => a.httpStatus), [302, 200]);
  });
});

describe("ordering controls", () => {
  test("held events are released in reverse order and each delivered twice", async () => {
    await listen();
    await emu.control.hold();
    const session = await subscribe();
    await sleep(50);
    assert.equal(app.received.length, 0, "nothing is sent while held");
    const held = await emu.control.deliveries({ state: "held" });
    assert.ok(held.length >= 9);
    await emu.control.release({ order: "reverse", duplicate: true });
    await app.waitFor(() => true, held.length * 2);
    const ids = app.received.map((d) => d.event.id);
    const firstPass = ids.slice(0, held.length);
    assert.deepEqual(ids.slice(held.length), firstPass, "the second pass repeats every event");
    assert.equal(app.received[0].event.type, "checkout.session.completed", "the last event arrives first");
    assert.equal(app.received[held.length - 1].event.type, "product.created", "the first event (the plan's product) arrives last");
    assert.equal((app.received.find((d) => d.event.type === "checkout.session.completed")!.event.data.object as Stripe.Checkout.Session).id, session.id);
    assert.equal(new Set(ids).size, held.length);
  });

  test("replay sends the same event (same id) again, signed anew", async () => {
    await listen({ enabledEvents: ["customer.created"] });
    const customer = await emu.stripe.customers.create({ email: "replay@example.test" });
    const [first] = await app.waitFor((d) => (d.event.data.object as Stripe.Customer).id === customer.id);
    const replayed = await emu.control.replay(first.event.id);
    assert.equal(replayed.length, 1);
    assert.equal(replayed[0].kind, "replay");
    const both = await app.waitFor((d) => d.event.id === first.event.id, 2);
    assert.deepEqual({ ...both[1].event, pending_webhooks: 0 }, { ...first.event, pending_webhooks: 0 });
  });
});
