// Stripe Billing's lifecycle: a subscription starts from a completed Checkout Session, every
// period ends with a renewal invoice that is finalized (after Stripe's hour in draft) and charged
// to the saved card, failed charges are retried on the dunning schedule (past_due meanwhile, then
// canceled / unpaid / left past_due), trials end, incomplete subscriptions expire after 23 hours.
import { cardFailure, testCardByNumber } from "./cards.ts";
import type { Core } from "./core.ts";
import { isLive, type CheckoutSessionRec, type Interval, type InvoicePaymentRec, type InvoiceRec, type PaymentMethodRec, type SubscriptionRec } from "./records.ts";
import { intervalText, money } from "./format.ts";
import { priceOf } from "./shapes-catalog.ts";
import { randomId } from "./store.ts";

const day = 86_400;

/** The next period boundary: months keep the anchor's day (clamped to the month's last day). */
export function addInterval(from: number, interval: Interval, count: number, anchor: number): number {
  if (interval === "day") return from + count * day;
  if (interval === "week") return from + count * 7 * day;
  const date = new Date(from * 1000);
  const anchorDate = new Date(anchor * 1000);
  const months = date.getUTCMonth() + (interval === "year" ? 12 * count : count);
  const year = date.getUTCFullYear() + Math.floor(months / 12);
  const month = ((months % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const dayOfMonth = Math.min(anchorDate.getUTCDate(), lastDay);
  return Date.UTC(year, month, dayOfMonth, anchorDate.getUTCHours(), anchorDate.getUTCMinutes(), anchorDate.getUTCSeconds()) / 1000;
}

function periodEndAfter(core: Core, sub: SubscriptionRec, start: number): number {
  const recurring = priceOf(core.store, sub.items[0].price).recurring;
  if (!recurring) throw new Error(`internal: subscription ${sub.id} has a one-time price`);
  return addInterval(start, recurring.interval, recurring.intervalCount, sub.billingCycleAnchor);
}

// ------------------------------------------------------------------------------------ invoices

function createInvoice(
  core: Core,
  sub: SubscriptionRec,
  reason: InvoiceRec["billingReason"],
  invoicePeriod: { start: number; end: number },
  options: { trial: boolean },
): InvoiceRec {
  const { store } = core;
  const customer = store.customers.get(sub.customer);
  const now = store.now();
  const invoice: InvoiceRec = {
    id: randomId("in_"),
    created: now,
    seq: store.nextSeq(),
    number: null,
    customer: sub.customer,
    subscription: sub.id,
    subscriptionMetadata: { ...sub.metadata },
    billingReason: reason,
    status: "draft",
    currency: sub.currency,
    lines: [],
    periodStart: invoicePeriod.start,
    periodEnd: invoicePeriod.end,
    total: 0,
    amountPaid: 0,
    attemptCount: 0,
    attempted: false,
    nextPaymentAttempt: null,
    autoAdvance: true,
    finalizesAt: null,
    finalizedAt: null,
    paidAt: null,
    voidedAt: null,
    markedUncollectibleAt: null,
    customerEmail: customer?.email ?? null,
    customerName: customer?.name ?? null,
    metadata: {},
    payments: [],
  };
  for (const item of sub.items) {
    const price = priceOf(store, item.price);
    const product = store.products.get(price.product)?.name ?? price.product;
    const amount = options.trial ? 0 : price.unitAmount * item.quantity;
    const r = price.recurring!;
    const every = r.intervalCount > 1 ? `every ${intervalText(r.interval, r.intervalCount)}` : r.interval;
    invoice.lines.push({
      id: randomId("il_"),
      price: price.id,
      quantity: item.quantity,
      amount,
      description: options.trial ? `Trial period for ${product}` : `${item.quantity} × ${product} (at ${money(price.unitAmount, price.currency)} / ${every})`,
      periodStart: item.periodStart,
      periodEnd: item.periodEnd,
      subscriptionItem: item.id,
    });
    invoice.total += amount;
  }
  store.invoices.set(invoice.id, invoice);
  sub.latestInvoice = invoice.id;
  store.changed();
  return invoice;
}

/** draft -> open with a number; a zero-amount invoice is paid on the spot, as Stripe does. */
function finalizeInvoice(core: Core, invoice: InvoiceRec): void {
  const { store } = core;
  const customer = store.customers.get(invoice.customer);
  invoice.status = "open";
  invoice.finalizedAt = store.now();
  invoice.finalizesAt = null;
  if (customer) invoice.number = `${customer.invoicePrefix}-${String(customer.nextInvoiceSequence++).padStart(4, "0")}`;
  else invoice.number = `EMU-${String(++store.invoiceNumbers).padStart(4, "0")}`;
  store.changed();
  core.emit("invoice.finalized", core.invoice(invoice));
  if (invoice.total === 0) markPaid(core, invoice);
}

function markPaid(core: Core, invoice: InvoiceRec): void {
  invoice.status = "paid";
  invoice.amountPaid = invoice.total;
  invoice.paidAt = core.store.now();
  invoice.nextPaymentAttempt = null;
  core.store.changed();
  const shape = core.invoice(invoice);
  core.emit("invoice.paid", shape);
  core.emit("invoice.payment_succeeded", shape);
}

/** The card a charge uses: the subscription's default, else the customer's invoice default. */
export function paymentMethodFor(core: Core, invoice: InvoiceRec): PaymentMethodRec | null {
  const sub = invoice.subscription ? core.store.subscriptions.get(invoice.subscription) : undefined;
  const customer = core.store.customers.get(invoice.customer);
  const id = sub?.defaultPaymentMethod ?? customer?.defaultPaymentMethod ?? null;
  return (id && core.store.paymentMethods.get(id)) || null;
}

export interface PaymentOutcome {
  ok: boolean;
  failure?: NonNullable<InvoicePaymentRec["failure"]>;
}

/**
 * Charges an open invoice. `automatic` attempts (the first charge and dunning retries) move the
 * retry schedule and the subscription's status; manual ones (API `pay`, a new card on a page)
 * only settle the invoice when they succeed.
 */
export function attemptPayment(core: Core, invoice: InvoiceRec, options: { automatic: boolean; paymentMethod?: PaymentMethodRec }): PaymentOutcome {
  const { store } = core;
  if (invoice.status !== "open") throw new Error(`internal: invoice ${invoice.id} is ${invoice.status}`);
  const pm = options.paymentMethod ?? paymentMethodFor(core, invoice);
  const card = pm ? testCardByNumber(pm.cardNumber) : undefined;
  const now = store.now();
  invoice.attemptCount++;
  invoice.attempted = true;
  const payment: InvoicePaymentRec = {
    id: randomId("inpay_"),
    created: now,
    paymentIntent: randomId("pi_"),
    amount: invoice.total,
    status: "paid",
    automatic: options.automatic,
    paidAt: now,
    failure: null,
  };
  invoice.payments.push(payment);
  const sub = invoice.subscription ? store.subscriptions.get(invoice.subscription) : undefined;

  if (pm && card && !card.fails) {
    markPaid(core, invoice);
    if (sub && sub.latestInvoice === invoice.id && ["incomplete", "past_due", "unpaid"].includes(sub.status)) {
      core.updateSubscription(sub, () => (sub.status = "active"));
    }
    return { ok: true };
  }

  const error = card ? cardFailure(card).body : null;
  payment.status = "failed";
  payment.paidAt = null;
  payment.failure = error
    ? { code: error.code ?? "card_declined", declineCode: error.decline_code ?? null, message: error.message }
    : { code: "invoice_no_payment_method_types", declineCode: null, message: "This customer has no attached payment source or default payment method." };
  const renewal = invoice.billingReason !== "subscription_create";
  if (options.automatic) {
    // The first invoice of a subscription is not retried: the subscription stays incomplete.
    const retryDays = store.settings.dunning.retryDays;
    const automaticAttempts = invoice.payments.filter((p) => p.automatic).length;
    invoice.nextPaymentAttempt = renewal && automaticAttempts <= retryDays.length ? now + retryDays[automaticAttempts - 1] * day : null;
  }
  store.changed();
  core.emit("invoice.payment_failed", core.invoice(invoice));
  if (sub && renewal && options.automatic) {
    if (sub.status === "active" || sub.status === "trialing") core.updateSubscription(sub, () => (sub.status = "past_due"));
    if (invoice.nextPaymentAttempt === null) afterFinalAttempt(core, sub);
  }
  return { ok: false, failure: payment.failure };
}

function afterFinalAttempt(core: Core, sub: SubscriptionRec): void {
  const action = core.store.settings.dunning.afterFinalAttempt;
  if (action === "cancel") endSubscription(core, sub, core.store.now(), "payment_failed");
  else if (action === "unpaid" && sub.status !== "unpaid") core.updateSubscription(sub, () => (sub.status = "unpaid"));
}

// ------------------------------------------------------------------------------- subscriptions

/** Creates the subscription a completed Checkout Session pays for and charges its first invoice. */
export function startSubscription(core: Core, session: CheckoutSessionRec, customerId: string, pm: PaymentMethodRec): { sub: SubscriptionRec; invoice: InvoiceRec } {
  const { store } = core;
  const now = store.now();
  const firstPrice = priceOf(store, session.lineItems[0].price);
  const trialDays = session.subscriptionData.trialPeriodDays;
  const trialEnd = session.subscriptionData.trialEnd ?? (trialDays ? now + trialDays * day : null);
  const recurring = firstPrice.recurring!;
  const periodEnd = trialEnd ?? addInterval(now, recurring.interval, recurring.intervalCount, now);
  const sub: SubscriptionRec = {
    id: randomId("sub_"),
    created: now,
    seq: store.nextSeq(),
    customer: customerId,
    status: trialEnd ? "trialing" : "incomplete",
    items: session.lineItems.map((item) => ({
      id: randomId("si_", 14),
      created: now,
      price: item.price,
      quantity: item.quantity,
      metadata: {},
      periodStart: now,
      periodEnd,
    })),
    currency: session.currency,
    startDate: now,
    billingCycleAnchor: trialEnd ?? now,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    canceledAt: null,
    endedAt: null,
    cancellation: { reason: null, feedback: null, comment: null },
    trialStart: trialEnd ? now : null,
    trialEnd,
    latestInvoice: null,
    defaultPaymentMethod: pm.id,
    metadata: { ...session.subscriptionData.metadata },
    description: session.subscriptionData.description,
    trialWillEndSent: false,
  };
  store.subscriptions.set(sub.id, sub);
  const invoice = createInvoice(core, sub, "subscription_create", { start: now, end: now }, { trial: trialEnd !== null });
  core.emit("customer.subscription.created", core.subscription(sub));
  core.emit("invoice.created", core.invoice(invoice));
  finalizeInvoice(core, invoice);
  if (invoice.status === "open") attemptPayment(core, invoice, { automatic: true });
  return { sub, invoice };
}

/** Ends a subscription now (or at `at`): canceled, no further invoices or retries. */
export function endSubscription(core: Core, sub: SubscriptionRec, at: number, reason: SubscriptionRec["cancellation"]["reason"]): void {
  sub.status = "canceled";
  sub.endedAt = at;
  sub.canceledAt ??= at;
  sub.cancellation.reason ??= reason;
  for (const invoice of core.store.invoices.values()) {
    if (invoice.subscription === sub.id && invoice.status === "open") invoice.nextPaymentAttempt = null;
  }
  core.store.changed();
  core.emit("customer.subscription.deleted", core.subscription(sub));
}

/** A period ends: cancel if asked to, else roll the period and bill the next one. */
function renew(core: Core, sub: SubscriptionRec): void {
  const { store } = core;
  const end = sub.items[0].periodEnd;
  if (sub.cancelAtPeriodEnd || (sub.cancelAt !== null && sub.cancelAt <= end)) {
    endSubscription(core, sub, end, "cancellation_requested");
    return;
  }
  const previousStart = sub.items[0].periodStart;
  const nextEnd = periodEndAfter(core, sub, end);
  core.updateSubscription(sub, () => {
    for (const item of sub.items) {
      item.periodStart = end;
      item.periodEnd = nextEnd;
    }
    if (sub.status === "trialing") sub.status = "active";
  });
  const invoice = createInvoice(core, sub, "subscription_cycle", { start: previousStart, end }, { trial: false });
  if (sub.status === "unpaid") {
    // Stripe keeps invoicing an unpaid subscription but leaves the invoices as drafts.
    invoice.autoAdvance = false;
  } else {
    invoice.finalizesAt = end + store.settings.invoiceFinalizeDelaySeconds;
  }
  core.emit("invoice.created", core.invoice(invoice));
  if (invoice.finalizesAt !== null && invoice.finalizesAt <= store.now()) advanceDraft(core, invoice);
}

/**
 * Moves a subscription item to another price without proration (what `proration_behavior=none`
 * does). A different billing interval restarts the cycle now; returns true when that happened, and
 * the caller then bills the new period with `invoiceNow` (unless the subscription is trialing).
 */
export function changePrice(core: Core, sub: SubscriptionRec, itemId: string, priceId: string, quantity?: number): boolean {
  const now = core.store.now();
  const item = sub.items.find((i) => i.id === itemId)!;
  const before = priceOf(core.store, item.price).recurring!;
  const after = priceOf(core.store, priceId).recurring!;
  item.price = priceId;
  if (quantity !== undefined) item.quantity = quantity;
  if (before.interval === after.interval && before.intervalCount === after.intervalCount) return false;
  sub.billingCycleAnchor = now;
  for (const i of sub.items) {
    i.periodStart = now;
    i.periodEnd = addInterval(now, after.interval, after.intervalCount, now);
  }
  return sub.status !== "trialing";
}

/** Bills the current period at once (a plan change to another interval restarts the cycle now). */
export function invoiceNow(core: Core, sub: SubscriptionRec): void {
  const now = core.store.now();
  const invoice = createInvoice(core, sub, "subscription_update", { start: now, end: now }, { trial: false });
  core.emit("invoice.created", core.invoice(invoice));
  advanceDraft(core, invoice);
}

function advanceDraft(core: Core, invoice: InvoiceRec): void {
  finalizeInvoice(core, invoice);
  if (invoice.status === "open") attemptPayment(core, invoice, { automatic: true });
}

function expireIncomplete(core: Core, sub: SubscriptionRec): void {
  const now = core.store.now();
  for (const invoice of core.store.invoices.values()) {
    if (invoice.subscription === sub.id && invoice.status === "open") {
      invoice.status = "void";
      invoice.voidedAt = now;
      invoice.nextPaymentAttempt = null;
      core.emit("invoice.voided", core.invoice(invoice));
    }
  }
  core.updateSubscription(sub, () => {
    sub.status = "incomplete_expired";
    sub.endedAt = now;
    sub.canceledAt = now;
  });
}

export function expireCheckoutSession(core: Core, session: CheckoutSessionRec): void {
  session.status = "expired";
  core.store.changed();
  core.emit("checkout.session.expired", core.checkoutSession(session));
}

// ------------------------------------------------------------------------------- the clock

interface Job {
  at: number;
  seq: number;
  run: () => void;
}

function dueJobs(core: Core): Job[] {
  const { store } = core;
  const jobs: Job[] = [];
  for (const sub of store.subscriptions.values()) {
    if (sub.status === "incomplete") {
      jobs.push({ at: sub.created + store.settings.incompleteExpirySeconds, seq: sub.seq, run: () => expireIncomplete(core, sub) });
      continue;
    }
    if (!isLive(sub)) continue;
    if (sub.status === "trialing" && sub.trialEnd !== null && !sub.trialWillEndSent) {
      const at = Math.max(sub.created, sub.trialEnd - store.settings.trialWillEndSeconds);
      jobs.push({
        at,
        seq: sub.seq,
        run: () => {
          sub.trialWillEndSent = true;
          core.emit("customer.subscription.trial_will_end", core.subscription(sub));
        },
      });
    }
    const end = sub.items[0].periodEnd;
    if (sub.cancelAt !== null && sub.cancelAt < end) {
      jobs.push({ at: sub.cancelAt, seq: sub.seq, run: () => endSubscription(core, sub, sub.cancelAt!, "cancellation_requested") });
    } else {
      jobs.push({ at: end, seq: sub.seq, run: () => renew(core, sub) });
    }
  }
  for (const invoice of store.invoices.values()) {
    if (invoice.status === "draft" && invoice.autoAdvance && invoice.finalizesAt !== null) {
      jobs.push({ at: invoice.finalizesAt, seq: invoice.seq, run: () => advanceDraft(core, invoice) });
    } else if (invoice.status === "open" && invoice.nextPaymentAttempt !== null) {
      jobs.push({ at: invoice.nextPaymentAttempt, seq: invoice.seq, run: () => attemptPayment(core, invoice, { automatic: true }) });
    }
  }
  for (const session of store.checkoutSessions.values()) {
    if (session.status === "open") jobs.push({ at: session.expiresAt, seq: session.seq, run: () => expireCheckoutSession(core, session) });
  }
  return jobs;
}

export function nextDueAt(core: Core): number | null {
  let next: number | null = null;
  for (const job of dueJobs(core)) if (next === null || job.at < next) next = job.at;
  return next;
}

/** Runs every job due at or before `until` (unix seconds), earliest first, each at its own time. */
export function runDueWork(core: Core, until: number): number {
  let ran = 0;
  for (;;) {
    const due = dueJobs(core).filter((job) => job.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
    if (!due) return ran;
    if (++ran > 100_000) throw new Error("internal: the billing clock is not making progress");
    core.store.advanceTo(due.at * 1000);
    core.automatic(() => core.store.at(Math.max(due.at, core.store.now()), due.run));
  }
}
