// The emulator's shared context: the store, the event log and the scheduler that runs whatever
// the clock makes due (renewals, invoice finalization, payment retries, expiries). API handlers,
// pages and the control API all change state through it, so every change emits its events.
import type Stripe from "stripe";
import { runDueWork, nextDueAt } from "./billing.ts";
import type { CheckoutSessionRec, EventRec, InvoiceRec, SubscriptionRec } from "./records.ts";
import { checkoutSessionShape } from "./shapes-checkout.ts";
import { invoiceShape, subscriptionShape } from "./shapes-billing.ts";
import type { Store } from "./store.ts";
import type { Webhooks } from "./webhooks.ts";

export class Core {
  /** The API request being handled, stamped on the events it causes (null for the clock and pages). */
  request: EventRec["request"] = { id: null, idempotency_key: null };
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly store: Store,
    readonly webhooks: Webhooks,
    readonly publicUrl: string,
    readonly apiVersion: string,
    readonly log: (line: string) => void,
  ) {}

  subscription(sub: SubscriptionRec): Stripe.Subscription {
    return subscriptionShape(this.store, sub);
  }

  invoice(inv: InvoiceRec): Stripe.Invoice {
    return invoiceShape(this.store, this.publicUrl, inv);
  }

  checkoutSession(session: CheckoutSessionRec): Stripe.Checkout.Session {
    return checkoutSessionShape(this.store, this.publicUrl, session);
  }

  emit(type: string, object: { id: string }, previous: Record<string, unknown> | null = null): void {
    this.webhooks.emit(type, object, previous, this.request);
  }

  /** Runs `change` on a subscription and emits customer.subscription.updated with what changed. */
  updateSubscription(sub: SubscriptionRec, change: () => void): void {
    const before = this.subscription(sub) as unknown as Record<string, unknown>;
    change();
    const after = this.subscription(sub);
    const previous = changedAttributes(before, after as unknown as Record<string, unknown>);
    this.store.changed();
    if (previous) this.emit("customer.subscription.updated", after, previous);
  }

  /** Runs `work` as a change with no API request behind it (the clock, a person on a page). */
  automatic<T>(work: () => T): T {
    const previous = this.request;
    this.request = { id: null, idempotency_key: null };
    try {
      return work();
    } finally {
      this.request = previous;
    }
  }

  /** Runs what is due now and arms a timer for the next due moment. */
  kick(): void {
    if (this.closed) return;
    runDueWork(this, this.store.now());
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = nextDueAt(this);
    if (next !== null) {
      const delay = Math.min(Math.max(next * 1000 - this.store.nowMs(), 1), 2 ** 31 - 1);
      this.timer = setTimeout(() => this.kick(), delay);
      this.timer.unref();
    }
  }

  /** Moves the emulator clock forward, running everything that falls due on the way, in order. */
  advanceClock(targetMs: number): void {
    if (targetMs < this.store.nowMs()) throw new Error("the clock only moves forward");
    runDueWork(this, Math.floor(targetMs / 1000));
    this.store.advanceTo(targetMs);
    this.store.changed();
    this.kick();
    this.webhooks.pump();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** Stripe's `previous_attributes`: the earlier value of every top-level field that changed. */
export function changedAttributes(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> | null {
  const previous: Record<string, unknown> = {};
  for (const key of Object.keys(before)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key];
  }
  return Object.keys(previous).length ? previous : null;
}
