import { assert, assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { ownerBillingRpc, serviceBillingRpc } from "../_shared/billing.ts";
import { fakeStripe, scriptedRpc, stripeError, type StripeRoute } from "../_shared/testing/stripe-fakes.ts";
import { createCheckoutHandler } from "./handler.ts";

const BUSINESS = "11111111-1111-4111-8111-111111111111";
const OWNER_JWT = "Bearer owner.jwt.token";

function account(overrides: Record<string, unknown> = {}) {
  return {
    business_id: BUSINESS,
    business_name: "Lone Star Plumbing",
    email: "owner@lonestar.test",
    stripe_customer_id: null,
    stripe_subscription_id: null,
    subscription_status: "trialing",
    plan_id: "growth",
    plan_lookup_key: "leadloop_growth_monthly",
    ...overrides,
  };
}

const stripeApi: StripeRoute = (call) => {
  if (call.method === "POST" && call.path === "/v1/customers") return { body: { id: "cus_new", object: "customer" } };
  if (call.method === "GET" && call.path === "/v1/prices") return { body: { object: "list", data: [{ id: "price_growth", object: "price" }], has_more: false } };
  if (call.method === "POST" && call.path === "/v1/checkout/sessions") {
    return { body: { id: "cs_test_1", object: "checkout.session", url: "https://checkout.stripe.test/c/pay/cs_test_1" } };
  }
};

function setup(options: { account?: Record<string, unknown>; ownerError?: { code: string; message: string }; route?: StripeRoute; stored?: string } = {}) {
  const owner = scriptedRpc({
    billing_account: () => {
      if (options.ownerError) throw options.ownerError;
      return account(options.account);
    },
  });
  const service = scriptedRpc({ record_stripe_customer: (args) => options.stored ?? args.p_customer_id });
  const stripe = fakeStripe(options.route ?? stripeApi);
  const authorizations: string[] = [];
  const handler = createCheckoutHandler({
    owner: (authorization) => {
      authorizations.push(authorization);
      return ownerBillingRpc(owner.call);
    },
    service: serviceBillingRpc(service.call),
    stripe: stripe.stripe,
    dashboardUrl: "https://app.leadloop.test/",
  });
  return { handler, owner, service, stripe, authorizations };
}

function post(body: unknown, headers: Record<string, string> = { authorization: OWNER_JWT, "content-type": "application/json" }) {
  return new Request("http://127.0.0.1:9999/billing-checkout", { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

Deno.test("a first checkout creates the business's customer once, stores it, and opens Checkout for the plan's price", async () => {
  const t = setup();
  const res = await t.handler(post({ business_id: BUSINESS, plan: "growth" }));
  assertEquals(res.status, 200);
  assertEquals(await res.json(), { url: "https://checkout.stripe.test/c/pay/cs_test_1", session_id: "cs_test_1" });
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  // The database was asked as the caller, with the plan.
  assertEquals(t.authorizations, [OWNER_JWT]);
  assertEquals(t.owner.calls[0].args, { p_business_id: BUSINESS, p_plan_id: "growth" });

  const [customer] = t.stripe.callsTo("POST", "/v1/customers");
  assertEquals(customer.params.get("metadata[business_id]"), BUSINESS);
  assertEquals(customer.params.get("email"), "owner@lonestar.test");
  assertEquals(customer.headers.get("idempotency-key"), `leadloop-customer:${BUSINESS}`);
  assertEquals(t.service.callsTo("record_stripe_customer")[0].args, { p_business_id: BUSINESS, p_customer_id: "cus_new" });

  const [prices] = t.stripe.callsTo("GET", "/v1/prices");
  assertEquals(prices.params.getAll("lookup_keys[0]"), ["leadloop_growth_monthly"]);
  const [session] = t.stripe.callsTo("POST", "/v1/checkout/sessions");
  const p = session.params;
  assertEquals(
    [p.get("mode"), p.get("customer"), p.get("client_reference_id"), p.get("line_items[0][price]"), p.get("line_items[0][quantity]")],
    ["subscription", "cus_new", BUSINESS, "price_growth", "1"],
  );
  assertEquals([p.get("metadata[business_id]"), p.get("subscription_data[metadata][business_id]"), p.get("subscription_data[metadata][plan_id]")], [BUSINESS, BUSINESS, "growth"]);
  assertEquals(p.get("success_url"), "https://app.leadloop.test/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}");
  assertEquals(p.get("cancel_url"), "https://app.leadloop.test/billing?checkout=canceled");
});

Deno.test("a stored customer is reused; a parallel first checkout that lost the race uses the winner's", async () => {
  const stored = setup({ account: { stripe_customer_id: "cus_stored" } });
  await stored.handler(post({ business_id: BUSINESS, plan: "growth" }));
  assertEquals(stored.stripe.callsTo("POST", "/v1/customers").length, 0);
  assertEquals(stored.stripe.callsTo("POST", "/v1/checkout/sessions")[0].params.get("customer"), "cus_stored");

  const raced = setup({ stored: "cus_winner" });
  await raced.handler(post({ business_id: BUSINESS, plan: "growth" }));
  assertEquals(raced.stripe.callsTo("POST", "/v1/checkout/sessions")[0].params.get("customer"), "cus_winner");
});

Deno.test("a stored customer Stripe no longer has is replaced once", async () => {
  let sessions = 0;
  const t = setup({
    account: { stripe_customer_id: "cus_gone" },
    route: (call) => {
      if (call.path === "/v1/checkout/sessions" && sessions++ === 0) return stripeError(400, "resource_missing", "No such customer: 'cus_gone'", "customer");
      return stripeApi(call);
    },
  });
  const res = await t.handler(post({ business_id: BUSINESS, plan: "growth" }));
  assertEquals(res.status, 200);
  assertEquals(t.service.callsTo("record_stripe_customer")[0].args, { p_business_id: BUSINESS, p_customer_id: "cus_new", p_replaces: "cus_gone" });
  assertEquals(t.stripe.callsTo("POST", "/v1/checkout/sessions").map((c) => c.params.get("customer")), ["cus_gone", "cus_new"]);
});

Deno.test("a live Stripe subscription: 409, change plans in the portal; nothing at Stripe", async () => {
  for (const status of ["active", "past_due", "trialing", "unpaid"]) {
    const t = setup({ account: { stripe_subscription_id: "sub_1", subscription_status: status, stripe_customer_id: "cus_1" } });
    const res = await t.handler(post({ business_id: BUSINESS, plan: "growth" }));
    assertEquals(res.status, 409, status);
    assertEquals((await res.json()).error, "already_subscribed");
    assertEquals(t.stripe.calls.length, 0);
  }
  // An ended or never-paid subscription can be replaced by a new checkout.
  const ended = setup({ account: { stripe_subscription_id: "sub_1", subscription_status: "canceled", stripe_customer_id: "cus_1" } });
  assertEquals((await ended.handler(post({ business_id: BUSINESS, plan: "growth" }))).status, 200);
});

Deno.test("the database refuses: staff or another business 403, an unknown plan 400, a bad JWT 401; Stripe is never called", async () => {
  const cases: [{ code: string; message: string }, number][] = [
    [{ code: "42501", message: "only an owner of this business can do this" }, 403],
    [{ code: "22023", message: "there is no plan \"platinum\" to buy" }, 400],
    [{ code: "PGRST301", message: "JWT expired" }, 401],
  ];
  for (const [ownerError, status] of cases) {
    const t = setup({ ownerError });
    const res = await t.handler(post({ business_id: BUSINESS, plan: "platinum" }));
    assertEquals(res.status, status, ownerError.code);
    assertEquals(t.stripe.calls.length, 0);
  }
});

Deno.test("bad requests: no token 401, bad body 400, not JSON 415, GET 405, oversized 413; preflight answered", async () => {
  const t = setup();
  assertEquals((await t.handler(post({ business_id: BUSINESS, plan: "growth" }, { "content-type": "application/json" }))).status, 401);
  for (const body of [{ business_id: "nope", plan: "growth" }, { business_id: BUSINESS }, { business_id: BUSINESS, plan: "growth", price: "price_free" }, "{"]) {
    const res = await t.handler(post(body));
    assertEquals(res.status, 400, JSON.stringify(body));
    assertEquals(res.headers.get("access-control-allow-origin"), "*", "errors are readable by the dashboard");
  }
  assertEquals((await t.handler(post("business_id=x", { authorization: OWNER_JWT, "content-type": "application/x-www-form-urlencoded" }))).status, 415);
  assertEquals((await t.handler(new Request("http://x/billing-checkout", { headers: { authorization: OWNER_JWT } }))).status, 405);
  assertEquals((await t.handler(post({ business_id: BUSINESS, plan: "growth", pad: "x".repeat(20_000) }))).status, 413);
  const preflight = await t.handler(new Request("http://x/billing-checkout", { method: "OPTIONS" }));
  assertEquals(preflight.status, 204);
  assertMatch(preflight.headers.get("access-control-allow-headers") ?? "", /authorization/);
  assertEquals(t.owner.calls.length, 0);
});

Deno.test("Stripe failing: 502 with a message that names what failed and never the key; a missing price is a setup error", async () => {
  const down = setup({ route: (call) => call.path === "/v1/prices" ? stripeError(500, "api_error", "boom sk_test_unit") : stripeApi(call) });
  const res = await down.handler(post({ business_id: BUSINESS, plan: "growth" }));
  assertEquals(res.status, 502);
  const body = await res.json();
  assertMatch(body.message, /finding the plan's price failed/);
  assert(!JSON.stringify(body).includes("sk_test"), "no key in the answer");

  const unpriced = setup({ route: (call) => call.path === "/v1/prices" ? { body: { object: "list", data: [], has_more: false } } : stripeApi(call) });
  const missing = await unpriced.handler(post({ business_id: BUSINESS, plan: "growth" }));
  assertEquals(missing.status, 500);
  // The caller learns it is a setup problem; which lookup key is missing goes to the function's log only.
  assertEquals(await missing.json(), { error: "config", message: "the function is not configured correctly" });
});
