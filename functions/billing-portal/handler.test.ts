import { assertEquals } from "../_shared/testing/assert.ts";
import { ownerBillingRpc } from "../_shared/billing.ts";
import { fakeStripe, scriptedRpc, stripeError, type StripeRoute } from "../_shared/testing/stripe-fakes.ts";
import { createPortalHandler } from "./handler.ts";

const BUSINESS = "11111111-1111-4111-8111-111111111111";

const portalApi: StripeRoute = (call) =>
  call.method === "POST" && call.path === "/v1/billing_portal/sessions"
    ? { body: { id: "bps_1", object: "billing_portal.session", url: "https://billing.stripe.test/p/session/bps_1" } }
    : undefined;

function setup(customer: string | null, options: { ownerError?: { code: string; message: string }; route?: StripeRoute } = {}) {
  const owner = scriptedRpc({
    billing_account: () => {
      if (options.ownerError) throw options.ownerError;
      return {
        business_id: BUSINESS, business_name: "Lone Star Plumbing", email: null, stripe_customer_id: customer,
        stripe_subscription_id: null, subscription_status: null, plan_id: null, plan_lookup_key: null,
      };
    },
  });
  const stripe = fakeStripe(options.route ?? portalApi);
  const handler = createPortalHandler({ owner: () => ownerBillingRpc(owner.call), stripe: stripe.stripe, dashboardUrl: "https://app.leadloop.test" });
  return { handler, owner, stripe };
}

const post = (body: unknown) =>
  new Request("http://127.0.0.1:9999/billing-portal", {
    method: "POST",
    headers: { authorization: "Bearer owner.jwt", "content-type": "application/json" },
    body: JSON.stringify(body),
  });

Deno.test("the owner gets a portal session for the business's customer that returns to the billing page", async () => {
  const t = setup("cus_1");
  const res = await t.handler(post({ business_id: BUSINESS }));
  assertEquals(res.status, 200);
  assertEquals(await res.json(), { url: "https://billing.stripe.test/p/session/bps_1" });
  assertEquals(t.owner.calls[0].args, { p_business_id: BUSINESS });
  const [session] = t.stripe.calls;
  assertEquals([session.params.get("customer"), session.params.get("return_url")], ["cus_1", "https://app.leadloop.test/billing"]);
});

Deno.test("no customer yet (never checked out), or one Stripe lost: 409 with what to do", async () => {
  const none = setup(null);
  const res = await none.handler(post({ business_id: BUSINESS }));
  assertEquals([res.status, (await res.json()).error], [409, "no_billing_account"]);
  assertEquals(none.stripe.calls.length, 0);
  const lost = setup("cus_gone", { route: () => stripeError(400, "resource_missing", "No such customer: 'cus_gone'", "customer") });
  assertEquals((await lost.handler(post({ business_id: BUSINESS }))).status, 409);
});

Deno.test("staff and other businesses are refused by the database; Stripe is never called", async () => {
  const t = setup("cus_1", { ownerError: { code: "42501", message: "only an owner of this business can do this" } });
  const res = await t.handler(post({ business_id: BUSINESS }));
  assertEquals(res.status, 403);
  assertEquals(t.stripe.calls.length, 0);
  assertEquals((await t.handler(post({ business_id: "x" }))).status, 400);
});
