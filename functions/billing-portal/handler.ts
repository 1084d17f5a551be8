// billing-portal: the owner (their JWT; the database decides) gets a Stripe Customer Portal URL to
// change plan, update the card, see invoices or cancel; the portal links back to the billing page.
import { z } from "zod";
import type { OwnerBillingRpc } from "../_shared/billing.ts";
import { ConflictError, type Handler, json, readJson, requireMethod, withErrors } from "../_shared/http.ts";
import { withCors } from "../_shared/cors.ts";
import { bearer, billingPageUrl } from "../_shared/owner-request.ts";
import { callStripe, isMissingCustomer, type Stripe } from "../_shared/stripe.ts";

export const portalRequestSchema = z.object({ business_id: z.string().uuid() }).strict();

export interface PortalDeps {
  owner: (authorization: string) => OwnerBillingRpc;
  stripe: Stripe;
  dashboardUrl: string;
}

export function createPortalHandler(deps: PortalDeps): Handler {
  return withCors(withErrors("billing-portal", async (req) => {
    requireMethod(req, "POST");
    const authorization = bearer(req);
    const request = portalRequestSchema.parse(await readJson(req));
    const account = await deps.owner(authorization).billingAccount(request.business_id);
    const customer = account.stripe_customer_id;
    if (!customer) throw new ConflictError("There is nothing to manage yet: choose a plan first.", "no_billing_account");
    const session = await callStripe("opening the billing portal", async () => {
      try {
        return await deps.stripe.billingPortal.sessions.create({ customer, return_url: billingPageUrl(deps.dashboardUrl) });
      } catch (err) {
        if (isMissingCustomer(err)) throw new ConflictError("Stripe no longer has this business's billing account: choose a plan again.", "no_billing_account");
        throw err;
      }
    });
    return json({ url: session.url });
  }));
}
