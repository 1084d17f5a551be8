// stripe-webhook: verifies Stripe-Signature with the endpoint secret (stripe.webhooks.constructEventAsync;
// a bad one is a 400 and nothing is read or written), then hands each event that concerns a
// subscription to the database, which applies it once and in order. When the database cannot tell
// the order (events of the same second, another subscription of the business, events that do not
// carry the subscription) the subscription is re-read from Stripe and applied as current.
// Any failure is a 5xx, so Stripe delivers the event again; nothing is recorded until it is decided.
import { type EventOutcome, type ServiceBillingRpc, snapshotOf } from "../_shared/billing.ts";
import { BadRequestError, type Handler, json, readText, requireMethod, withErrors } from "../_shared/http.ts";
import { callStripe, Stripe, stripeCrypto } from "../_shared/stripe.ts";
import { relevantEvent } from "./events.ts";

export interface WebhookDeps {
  service: ServiceBillingRpc;
  stripe: Stripe;
  webhookSecret: string;
  /** Seconds a signature stays valid (Stripe's default, 300, unless a test says otherwise). */
  toleranceSeconds?: number;
}

/** Stripe's events are well under this; a bigger body is not from Stripe. */
const MAX_BODY_BYTES = 1_048_576;

async function verifiedEvent(deps: WebhookDeps, req: Request): Promise<Stripe.Event> {
  const signature = req.headers.get("stripe-signature");
  if (!signature) throw new BadRequestError("missing Stripe-Signature header");
  const payload = await readText(req, MAX_BODY_BYTES);
  try {
    return await deps.stripe.webhooks.constructEventAsync(payload, signature, deps.webhookSecret, deps.toleranceSeconds, stripeCrypto);
  } catch (err) {
    if (err instanceof Stripe.errors.StripeSignatureVerificationError) throw new BadRequestError(`invalid Stripe-Signature: ${err.message}`);
    // Signed but not an event (not JSON): not something Stripe sends either.
    throw new BadRequestError("the body is not a Stripe event");
  }
}

export async function processEvent(deps: WebhookDeps, event: Stripe.Event): Promise<EventOutcome | { outcome: "ignored" }> {
  const relevant = relevantEvent(event);
  if (!relevant) return { outcome: "ignored" };
  const base = {
    eventId: event.id,
    eventType: event.type,
    created: new Date(event.created * 1000).toISOString(),
    paidPeriodStart: relevant.paidPeriodStart,
  };
  const first = await deps.service.recordStripeEvent({ ...base, subscription: relevant.snapshot, fetched: false });
  if (first.outcome !== "needs_refetch") return first;
  // With its latest invoice, whose transitions (finalized, paid, voided) say how recent this state is.
  const current = await callStripe("re-reading the subscription", () =>
    deps.stripe.subscriptions.retrieve(relevant.subscriptionId, { expand: ["latest_invoice"] }));
  return await deps.service.recordStripeEvent({ ...base, subscription: snapshotOf(current), fetched: true });
}

export function createWebhookHandler(deps: WebhookDeps): Handler {
  return withErrors("stripe-webhook", async (req) => {
    requireMethod(req, "POST");
    const event = await verifiedEvent(deps, req);
    const result = await processEvent(deps, event);
    if (result.outcome === "unknown_customer") console.warn(`[stripe-webhook] ${event.id} (${event.type}): not a customer leadloop created`);
    return json({ received: true, ...result });
  });
}
