// What happens when a person enters a card: on the hosted checkout page (customer, card and
// subscription are created and the first invoice charged), in the portal (the card becomes the
// default and open invoices are charged again) and on a hosted invoice page.
import { validateCard, type CardEntry } from "./cards.ts";
import { attemptPayment, startSubscription, type PaymentOutcome } from "./billing.ts";
import type { Core } from "./core.ts";
import { invalidState } from "./errors.ts";
import { hasEnded, type CheckoutSessionRec, type CustomerRec, type InvoiceRec, type PaymentMethodRec } from "./records.ts";
import { customerShape, paymentMethodShape } from "./shapes-catalog.ts";
import { randomId } from "./store.ts";

export interface Payer {
  email: string | null;
  name: string | null;
}

/** Saves a checked card on the customer (payment_method.attached). Throws card errors first. */
export function saveCard(core: Core, customerId: string, entry: CardEntry, payer: Payer): PaymentMethodRec {
  const card = validateCard(entry, new Date(core.store.nowMs()));
  const pm: PaymentMethodRec = {
    id: randomId("pm_"),
    created: core.store.now(),
    seq: core.store.nextSeq(),
    customer: customerId,
    cardNumber: card.number,
    brand: card.brand,
    funding: card.funding,
    expMonth: entry.expMonth,
    expYear: entry.expYear < 100 ? 2000 + entry.expYear : entry.expYear,
    billingEmail: payer.email,
    billingName: payer.name,
    metadata: {},
  };
  core.store.paymentMethods.set(pm.id, pm);
  core.store.changed();
  core.emit("payment_method.attached", paymentMethodShape(pm));
  return pm;
}

function newCustomer(core: Core, payer: Payer): CustomerRec {
  const customer: CustomerRec = {
    id: randomId("cus_", 14),
    created: core.store.now(),
    seq: core.store.nextSeq(),
    email: payer.email,
    name: payer.name,
    phone: null,
    description: null,
    metadata: {},
    invoicePrefix: randomId("", 8).toUpperCase(),
    nextInvoiceSequence: 1,
    defaultPaymentMethod: null,
    deleted: false,
  };
  core.store.customers.set(customer.id, customer);
  core.emit("customer.created", customerShape(customer));
  return customer;
}

/**
 * "Pay" on the hosted page. A card refused at entry throws (nothing is created, the page shows the
 * error); otherwise the session completes even when the first charge fails (4000 0000 0000 0341):
 * the subscription is then `incomplete` and the session `unpaid`.
 */
export function completeCheckout(core: Core, session: CheckoutSessionRec, entry: CardEntry, payer: Payer): void {
  if (session.status !== "open") throw invalidState(`This Checkout Session is ${session.status}.`);
  if (session.expiresAt <= core.store.now()) throw invalidState("This Checkout Session has expired.");
  validateCard(entry, new Date(core.store.nowMs()));
  const existing = session.customer ? core.store.customers.get(session.customer) : undefined;
  if (session.customer && (!existing || existing.deleted)) throw invalidState("The customer of this Checkout Session no longer exists.");
  const email = existing?.email ?? session.customerEmail ?? payer.email;
  const customer = existing ?? newCustomer(core, { email, name: payer.name });
  const pm = saveCard(core, customer.id, entry, { email, name: payer.name });
  const { sub, invoice } = startSubscription(core, session, customer.id, pm);
  session.status = "complete";
  session.customer = customer.id;
  session.subscription = sub.id;
  session.invoice = invoice.id;
  session.customerDetails = { email, name: payer.name };
  session.paymentStatus = invoice.status !== "paid" ? "unpaid" : invoice.total === 0 ? "no_payment_required" : "paid";
  core.store.changed();
  core.emit("checkout.session.completed", core.checkoutSession(session));
}

/**
 * The portal's "Update payment method": the new card becomes the default of the customer and its
 * subscriptions; with `chargeOpenInvoices` outstanding invoices are charged to it at once.
 */
export function replaceDefaultCard(core: Core, customer: CustomerRec, entry: CardEntry, payer: Payer, chargeOpenInvoices: boolean): { pm: PaymentMethodRec; outcomes: PaymentOutcome[] } {
  const pm = saveCard(core, customer.id, entry, payer);
  const before = customerShape(customer);
  customer.defaultPaymentMethod = pm.id;
  core.emit("customer.updated", customerShape(customer), { invoice_settings: before.invoice_settings });
  const outcomes: PaymentOutcome[] = [];
  for (const sub of core.store.subscriptions.values()) {
    if (sub.customer !== customer.id || hasEnded(sub)) continue;
    core.updateSubscription(sub, () => (sub.defaultPaymentMethod = pm.id));
  }
  if (chargeOpenInvoices) {
    const open = [...core.store.invoices.values()].filter((i) => i.customer === customer.id && i.status === "open").sort((a, b) => a.seq - b.seq);
    for (const invoice of open) outcomes.push(attemptPayment(core, invoice, { automatic: false, paymentMethod: pm }));
  }
  return { pm, outcomes };
}

/** Paying one open invoice with a newly entered card (the hosted invoice page). */
export function payInvoiceWithCard(core: Core, invoice: InvoiceRec, entry: CardEntry, payer: Payer): PaymentOutcome {
  if (invoice.status !== "open") throw invalidState(`This invoice is ${invoice.status}.`);
  const pm = saveCard(core, invoice.customer, entry, payer);
  const outcome = attemptPayment(core, invoice, { automatic: false, paymentMethod: pm });
  const sub = invoice.subscription ? core.store.subscriptions.get(invoice.subscription) : undefined;
  if (outcome.ok && sub && !hasEnded(sub)) {
    core.updateSubscription(sub, () => (sub.defaultPaymentMethod = pm.id));
  }
  return outcome;
}
