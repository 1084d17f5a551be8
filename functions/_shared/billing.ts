// What the billing functions hand the database and get back (supabase/migrations/*_stripe_billing.sql):
// the owner's billing account (asked with the owner's own JWT, so the database decides who may manage
// billing), the stored Stripe customer, and Stripe subscription snapshots applied by event.
import { createClient } from "@supabase/supabase-js";
import { z } from "zod";
import { SUBSCRIPTION_STATUSES } from "./billing-statuses.ts";
import type { Database } from "./database.types.ts";
import type { BillingEnv, StripeWebhookEnv } from "./env.ts";
import { BadRequestError, ForbiddenError, RpcError, UnauthorizedError, zodMessage } from "./http.ts";

type Functions = Database["public"]["Functions"];
/** Calls one RPC with the arguments the generated type says it takes; a database error comes back as {code, message}. */
export type RawRpc = <N extends keyof Functions>(name: N, args: Functions[N]["Args"]) => Promise<unknown>;

export class DatabaseError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function parse<S extends z.ZodTypeAny>(rpc: string, schema: S, data: unknown): z.output<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw new RpcError(rpc, `unexpected result: ${zodMessage(r.error)}`);
  return r.data;
}

export const billingAccountSchema = z.object({
  business_id: z.string().uuid(),
  business_name: z.string(),
  email: z.string().nullable(),
  stripe_customer_id: z.string().nullable(),
  stripe_subscription_id: z.string().nullable(),
  subscription_status: z.string().nullable(),
  plan_id: z.string().nullable(),
  plan_lookup_key: z.string().nullable(),
});
export type BillingAccount = z.infer<typeof billingAccountSchema>;

export interface OwnerBillingRpc {
  /** The business's billing facts if the caller owns it (403 otherwise); with a plan, that plan's lookup key (400 if it cannot be bought). */
  billingAccount(businessId: string, planId?: string): Promise<BillingAccount>;
}

/** The owner RPC on any "call this RPC" function: the caller's JWT decides, the database says no. */
export function ownerBillingRpc(call: RawRpc): OwnerBillingRpc {
  return {
    async billingAccount(businessId, planId) {
      let data: unknown;
      try {
        data = await call("billing_account", { p_business_id: businessId, ...(planId ? { p_plan_id: planId } : {}) });
      } catch (err) {
        if (!(err instanceof DatabaseError)) throw err;
        // 42501: not the owner (or the anon key); 22023: no such plan to buy; PGRST3xx: a bad JWT.
        if (err.code === "42501") throw new ForbiddenError("Only the owner of this business can manage its billing.");
        if (err.code === "22023") throw new BadRequestError(err.message);
        if (err.code.startsWith("PGRST3")) throw new UnauthorizedError("sign in again: your session is not valid");
        throw new RpcError("billing_account", `${err.code} ${err.message}`);
      }
      return parse("billing_account", billingAccountSchema, data);
    },
  };
}

const iso = z.string().datetime({ offset: true });

/** What record_stripe_event reads of a Stripe subscription. */
export const subscriptionSnapshotSchema = z.object({
  id: z.string().startsWith("sub_"),
  customer: z.string().startsWith("cus_"),
  status: z.enum(SUBSCRIPTION_STATUSES),
  created: iso,
  lookup_key: z.string().nullable(),
  price_id: z.string(),
  current_period_start: iso,
  current_period_end: iso,
  cancel_at_period_end: z.boolean(),
  cancel_at: iso.nullable(),
  canceled_at: iso.nullable(),
  /**
   * The latest moment the object itself shows a change (period start, cancellation, end, its latest
   * invoice's transitions when expanded). A re-read reflects Stripe's present, which may be ahead of
   * events still on their way: the database orders those against this time, not the event's.
   */
  changed_at: iso,
});
export type SubscriptionSnapshot = z.infer<typeof subscriptionSnapshotSchema>;

const unix = z.number().int().nonnegative();
const idOf = z.union([z.string(), z.object({ id: z.string() })]).transform((v) => (typeof v === "string" ? v : v.id));
const toIso = (seconds: number) => new Date(seconds * 1000).toISOString();
const optionalIso = (seconds: number | null | undefined) => (seconds == null ? null : toIso(seconds));

// As this API version renders a subscription: the price and the billing period live on its item.
const stripeSubscriptionSchema = z.object({
  id: z.string(),
  customer: idOf,
  status: z.string(),
  created: unix,
  cancel_at_period_end: z.boolean(),
  cancel_at: unix.nullable().optional(),
  canceled_at: unix.nullable().optional(),
  ended_at: unix.nullable().optional(),
  // An id, or the invoice when the re-read expands it.
  latest_invoice: z.union([
    z.string(),
    z.object({
      created: unix,
      status_transitions: z.record(unix.nullable()).optional(),
    }),
  ]).nullable().optional(),
  items: z.object({
    data: z.array(z.object({
      price: z.object({ id: z.string(), lookup_key: z.string().nullable().optional() }),
      current_period_start: unix,
      current_period_end: unix,
    })).min(1, "a subscription has at least one item"),
  }),
});

/** The snapshot of a Stripe subscription object (from an event or a re-read), validated. */
export function snapshotOf(subscription: unknown): SubscriptionSnapshot {
  const parsed = stripeSubscriptionSchema.safeParse(subscription);
  if (!parsed.success) throw new BadRequestError(`unexpected subscription object: ${zodMessage(parsed.error)}`);
  const sub = parsed.data;
  const item = sub.items.data[0];
  const invoice = typeof sub.latest_invoice === "object" && sub.latest_invoice ? sub.latest_invoice : null;
  const changedAt = Math.max(
    sub.created,
    item.current_period_start,
    sub.canceled_at ?? 0,
    sub.ended_at ?? 0,
    invoice?.created ?? 0,
    ...Object.values(invoice?.status_transitions ?? {}).map((t) => t ?? 0),
  );
  return subscriptionSnapshotSchema.parse({
    id: sub.id,
    customer: sub.customer,
    status: sub.status,
    created: toIso(sub.created),
    lookup_key: item.price.lookup_key ?? null,
    price_id: item.price.id,
    current_period_start: toIso(item.current_period_start),
    current_period_end: toIso(item.current_period_end),
    cancel_at_period_end: sub.cancel_at_period_end,
    cancel_at: optionalIso(sub.cancel_at),
    canceled_at: optionalIso(sub.canceled_at),
    changed_at: toIso(changedAt),
  });
}

export const eventOutcomeSchema = z.object({
  outcome: z.enum(["applied", "stale", "superseded", "unknown_customer", "duplicate", "needs_refetch"]),
  business_id: z.string().uuid().nullish(),
  status: z.string().nullish(),
});
export type EventOutcome = z.infer<typeof eventOutcomeSchema>;

export interface StripeEventArgs {
  eventId: string;
  eventType: string;
  /** The event's `created`, as ISO time. */
  created: string;
  /** The subscription as the event shows it, or as re-read from Stripe (`fetched`); none to ask first. */
  subscription: SubscriptionSnapshot | null;
  fetched: boolean;
  /** invoice.paid: the start of the period the invoice paid for (the quota starts again). */
  paidPeriodStart?: string | null;
}

export interface ServiceBillingRpc {
  /** Stores the business's Stripe customer unless it has one; returns the stored one. */
  recordStripeCustomer(businessId: string, customerId: string, replaces?: string): Promise<string>;
  recordStripeEvent(args: StripeEventArgs): Promise<EventOutcome>;
}

export function serviceBillingRpc(call: RawRpc): ServiceBillingRpc {
  const checked = async (name: keyof Functions, run: () => Promise<unknown>) => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof DatabaseError) throw new RpcError(name, `${err.code} ${err.message}`);
      throw err;
    }
  };
  return {
    async recordStripeCustomer(businessId, customerId, replaces) {
      const data = await checked("record_stripe_customer", () =>
        call("record_stripe_customer", { p_business_id: businessId, p_customer_id: customerId, ...(replaces ? { p_replaces: replaces } : {}) }));
      return parse("record_stripe_customer", z.string().startsWith("cus_"), data);
    },
    async recordStripeEvent(a) {
      const data = await checked("record_stripe_event", () =>
        call("record_stripe_event", {
          p_event_id: a.eventId,
          p_event_type: a.eventType,
          p_event_created: a.created,
          p_fetched: a.fetched,
          ...(a.subscription ? { p_subscription: a.subscription } : {}),
          ...(a.paidPeriodStart ? { p_paid_period_start: a.paidPeriodStart } : {}),
        }));
      return parse("record_stripe_event", eventOutcomeSchema, data);
    },
  };
}

const clientOptions = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

function rawRpc(db: ReturnType<typeof createClient<Database>>): RawRpc {
  return async (name, args) => {
    const { data, error } = await db.rpc(name, args);
    if (error) throw new DatabaseError(error.code ?? "", error.message);
    return data;
  };
}

/** The owner RPC as the caller: the anon key plus the caller's own Authorization header. */
export function supabaseOwnerRpc(env: Pick<BillingEnv, "SUPABASE_URL" | "SUPABASE_ANON_KEY">, authorization: string): OwnerBillingRpc {
  const db = createClient<Database>(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
    ...clientOptions,
    global: { headers: { Authorization: authorization } },
  });
  return ownerBillingRpc(rawRpc(db));
}

export function supabaseServiceBillingRpc(env: Pick<StripeWebhookEnv, "SUPABASE_URL" | "SUPABASE_SERVICE_ROLE_KEY">): ServiceBillingRpc {
  return serviceBillingRpc(rawRpc(createClient<Database>(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY, clientOptions)));
}
