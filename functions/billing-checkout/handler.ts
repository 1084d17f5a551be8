// billing-checkout: the owner (their JWT; the database decides) gets a Stripe Checkout URL for a plan.
// The business's Stripe customer is created once and stored; the session carries the business id
// (client_reference_id and metadata, on the subscription too) and brings the owner back to the
// dashboard's billing page. A business whose Stripe subscription is still live changes plans in the
// portal instead.
import { z } from "zod";
import type { BillingAccount, OwnerBillingRpc, ServiceBillingRpc } from "../_shared/billing.ts";
import { mayCheckOut } from "../_shared/billing-statuses.ts";
import { ConfigError, ConflictError, type Handler, json, readJson, requireMethod, withErrors } from "../_shared/http.ts";
import { withCors } from "../_shared/cors.ts";
import { bearer, billingPageUrl } from "../_shared/owner-request.ts";
import { callStripe, isMissingCustomer, type Stripe } from "../_shared/stripe.ts";

export const checkoutRequestSchema = z.object({
  business_id: z.string().uuid(),
  plan: z.string().regex(/^[a-z][a-z0-9_]{1,39}$/, "must be a plan id such as growth"),
}).strict();

export interface CheckoutDeps {
  /** The owner RPC called with the caller's own Authorization header. */
  owner: (authorization: string) => OwnerBillingRpc;
  service: ServiceBillingRpc;
  stripe: Stripe;
  dashboardUrl: string;
}

/** The stored customer, or a new one (one per business: a parallel request gets the same one back). */
async function customerFor(deps: CheckoutDeps, account: BillingAccount, replaces?: string): Promise<string> {
  if (account.stripe_customer_id && !replaces) return account.stripe_customer_id;
  const customer = await callStripe("creating the Stripe customer", () =>
    deps.stripe.customers.create(
      { name: account.business_name, email: account.email ?? undefined, metadata: { business_id: account.business_id } },
      // Stripe returns the first answer to a repeated key for 24 hours: concurrent first checkouts make one customer.
      { idempotencyKey: `leadloop-customer:${account.business_id}${replaces ? `:replaces:${replaces}` : ""}` },
    ));
  return await deps.service.recordStripeCustomer(account.business_id, customer.id, replaces);
}

export function createCheckoutHandler(deps: CheckoutDeps): Handler {
  return withCors(withErrors("billing-checkout", async (req) => {
    requireMethod(req, "POST");
    const authorization = bearer(req);
    const request = checkoutRequestSchema.parse(await readJson(req));
    const account = await deps.owner(authorization).billingAccount(request.business_id, request.plan);
    if (!mayCheckOut({ stripe_subscription_id: account.stripe_subscription_id, status: account.subscription_status ?? "" })) {
      throw new ConflictError("This business already has a subscription: change plans, cards or cancel under Manage billing.", "already_subscribed");
    }
    const lookupKey = account.plan_lookup_key!;
    const prices = await callStripe("finding the plan's price", () => deps.stripe.prices.list({ lookup_keys: [lookupKey], active: true, limit: 1 }));
    const price = prices.data[0];
    if (!price) throw new ConfigError(`no active Stripe price has the lookup key ${lookupKey} (plan ${account.plan_id})`);

    const metadata = { business_id: account.business_id, plan_id: account.plan_id! };
    const open = (customer: string) =>
      deps.stripe.checkout.sessions.create({
        mode: "subscription",
        customer,
        client_reference_id: account.business_id,
        line_items: [{ price: price.id, quantity: 1 }],
        metadata,
        subscription_data: { metadata },
        success_url: `${billingPageUrl(deps.dashboardUrl)}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${billingPageUrl(deps.dashboardUrl)}?checkout=canceled`,
      });
    let customer = await customerFor(deps, account);
    const session = await callStripe("opening Checkout", async () => {
      try {
        return await open(customer);
      } catch (err) {
        // The stored customer is gone at Stripe (deleted, or another account): make a new one once.
        if (!isMissingCustomer(err)) throw err;
        customer = await customerFor(deps, account, customer);
        return await open(customer);
      }
    });
    if (!session.url) throw new ConfigError("Stripe opened a Checkout Session without a URL");
    return json({ url: session.url, session_id: session.id });
  }));
}
