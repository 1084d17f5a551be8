// The /v1 API through the official `stripe` client: auth, customers, products and prices,
// pagination, expand, idempotency keys and Stripe's error shapes (also checked on the raw wire).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Stripe from "stripe";
import { emulatorStripeClient } from "./client.ts";
import { createPlans, startTestEmulator, type TestEmulator } from "./test-support.ts";

let emu: TestEmulator;
before(async () => {
  emu = await startTestEmulator();
});
after(async () => {
  await emu?.close();
});

async function raw(path: string, init: RequestInit & { key?: string | null } = {}) {
  const headers = new Headers(init.headers);
  if (init.key !== null) headers.set("authorization", `Bearer ${init.key ?? emu.secretKey}`);
  const response = await fetch(emu.url + path, { ...init, headers });
  return { status: response.status, headers: response.headers, body: await response.json() as Record<string, any> };
}

describe("authentication", () => {
  test("no key, a wrong key and a publishable key are refused with 401; Basic auth with the secret key works", async () => {
    const missing = await raw("/v1/customers", { key: null });
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error.type, "invalid_request_error");
    assert.match(missing.body.error.message, /You did not provide an API key/);

    const wrong = emulatorStripeClient(emu.url, "sk_test_wrongwrongwrongwrong1234");
    await assert.rejects(wrong.customers.list(), (error: Stripe.errors.StripeError) => {
      assert.ok(error instanceof Stripe.errors.StripeAuthenticationError);
      assert.equal(error.statusCode, 401);
      assert.match(error.message, /^Invalid API Key provided: sk_test_\*+1234$/);
      return true;
    });
    const publishable = await raw("/v1/customers", { key: "pk_test_abcdefabcdef" });
    assert.equal(publishable.status, 401);
    assert.match(publishable.body.error.message, /publishable API key/);

    const basic = await fetch(`${emu.url}/v1/customers`, { headers: { authorization: `Basic ${Buffer.from(`${emu.secretKey}:`).toString("base64")}` } });
    assert.equal(basic.status, 200);
    assert.match(basic.headers.get("request-id") ?? "", /^req_/);
  });
});

describe("customers", () => {
  test("create, retrieve, update metadata (merge and unset), delete", async () => {
    const created = await emu.stripe.customers.create({ email: "owner@plumbing.test", name: "Pat Plumber", metadata: { business_id: "b-1", plan: "starter" } });
    assert.match(created.id, /^cus_/);
    assert.equal(created.object, "customer");
    assert.equal(created.livemode, false);
    assert.deepEqual(created.metadata, { business_id: "b-1", plan: "starter" });
    assert.equal(created.invoice_settings.default_payment_method, null);

    const updated = await emu.stripe.customers.update(created.id, { name: "Pat P.", metadata: { plan: "", region: "west" } });
    assert.equal(updated.name, "Pat P.");
    assert.deepEqual(updated.metadata, { business_id: "b-1", region: "west" });
    assert.deepEqual(await emu.stripe.customers.retrieve(created.id), updated);

    const events = await emu.stripe.events.list({ type: "customer.updated", limit: 1 });
    assert.deepEqual(events.data[0].data.previous_attributes, { metadata: { business_id: "b-1", plan: "starter" }, name: "Pat Plumber" });

    const deleted = await emu.stripe.customers.del(created.id);
    assert.deepEqual(deleted, { id: created.id, object: "customer", deleted: true });
    assert.deepEqual(await emu.stripe.customers.retrieve(created.id), deleted);
    await assert.rejects(emu.stripe.customers.update(created.id, { name: "x" }), /No such customer/);
  });

  test("list filters by exact email, newest first, and pages with limit / starting_after / ending_before", async () => {
    const email = `page-${Date.now()}@example.test`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await emu.stripe.customers.create({ email, metadata: { n: String(i) } })).id);
    await emu.stripe.customers.create({ email: email.toUpperCase() });

    const first = await emu.stripe.customers.list({ email, limit: 2 });
    assert.equal(first.object, "list");
    assert.equal(first.url, "/v1/customers");
    assert.deepEqual(first.data.map((c) => c.id), [ids[4], ids[3]]);
    assert.equal(first.has_more, true);
    const next = await emu.stripe.customers.list({ email, limit: 2, starting_after: ids[3] });
    assert.deepEqual(next.data.map((c) => c.id), [ids[2], ids[1]]);
    const last = await emu.stripe.customers.list({ email, limit: 2, starting_after: ids[1] });
    assert.deepEqual(last.data.map((c) => c.id), [ids[0]]);
    assert.equal(last.has_more, false);
    const back = await emu.stripe.customers.list({ email, limit: 2, ending_before: ids[0] });
    assert.deepEqual(back.data.map((c) => c.id), [ids[2], ids[1]]);
    assert.deepEqual(await emu.stripe.customers.list({ email }).autoPagingToArray({ limit: 100 }).then((all) => all.map((c) => c.id)), [...ids].reverse());

    await assert.rejects(emu.stripe.customers.list({ limit: 101 }), (error: Stripe.errors.StripeError) => error.param === "limit" && /less than or equal to 100/.test(error.message));
  });
});

describe("products and prices", () => {
  test("monthly prices with lookup keys, listed by lookup_keys, with the product expanded", async () => {
    const { starter, pro, proYearly } = await createPlans(emu.stripe);
    assert.equal(starter.type, "recurring");
    assert.deepEqual(starter.recurring, { interval: "month", interval_count: 1, meter: null, trial_period_days: null, usage_type: "licensed" });
    assert.equal(starter.unit_amount, 2900);
    assert.match(starter.product as string, /^prod_/);

    const listed = await emu.stripe.prices.list({ lookup_keys: [starter.lookup_key!, pro.lookup_key!], expand: ["data.product"] });
    assert.deepEqual(listed.data.map((p) => p.id).sort(), [starter.id, pro.id].sort());
    assert.deepEqual(listed.data.map((p) => (p.product as Stripe.Product).name).sort(), ["Pro", "Starter"]);
    assert.deepEqual((await emu.stripe.prices.list({ product: pro.product as string })).data.map((p) => p.id), [proYearly.id, pro.id]);

    await assert.rejects(
      emu.stripe.prices.create({ currency: "usd", unit_amount: 1, recurring: { interval: "month" }, product: pro.product as string, lookup_key: starter.lookup_key! }),
      (error: Stripe.errors.StripeError) => error.code === "lookup_key_already_used" && error.param === "lookup_key",
    );
    const moved = await emu.stripe.prices.create({ currency: "usd", unit_amount: 3900, recurring: { interval: "month" }, product: starter.product as string, lookup_key: starter.lookup_key!, transfer_lookup_key: true });
    assert.equal((await emu.stripe.prices.retrieve(starter.id)).lookup_key, null);
    assert.equal((await emu.stripe.prices.list({ lookup_keys: [starter.lookup_key!] })).data[0].id, moved.id);

    const archived = await emu.stripe.prices.update(moved.id, { active: false, metadata: { note: "old" } });
    assert.equal(archived.active, false);
    assert.ok(!(await emu.stripe.prices.list({ active: true, product: starter.product as string })).data.some((p) => p.id === moved.id));
  });
});

describe("errors", () => {
  test("Stripe's error bodies and statuses on the wire", async () => {
    const missing = await raw("/v1/customers/cus_doesnotexist");
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys(missing.body), ["error"]);
    assert.equal(missing.body.error.type, "invalid_request_error");
    assert.equal(missing.body.error.code, "resource_missing");
    assert.equal(missing.body.error.param, "id");
    assert.equal(missing.body.error.message, "No such customer: 'cus_doesnotexist'");
    assert.match(missing.body.error.doc_url, /^https:\/\/stripe\.com\/docs\/error-codes\/resource-missing$/);

    const unknown = await raw("/v1/customers", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "email=a%40b.co&metadata[x]=1&nickname=zz" });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, "parameter_unknown");
    assert.equal(unknown.body.error.param, "nickname");

    const route = await raw("/v1/charges/nope/whatever");
    assert.equal(route.status, 404);
    assert.match(route.body.error.message, /^Unrecognized request URL \(GET: \/v1\/charges\/nope\/whatever\)/);

    const json = await raw("/v1/customers", { method: "POST", headers: { "content-type": "application/json" }, body: '{"email":"a@b.co"}' });
    assert.equal(json.status, 400);

    const badEmail = await raw("/v1/customers", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "email=not-an-email" });
    assert.equal(badEmail.body.error.code, "email_invalid");

    const pollution = await raw("/v1/customers", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "metadata[__proto__][x]=1" });
    assert.equal(pollution.status, 400);
    assert.equal(({} as Record<string, unknown>).x, undefined);

    const huge = await raw("/v1/customers", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `description=${"a".repeat(1_100_000)}` });
    assert.equal(huge.status, 413);

    await assert.rejects(emu.stripe.customers.create({ metadata: { ["k".repeat(41)]: "v" } }), (error: Stripe.errors.StripeError) => error instanceof Stripe.errors.StripeInvalidRequestError && /at most 40/.test(error.message));
  });
});

describe("idempotency keys", () => {
  test("a retried POST with the same key replays the first answer; the same key with other params is refused", async () => {
    const key = `idem-${Date.now()}`;
    const first = await emu.stripe.customers.create({ email: "idem@example.test" }, { idempotencyKey: key });
    const second = await emu.stripe.customers.create({ email: "idem@example.test" }, { idempotencyKey: key });
    assert.equal(second.id, first.id);
    assert.equal(second.lastResponse.headers["idempotent-replayed"], "true");
    assert.equal(second.lastResponse.requestId, first.lastResponse.requestId);
    assert.equal((await emu.stripe.customers.list({ email: "idem@example.test" })).data.length, 1);

    await assert.rejects(emu.stripe.customers.create({ email: "other@example.test" }, { idempotencyKey: key }), (error: Stripe.errors.StripeError) => {
      assert.ok(error instanceof Stripe.errors.StripeIdempotencyError);
      assert.equal(error.statusCode, 400);
      assert.match(error.message, /same parameters/);
      return true;
    });

    // Parallel requests with one key still create one customer.
    const parallelKey = `idem-parallel-${Date.now()}`;
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => emu.stripe.customers.create({ email: "parallel@example.test" }, { idempotencyKey: parallelKey })));
    const ids = new Set(results.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<Stripe.Customer>).value.id));
    assert.equal(ids.size, 1);
    assert.equal((await emu.stripe.customers.list({ email: "parallel@example.test" })).data.length, 1);

    // The event the request caused names the request and its key.
    const [event] = (await emu.stripe.events.list({ type: "customer.created", limit: 100 })).data.filter((e) => (e.data.object as Stripe.Customer).id === first.id);
    assert.deepEqual(event.request, { id: first.lastResponse.requestId, idempotency_key: key });
  });
});

describe("checkout sessions", () => {
  test("create validates like Stripe; retrieve with line items; expire", async () => {
    const { starter } = await createPlans(emu.stripe);
    const customer = await emu.stripe.customers.create({ email: "c@example.test" });
    const base = { mode: "subscription" as const, success_url: "https://app.test/ok?session={CHECKOUT_SESSION_ID}", cancel_url: "https://app.test/billing" };
    await assert.rejects(emu.stripe.checkout.sessions.create({ ...base, line_items: [{ price: starter.id, quantity: 1 }], customer: customer.id, customer_email: "x@example.test" }), /only specify one of these parameters: customer, customer_email/);
    await assert.rejects(emu.stripe.checkout.sessions.create({ ...base, line_items: [{ price: "price_nope", quantity: 1 }] }), (e: Stripe.errors.StripeError) => e.code === "resource_missing" && e.param === "line_items[0][price]");
    await assert.rejects(emu.stripe.checkout.sessions.create({ ...base, line_items: [{ price: starter.id, quantity: 1 }], customer: "cus_nope" }), (e: Stripe.errors.StripeError) => e.param === "customer");
    await assert.rejects(emu.stripe.checkout.sessions.create({ ...base, success_url: "not a url", line_items: [{ price: starter.id, quantity: 1 }] }), (e: Stripe.errors.StripeError) => e.param === "success_url");
    const oneTime = await emu.stripe.prices.create({ currency: "usd", unit_amount: 500, product: starter.product as string });
    await assert.rejects(emu.stripe.checkout.sessions.create({ ...base, line_items: [{ price: oneTime.id, quantity: 1 }] }), /at least one recurring price/);

    const session = await emu.stripe.checkout.sessions.create({
      ...base,
      line_items: [{ price: starter.id, quantity: 1 }],
      customer: customer.id,
      client_reference_id: "business-42",
      metadata: { business_id: "business-42" },
      subscription_data: { metadata: { business_id: "business-42" } },
      expand: ["line_items"],
    });
    assert.match(session.id, /^cs_test_/);
    assert.equal(session.status, "open");
    assert.equal(session.payment_status, "unpaid");
    assert.equal(session.mode, "subscription");
    assert.equal(session.url, `${emu.url}/c/pay/${session.id}`);
    assert.equal(session.amount_total, 2900);
    assert.equal(session.line_items!.data[0].price!.id, starter.id);
    assert.ok(session.expires_at - session.created === 24 * 3600);

    const items = await emu.stripe.checkout.sessions.listLineItems(session.id);
    assert.equal(items.data.length, 1);
    const expired = await emu.stripe.checkout.sessions.expire(session.id);
    assert.equal(expired.status, "expired");
    assert.equal(expired.url, null);
    await assert.rejects(emu.stripe.checkout.sessions.expire(session.id), /can be expired/);
    const [event] = (await emu.stripe.events.list({ type: "checkout.session.expired" })).data;
    assert.equal((event.data.object as Stripe.Checkout.Session).id, session.id);
  });

  test("payment modes the emulator does not reproduce are refused plainly, never faked", async () => {
    const { starter } = await createPlans(emu.stripe);
    await assert.rejects(
      emu.stripe.checkout.sessions.create({ mode: "payment", success_url: "https://app.test/ok", line_items: [{ price: starter.id, quantity: 1 }] }),
      (e: Stripe.errors.StripeError) => e.code === "parameter_unsupported" && e.param === "mode",
    );
    await assert.rejects(
      emu.stripe.checkout.sessions.create({ mode: "subscription", success_url: "https://app.test/ok", line_items: [{ price: starter.id, quantity: 1 }], discounts: [{ coupon: "x" }] }),
      (e: Stripe.errors.StripeError) => e.code === "parameter_unsupported",
    );
  });
});
