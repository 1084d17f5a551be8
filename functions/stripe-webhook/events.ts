// Which Stripe events change a business's subscription, and what each says: the subscription it is
// about (and its snapshot when the event carries the subscription itself), and for a paid invoice the
// period it paid for. Everything else is acknowledged and ignored.
import { z } from "zod";
import { type SubscriptionSnapshot, snapshotOf } from "../_shared/billing.ts";
import { zodMessage } from "../_shared/http.ts";

export const SUBSCRIPTION_EVENT_TYPES = [
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
  "customer.subscription.pending_update_applied",
  "customer.subscription.pending_update_expired",
  "customer.subscription.trial_will_end",
] as const;

/** Events whose object is not the subscription: the subscription is re-read from Stripe. */
export const OTHER_EVENT_TYPES = ["checkout.session.completed", "invoice.paid", "invoice.payment_failed"] as const;

/** The event types to enable on the Stripe webhook endpoint. */
export const HANDLED_EVENT_TYPES: readonly string[] = [...SUBSCRIPTION_EVENT_TYPES, ...OTHER_EVENT_TYPES];

export interface RelevantEvent {
  subscriptionId: string;
  /** The subscription as the event shows it; null when it must be read from Stripe. */
  snapshot: SubscriptionSnapshot | null;
  /** invoice.paid: when the paid period starts (ISO). */
  paidPeriodStart: string | null;
}

const unix = z.number().int().nonnegative();
const idOf = z.union([z.string(), z.object({ id: z.string() })]).transform((v) => (typeof v === "string" ? v : v.id));

const sessionSchema = z.object({ mode: z.string(), subscription: idOf.nullable().optional() });

// This API version: an invoice names its subscription under parent.subscription_details, and each
// subscription line carries the period it bills (the new period for a renewal, unlike the
// invoice's own period_start/end, which cover the one just ended).
const invoiceSchema = z.object({
  parent: z.object({
    subscription_details: z.object({ subscription: idOf.nullable().optional() }).nullable().optional(),
  }).nullable().optional(),
  lines: z.object({
    data: z.array(z.object({
      parent: z.object({ type: z.string() }).nullable().optional(),
      period: z.object({ start: unix, end: unix }),
    })),
  }),
});

function parseObject<S extends z.ZodTypeAny>(type: string, schema: S, object: unknown): z.output<S> {
  const parsed = schema.safeParse(object);
  if (!parsed.success) throw new Error(`${type}: unexpected object: ${zodMessage(parsed.error)}`);
  return parsed.data;
}

/** What the event means for a subscription, or null when it changes none. */
export function relevantEvent(event: { type: string; data: { object: unknown } }): RelevantEvent | null {
  const object = event.data.object;
  if ((SUBSCRIPTION_EVENT_TYPES as readonly string[]).includes(event.type)) {
    const snapshot = snapshotOf(object);
    return { subscriptionId: snapshot.id, snapshot, paidPeriodStart: null };
  }
  if (event.type === "checkout.session.completed") {
    const session = parseObject(event.type, sessionSchema, object);
    if (session.mode !== "subscription" || !session.subscription) return null;
    return { subscriptionId: session.subscription, snapshot: null, paidPeriodStart: null };
  }
  if (event.type === "invoice.paid" || event.type === "invoice.payment_failed") {
    const invoice = parseObject(event.type, invoiceSchema, object);
    const subscriptionId = invoice.parent?.subscription_details?.subscription;
    if (!subscriptionId) return null;
    const starts = invoice.lines.data.filter((l) => l.parent?.type === "subscription_item_details").map((l) => l.period.start);
    const paidPeriodStart = event.type === "invoice.paid" && starts.length > 0 ? new Date(Math.max(...starts) * 1000).toISOString() : null;
    return { subscriptionId, snapshot: null, paidPeriodStart };
  }
  return null;
}
