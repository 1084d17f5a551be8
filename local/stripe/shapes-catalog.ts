// Stripe API shapes for customers, products, prices (and their legacy `plan` twin) and card
// payment methods, typed against the stripe package so a field Stripe requires cannot be missing.
import type Stripe from "stripe";
import type { CustomerRec, PaymentMethodRec, PriceRec, ProductRec } from "./records.ts";
import type { Store } from "./store.ts";

export function customerShape(c: CustomerRec): Stripe.Customer {
  return {
    id: c.id,
    object: "customer",
    address: null,
    balance: 0,
    created: c.created,
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: c.description,
    discount: null,
    email: c.email,
    invoice_prefix: c.invoicePrefix,
    invoice_settings: {
      custom_fields: null,
      default_payment_method: c.defaultPaymentMethod,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: { ...c.metadata },
    name: c.name,
    next_invoice_sequence: c.nextInvoiceSequence,
    phone: c.phone,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
  };
}

export function deletedCustomerShape(c: CustomerRec): Stripe.DeletedCustomer {
  return { id: c.id, object: "customer", deleted: true };
}

export function productShape(p: ProductRec): Stripe.Product {
  return {
    id: p.id,
    object: "product",
    active: p.active,
    created: p.created,
    default_price: p.defaultPrice,
    description: p.description,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: { ...p.metadata },
    name: p.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: "service",
    unit_label: null,
    updated: p.updated,
    url: null,
  };
}

export function priceShape(p: PriceRec): Stripe.Price {
  return {
    id: p.id,
    object: "price",
    active: p.active,
    billing_scheme: "per_unit",
    created: p.created,
    currency: p.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: p.lookupKey,
    metadata: { ...p.metadata },
    nickname: p.nickname,
    product: p.product,
    recurring: p.recurring
      ? {
          interval: p.recurring.interval,
          interval_count: p.recurring.intervalCount,
          meter: null,
          trial_period_days: p.recurring.trialPeriodDays,
          usage_type: "licensed",
        }
      : null,
    tax_behavior: p.taxBehavior,
    tiers_mode: null,
    transform_quantity: null,
    type: p.recurring ? "recurring" : "one_time",
    unit_amount: p.unitAmount,
    unit_amount_decimal: String(p.unitAmount) as unknown as Stripe.Price["unit_amount_decimal"],
  };
}

/** The legacy Plan object Stripe still embeds beside every subscription item's price. */
export function planShape(p: PriceRec): Stripe.Plan {
  return {
    id: p.id,
    object: "plan",
    active: p.active,
    amount: p.unitAmount,
    amount_decimal: String(p.unitAmount) as unknown as Stripe.Plan["amount_decimal"],
    billing_scheme: "per_unit",
    created: p.created,
    currency: p.currency,
    interval: p.recurring?.interval ?? "month",
    interval_count: p.recurring?.intervalCount ?? 1,
    livemode: false,
    metadata: { ...p.metadata },
    meter: null,
    nickname: p.nickname,
    product: p.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: p.recurring?.trialPeriodDays ?? null,
    usage_type: "licensed",
  };
}

export function paymentMethodShape(pm: PaymentMethodRec): Stripe.PaymentMethod {
  return {
    id: pm.id,
    object: "payment_method",
    allow_redisplay: "unspecified",
    billing_details: {
      address: null,
      email: pm.billingEmail,
      name: pm.billingName,
      phone: null,
      tax_id: null,
    },
    card: {
      brand: pm.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
      country: "US",
      display_brand: pm.brand,
      exp_month: pm.expMonth,
      exp_year: pm.expYear,
      fingerprint: pm.cardNumber.slice(-8).split("").reverse().join("") + "fp",
      funding: pm.funding,
      generated_from: null,
      last4: pm.cardNumber.slice(-4),
      networks: { available: [pm.brand], preferred: null },
      regulated_status: "unregulated",
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: pm.created,
    customer: pm.customer,
    customer_account: null,
    livemode: false,
    metadata: { ...pm.metadata },
    type: "card",
  };
}

export function priceOf(store: Store, id: string): PriceRec {
  const price = store.prices.get(id);
  if (!price) throw new Error(`internal: price ${id} vanished`);
  return price;
}
