// /v1 subscriptions, invoices and events.
import type { Route } from "./api.ts";
import { listOf } from "./api.ts";
import { attemptPayment, changePrice, endSubscription, invoiceNow } from "./billing.ts";
import type { Core } from "./core.ts";
import { cardError, invalidParam, invalidState, noSuch } from "./errors.ts";
import type { Params } from "./form.ts";
import { hasEnded, type InvoiceRec, type SubscriptionRec } from "./records.ts";
import { eventShape } from "./shapes-checkout.ts";
import { invoiceShape } from "./shapes-billing.ts";

const feedbackValues = ["customer_service", "low_quality", "missing_features", "other", "switched_service", "too_complex", "too_expensive", "unused"] as const;

function subscriptionOr404(core: Core, id: string): SubscriptionRec {
  const sub = core.store.subscriptions.get(id);
  if (!sub) throw noSuch("subscription", id);
  return sub;
}

function readCancellationDetails(params: Params): { comment?: string | null; feedback?: SubscriptionRec["cancellation"]["feedback"] | null } {
  const details = params.object("cancellation_details");
  if (!details) return {};
  const comment = details.nullableString("comment");
  if (comment && comment.length > 5000) throw invalidParam("cancellation_details[comment]", "comment must be at most 5000 characters");
  const raw = details.string("feedback");
  const feedback = raw === "" ? null : raw === undefined ? undefined : details.enumeration("feedback", feedbackValues);
  details.rejectUnknown();
  return { comment, feedback };
}

interface PriceSwitch {
  itemId: string;
  price: string;
  quantity: number | undefined;
}

function readItems(core: Core, params: Params, sub: SubscriptionRec): PriceSwitch[] | undefined {
  const items = params.objects("items");
  if (!items) return undefined;
  return items.map((item) => {
    item.unsupported("deleted", "price_data", "billing_thresholds", "discounts", "plan");
    const itemId = item.string("id");
    const priceId = item.string("price");
    const quantity = item.integer("quantity", { min: 1 });
    item.metadata();
    item.ignore("tax_rates", "clear_usage");
    item.rejectUnknown();
    if (!itemId) throw invalidParam(item.name("id"), "The Stripe emulator can only change existing items: pass items[n][id].", "parameter_unsupported");
    const current = sub.items.find((i) => i.id === itemId);
    if (!current) throw invalidParam(item.name("id"), `Invalid subscription_item: ${itemId} is not part of subscription ${sub.id}.`);
    const price = priceId ? core.store.prices.get(priceId) : core.store.prices.get(current.price);
    if (!price) throw noSuch("price", priceId!, item.name("price"));
    if (!price.active) throw invalidParam(item.name("price"), "The price specified is inactive. This field only accepts active prices.");
    if (!price.recurring) throw invalidParam(item.name("price"), "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.");
    if (price.currency !== sub.currency) throw invalidParam(item.name("price"), `The price's currency (${price.currency}) must match the subscription's currency (${sub.currency}).`);
    return { itemId, price: price.id, quantity };
  });
}

function updateSubscription(core: Core, params: Params, id: string): object {
  const { store } = core;
  const sub = subscriptionOr404(core, id);
  const now = store.now();
  const metadata = params.metadata("metadata", sub.metadata);
  const cancellation = readCancellationDetails(params);
  const cancelAtPeriodEnd = params.boolean("cancel_at_period_end");
  const cancelAtRaw = params.has("cancel_at") ? params.string("cancel_at") : undefined;
  let cancelAt: number | null | undefined;
  if (cancelAtRaw === "") cancelAt = null;
  else if (cancelAtRaw !== undefined) {
    if (!/^\d+$/.test(cancelAtRaw)) throw invalidParam("cancel_at", "The emulator accepts a timestamp (or '') for cancel_at.", "parameter_unsupported");
    cancelAt = Number(cancelAtRaw);
    if (cancelAt <= now) throw invalidParam("cancel_at", "cancel_at must be in the future.");
  }
  const description = params.nullableString("description");
  const defaultPm = params.nullableString("default_payment_method");
  if (defaultPm && store.paymentMethods.get(defaultPm)?.customer !== sub.customer) throw noSuch("PaymentMethod", defaultPm, "default_payment_method");
  const items = readItems(core, params, sub);
  const trialEnd = params.string("trial_end");
  if (trialEnd !== undefined && trialEnd !== "now") throw invalidParam("trial_end", "The Stripe emulator supports trial_end=now only on update.", "parameter_unsupported");
  const anchor = params.string("billing_cycle_anchor");
  if (anchor !== undefined && anchor !== "unchanged") throw invalidParam("billing_cycle_anchor", "The Stripe emulator supports billing_cycle_anchor=unchanged only.", "parameter_unsupported");
  params.enumeration("proration_behavior", ["always_invoice", "create_prorations", "none"]);
  params.enumeration("payment_behavior", ["allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"]);
  params.ignore("automatic_tax", "default_tax_rates", "off_session", "payment_settings", "trial_from_plan", "trial_settings", "invoice_settings", "default_source", "proration_date");
  params.unsupported("add_invoice_items", "application_fee_percent", "billing_schedules", "billing_thresholds", "collection_method", "days_until_due", "discounts", "on_behalf_of", "pause_collection", "pending_invoice_item_interval", "transfer_data");
  params.rejectUnknown();

  const wantsOnlyNotes = cancelAtPeriodEnd === undefined && cancelAt === undefined && !items && trialEnd === undefined && defaultPm === undefined;
  if (hasEnded(sub) && !wantsOnlyNotes) {
    throw invalidState("A canceled subscription can only update its cancellation_details and metadata.");
  }
  if (sub.status === "incomplete" && (cancelAtPeriodEnd !== undefined || cancelAt !== undefined || items || trialEnd !== undefined)) {
    throw invalidState("An incomplete subscription can only update its metadata and default payment method until its first invoice is paid.");
  }
  if (trialEnd === "now" && sub.status !== "trialing") throw invalidState("trial_end=now is only valid while the subscription is trialing.", "trial_end");

  let immediateInvoice = false;
  core.updateSubscription(sub, () => {
    if (metadata) sub.metadata = metadata;
    if (description !== undefined) sub.description = description;
    if (defaultPm !== undefined) sub.defaultPaymentMethod = defaultPm;
    if (cancellation.comment !== undefined) sub.cancellation.comment = cancellation.comment;
    if (cancellation.feedback !== undefined) sub.cancellation.feedback = cancellation.feedback;
    const periodEnd = sub.items[0].periodEnd;
    if (cancelAtPeriodEnd !== undefined) {
      sub.cancelAtPeriodEnd = cancelAtPeriodEnd;
      sub.cancelAt = cancelAtPeriodEnd ? periodEnd : null;
    }
    if (cancelAt !== undefined) {
      sub.cancelAt = cancelAt;
      sub.cancelAtPeriodEnd = cancelAt !== null && cancelAt === periodEnd;
    }
    if (cancelAtPeriodEnd !== undefined || cancelAt !== undefined) {
      const cancelling = sub.cancelAt !== null;
      sub.canceledAt = cancelling ? now : null;
      sub.cancellation.reason = cancelling ? "cancellation_requested" : null;
    }
    for (const change of items ?? []) {
      if (changePrice(core, sub, change.itemId, change.price, change.quantity)) immediateInvoice = true;
    }
    if (trialEnd === "now") {
      sub.trialEnd = now;
      sub.billingCycleAnchor = now;
      for (const i of sub.items) i.periodEnd = now;
    }
  });
  if (immediateInvoice) invoiceNow(core, sub);
  core.kick();
  return core.subscription(sub);
}

function cancelSubscription(core: Core, params: Params, id: string): object {
  const sub = subscriptionOr404(core, id);
  const cancellation = readCancellationDetails(params);
  params.ignore("invoice_now", "prorate");
  params.rejectUnknown();
  if (hasEnded(sub)) throw invalidState(`This subscription has already been canceled (status ${sub.status}).`);
  if (cancellation.comment !== undefined) sub.cancellation.comment = cancellation.comment;
  if (cancellation.feedback !== undefined) sub.cancellation.feedback = cancellation.feedback;
  endSubscription(core, sub, core.store.now(), "cancellation_requested");
  return core.subscription(sub);
}

function listSubscriptions(core: Core, params: Params): object {
  const customer = params.string("customer");
  const price = params.string("price") ?? params.string("plan");
  const status = params.enumeration("status", ["active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid"]);
  params.unsupported("test_clock");
  params.ignore("collection_method", "current_period_end", "current_period_start", "automatic_tax");
  const subs = [...core.store.subscriptions.values()].filter((s) => {
    if (customer !== undefined && s.customer !== customer) return false;
    if (price !== undefined && !s.items.some((i) => i.price === price)) return false;
    if (status === undefined) return !hasEnded(s);
    if (status === "all") return true;
    if (status === "ended") return hasEnded(s);
    return s.status === status;
  });
  return listOf(params, subs, "/v1/subscriptions", (s) => core.subscription(s), "subscription");
}

// ---------------------------------------------------------------------------------- invoices

function invoiceOr404(core: Core, id: string): InvoiceRec {
  const invoice = core.store.invoices.get(id);
  if (!invoice) throw noSuch("invoice", id);
  return invoice;
}

function listInvoices(core: Core, params: Params): object {
  const customer = params.string("customer");
  const subscription = params.string("subscription");
  const status = params.enumeration("status", ["draft", "open", "paid", "uncollectible", "void"]);
  params.ignore("collection_method", "due_date");
  const invoices = [...core.store.invoices.values()].filter(
    (i) => (customer === undefined || i.customer === customer) && (subscription === undefined || i.subscription === subscription) && (status === undefined || i.status === status),
  );
  return listOf(params, invoices, "/v1/invoices", (i) => invoiceShape(core.store, core.publicUrl, i), "invoice");
}

/** POST /v1/invoices/:id/pay — charges now; a decline answers 402 like Stripe (the attempt is kept). */
function payInvoice(core: Core, params: Params, id: string): object {
  const invoice = invoiceOr404(core, id);
  const pmId = params.string("payment_method");
  params.ignore("off_session", "forgive", "mandate", "source");
  params.unsupported("paid_out_of_band");
  params.rejectUnknown();
  if (invoice.status === "paid") throw invalidState("Invoice is already paid", undefined, "invoice_already_paid");
  if (invoice.status === "void" || invoice.status === "uncollectible") throw invalidState(`You cannot pay an invoice with status ${invoice.status}.`, undefined, "invoice_not_editable");
  const pm = pmId ? core.store.paymentMethods.get(pmId) : undefined;
  if (pmId && (!pm || pm.customer !== invoice.customer)) throw noSuch("PaymentMethod", pmId, "payment_method");
  if (invoice.status === "draft") {
    invoice.finalizesAt = core.store.now();
    core.kick();
  }
  if (invoice.status === "open") {
    const outcome = attemptPayment(core, invoice, { automatic: false, paymentMethod: pm });
    if (!outcome.ok) {
      throw cardError(outcome.failure!.code, outcome.failure!.message, outcome.failure!.declineCode ?? undefined);
    }
  }
  return core.invoice(invoice);
}

export const billingRoutes: Route[] = [
  { method: "GET", path: "/subscriptions", handler: listSubscriptions },
  { method: "GET", path: "/subscriptions/{id}", handler: (core, params, id) => {
    params.rejectUnknown();
    return core.subscription(subscriptionOr404(core, id));
  } },
  { method: "POST", path: "/subscriptions/{id}", handler: updateSubscription },
  { method: "DELETE", path: "/subscriptions/{id}", handler: cancelSubscription },
  { method: "GET", path: "/invoices", handler: listInvoices },
  { method: "GET", path: "/invoices/{id}", handler: (core, params, id) => {
    params.rejectUnknown();
    return core.invoice(invoiceOr404(core, id));
  } },
  { method: "GET", path: "/invoices/{id}/lines", handler: (core, params, id) => {
    const invoice = invoiceOr404(core, id);
    const lines = core.invoice(invoice).lines.data.map((line, i) => ({ ...line, created: invoice.created, seq: -i }));
    return listOf(params, lines, `/v1/invoices/${id}/lines`, ({ created: _c, seq: _s, ...line }) => line, "line item");
  } },
  { method: "POST", path: "/invoices/{id}/pay", handler: payInvoice },
  { method: "GET", path: "/events", handler: (core, params) => {
    const type = params.string("type");
    const types = params.strings("types");
    if (type && types) throw invalidState("You may only specify one of these parameters: type, types.");
    params.ignore("delivery_success");
    const matches = (t: string) => (type === undefined || (type.endsWith("*") ? t.startsWith(type.slice(0, -1)) : t === type)) && (!types || types.includes(t));
    const events = [...core.store.events.values()].filter((e) => matches(e.type));
    return listOf(params, events, "/v1/events", (e) => eventShape(core.store, e), "event");
  } },
  { method: "GET", path: "/events/{id}", handler: (core, params, id) => {
    params.rejectUnknown();
    const event = core.store.events.get(id);
    if (!event) throw noSuch("event", id);
    return eventShape(core.store, event);
  } },
];
