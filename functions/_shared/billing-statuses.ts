// Stripe's subscription statuses as leadloop stores them (public.subscriptions.status; the database's
// CHECK constraint lists the same, tests/db/status-lists.test.ts keeps them equal), and which of them
// mean a Stripe subscription is still running: no second checkout then, the plan changes in the
// portal. No imports: the dashboard bundles this file too.
export const SUBSCRIPTION_STATUSES = ["trialing", "active", "past_due", "unpaid", "canceled", "incomplete", "incomplete_expired", "paused"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const LIVE_STRIPE_STATUSES: readonly SubscriptionStatus[] = ["trialing", "active", "past_due", "unpaid", "paused"];

/** Whether a new Checkout may start: no Stripe subscription yet, or the one there is ended or never started. */
export function mayCheckOut(subscription: { stripe_subscription_id: string | null; status: string } | null | undefined): boolean {
  return !subscription?.stripe_subscription_id || !(LIVE_STRIPE_STATUSES as readonly string[]).includes(subscription.status);
}
