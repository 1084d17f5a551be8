// Stripe API shapes for subscriptions, their items and invoices, as API version 2026-10-28
// renders them: billing periods live on the items, an invoice points at its subscription through
// `parent.subscription_details`, and payments are InvoicePayment objects.
import type Stripe from "stripe";
import { planShape, priceOf, priceShape } from "./shapes-catalog.ts";
import type { InvoiceLineRec, InvoicePaymentRec, InvoiceRec, SubscriptionItemRec, SubscriptionRec } from "./records.ts";
import type { Store } from "./store.ts";

export function subscriptionItemShape(store: Store, sub: SubscriptionRec, item: SubscriptionItemRec): Stripe.SubscriptionItem {
  const price = priceOf(store, item.price);
  return {
    id: item.id,
    object: "subscription_item",
    billing_thresholds: null,
    created: item.created,
    current_period_end: item.periodEnd,
    current_period_start: item.periodStart,
    current_trial: null,
    discounts: [],
    metadata: { ...item.metadata },
    plan: planShape(price),
    price: priceShape(price),
    quantity: item.quantity,
    subscription: sub.id,
    tax_rates: [],
  };
}

export function subscriptionShape(store: Store, sub: SubscriptionRec): Stripe.Subscription {
  const items = sub.items.map((item) => subscriptionItemShape(store, sub, item));
  return {
    id: sub.id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: sub.billingCycleAnchor,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: "classic" },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: sub.cancelAt,
    cancel_at_period_end: sub.cancelAtPeriodEnd,
    canceled_at: sub.canceledAt,
    cancellation_details: { ...sub.cancellation } as Stripe.Subscription.CancellationDetails,
    collection_method: "charge_automatically",
    created: sub.created,
    currency: sub.currency,
    customer: sub.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: sub.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: sub.description,
    discounts: [],
    ended_at: sub.endedAt,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: "self" } },
    items: { object: "list", data: items, has_more: false, url: `/v1/subscription_items?subscription=${sub.id}` },
    latest_invoice: sub.latestInvoice,
    livemode: false,
    managed_payments: null,
    metadata: { ...sub.metadata },
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: sub.startDate,
    status: sub.status,
    test_clock: null,
    transfer_data: null,
    trial_end: sub.trialEnd,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: "create_invoice" } },
    trial_start: sub.trialStart,
  };
}

function lineShape(store: Store, invoice: InvoiceRec, line: InvoiceLineRec): Stripe.InvoiceLineItem {
  const price = priceOf(store, line.price);
  return {
    id: line.id,
    object: "line_item",
    amount: line.amount,
    currency: invoice.currency,
    description: line.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: invoice.id,
    livemode: false,
    metadata: {},
    parent: line.subscriptionItem
      ? {
          type: "subscription_item_details",
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: null,
            proration: false,
            proration_details: { credited_items: null },
            subscription: invoice.subscription,
            subscription_item: line.subscriptionItem,
          },
        }
      : null,
    period: { end: line.periodEnd, start: line.periodStart },
    pretax_credit_amounts: [],
    pricing: {
      type: "price_details",
      price_details: { price: price.id, product: price.product },
      unit_amount_decimal: String(price.unitAmount) as unknown as Stripe.Decimal,
    },
    quantity: line.quantity,
    quantity_decimal: String(line.quantity) as unknown as Stripe.Decimal,
    subscription: invoice.subscription,
    subtotal: line.amount,
    taxes: [],
  };
}

export function invoicePaymentShape(invoice: InvoiceRec, payment: InvoicePaymentRec): Stripe.InvoicePayment {
  return {
    id: payment.id,
    object: "invoice_payment",
    amount_paid: payment.status === "paid" ? payment.amount : null,
    amount_requested: payment.amount,
    created: payment.created,
    currency: invoice.currency,
    invoice: invoice.id,
    is_default: true,
    livemode: false,
    payment: { type: "payment_intent", payment_intent: payment.paymentIntent },
    status: payment.status === "paid" ? "paid" : "open",
    status_transitions: { canceled_at: null, paid_at: payment.paidAt },
  };
}

export function invoiceShape(store: Store, publicUrl: string, inv: InvoiceRec): Stripe.Invoice {
  const lines = inv.lines.map((line) => lineShape(store, inv, line));
  const amountDue = inv.status === "void" ? 0 : inv.total;
  const customer = store.customers.get(inv.customer);
  return {
    id: inv.id,
    object: "invoice",
    account_country: "US",
    account_name: "Leadloop (local Stripe emulator)",
    account_tax_ids: null,
    amount_due: amountDue,
    amount_overpaid: 0,
    amount_paid: inv.amountPaid,
    amount_remaining: Math.max(0, amountDue - inv.amountPaid),
    amount_shipping: 0,
    application: null,
    attempt_count: inv.attemptCount,
    attempted: inv.attempted,
    auto_advance: inv.autoAdvance,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: inv.status === "draft" ? inv.finalizesAt : null,
    billing_reason: inv.billingReason,
    collection_method: "charge_automatically",
    created: inv.created,
    currency: inv.currency,
    custom_fields: null,
    customer: inv.customer,
    customer_account: null,
    customer_address: null,
    customer_email: inv.customerEmail ?? customer?.email ?? null,
    customer_name: inv.customerName ?? customer?.name ?? null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: inv.finalizedAt,
    ending_balance: inv.finalizedAt === null ? null : 0,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: inv.status === "draft" ? null : `${publicUrl}/i/${inv.id}`,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: "list", data: lines, has_more: false, url: `/v1/invoices/${inv.id}/lines` },
    livemode: false,
    metadata: { ...inv.metadata },
    next_payment_attempt: inv.nextPaymentAttempt,
    number: inv.number,
    on_behalf_of: null,
    parent: inv.subscription
      ? {
          type: "subscription_details",
          quote_details: null,
          subscription_details: { metadata: inv.subscriptionMetadata ?? {}, subscription: inv.subscription },
        }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: inv.periodEnd,
    period_start: inv.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: inv.status,
    status_transitions: {
      finalized_at: inv.finalizedAt,
      marked_uncollectible_at: inv.markedUncollectibleAt,
      paid_at: inv.paidAt,
      voided_at: inv.voidedAt,
    },
    subtotal: inv.total,
    subtotal_excluding_tax: inv.total,
    test_clock: null,
    total: inv.total,
    total_discount_amounts: [],
    total_excluding_tax: inv.total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: inv.created,
  };
}
