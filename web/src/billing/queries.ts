import { queryOptions, useMutation } from "@tanstack/react-query";
import type { Db } from "../lib/db.ts";
import { functionError, toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import type { Plan, Subscription } from "../lib/types.ts";

export const billingKeys = {
  all: ["billing"] as const,
  subscription: (businessId: string) => ["billing", "subscription", businessId] as const,
  plans: () => ["billing", "plans"] as const,
};

const PLAN_COLUMNS = "id, name, description, conversations_per_period, price_cents, currency, billing_interval, trial_days, stripe_lookup_key, sort_order";
const SUBSCRIPTION_COLUMNS =
  "status, plan_id, current_period_start, current_period_end, conversation_quota, conversations_used, past_due_since, grace_ends_at, " +
  `cancel_at_period_end, cancel_at, stripe_subscription_id, plan:plans(${PLAN_COLUMNS})`;

export const billingQueries = {
  /** The business's subscription with its plan (RLS: members), or null when it has none. */
  subscription: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: billingKeys.subscription(businessId),
      queryFn: async (): Promise<Subscription | null> => {
        const { data, error } = await db.from("subscriptions").select(SUBSCRIPTION_COLUMNS).eq("business_id", businessId).maybeSingle();
        if (error) throw toError(error, "loading the subscription");
        return data as unknown as Subscription | null;
      },
    }),
  /** The plans a business can buy, cheapest first. */
  plans: (db: Db) =>
    queryOptions({
      queryKey: billingKeys.plans(),
      queryFn: async (): Promise<Plan[]> => {
        const { data, error } = await db.from("plans").select(PLAN_COLUMNS).eq("active", true).not("stripe_lookup_key", "is", null)
          .order("sort_order").order("id");
        if (error) throw toError(error, "loading the plans");
        return data as Plan[];
      },
      staleTime: 10 * 60_000,
    }),
};

/** Calls a billing function as the signed-in owner and goes to the Stripe page it answers with. */
function useStripeRedirect(name: "billing-checkout" | "billing-portal", context: string) {
  const db = useDb();
  return useMutation({
    mutationFn: async (body: Record<string, string>): Promise<string> => {
      const { data, error } = await db.functions.invoke<{ url: string }>(name, { body });
      if (error || !data?.url) throw await functionError(error, context);
      return data.url;
    },
    onSuccess: (url) => window.location.assign(url),
  });
}

export function useCheckout(businessId: string) {
  const mutation = useStripeRedirect("billing-checkout", "opening checkout");
  return { ...mutation, start: (plan: string) => mutation.mutate({ business_id: businessId, plan }) };
}

export function usePortal(businessId: string) {
  const mutation = useStripeRedirect("billing-portal", "opening billing");
  return { ...mutation, open: () => mutation.mutate({ business_id: businessId }) };
}
