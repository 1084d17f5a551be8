// Stripe API shapes for Checkout Sessions (with their line items), Customer Portal sessions and
// configurations, and events.
import type Stripe from "stripe";
import { priceOf, priceShape } from "./shapes-catalog.ts";
import type { CheckoutSessionRec, EventRec, PortalConfigRec, PortalSessionRec } from "./records.ts";
import type { Store } from "./store.ts";

export function checkoutLineItemShape(store: Store, item: CheckoutSessionRec["lineItems"][number]): Stripe.LineItem {
  const price = priceOf(store, item.price);
  const product = store.products.get(price.product);
  const amount = price.unitAmount * item.quantity;
  return {
    id: item.id,
    object: "item",
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency: price.currency,
    description: product?.name ?? null,
    metadata: null,
    price: priceShape(price),
    quantity: item.quantity,
  };
}

export function checkoutAmount(store: Store, session: CheckoutSessionRec): number {
  return session.lineItems.reduce((sum, item) => sum + priceOf(store, item.price).unitAmount * item.quantity, 0);
}

export function checkoutSessionShape(store: Store, publicUrl: string, s: CheckoutSessionRec): Stripe.Checkout.Session {
  const amount = checkoutAmount(store, s);
  return {
    id: s.id,
    object: "checkout.session",
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: s.allowPromotionCodes,
    allowed_payment_method_types: null,
    amount_subtotal: amount,
    amount_total: amount,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: s.billingAddressCollection,
    cancel_url: s.cancelUrl,
    client_reference_id: s.clientReferenceId,
    client_secret: null,
    collected_information: s.status === "complete" ? { business_name: null, individual_name: null, shipping_details: null } : null,
    consent: null,
    consent_collection: null,
    created: s.created,
    currency: s.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: s.customer,
    customer_account: null,
    customer_creation: s.customer ? null : "always",
    customer_details: s.customerDetails
      ? {
          address: null,
          business_name: null,
          email: s.customerDetails.email,
          individual_name: null,
          name: s.customerDetails.name,
          phone: null,
          tax_exempt: "none",
          tax_ids: [],
        }
      : s.customerEmail
        ? { address: null, business_name: null, email: s.customerEmail, individual_name: null, name: null, phone: null, tax_exempt: null, tax_ids: null }
        : null,
    customer_email: s.customerEmail,
    discounts: [],
    expires_at: s.expiresAt,
    integration_identifier: null,
    invoice: s.invoice,
    invoice_creation: null,
    livemode: false,
    locale: (s.locale ?? null) as Stripe.Checkout.Session["locale"],
    managed_payments: null,
    metadata: { ...s.metadata },
    mode: "subscription",
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "always",
    payment_method_configuration_details: null,
    payment_method_options: { card: { request_three_d_secure: "automatic" } },
    payment_method_types: ["card"],
    payment_status: s.paymentStatus,
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: { allow_redisplay_filters: ["always"], payment_method_remove: null, payment_method_save: null },
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: s.status,
    submit_type: null,
    subscription: s.subscription,
    success_url: s.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    // Stripe clears the URL once the session can no longer be paid.
    url: s.status === "open" ? `${publicUrl}/c/pay/${s.id}` : null,
    wallet_options: null,
  };
}

export function portalSessionShape(publicUrl: string, s: PortalSessionRec): Stripe.BillingPortal.Session {
  return {
    id: s.id,
    object: "billing_portal.session",
    configuration: s.configuration,
    created: s.created,
    customer: s.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: (s.locale ?? null) as Stripe.BillingPortal.Session["locale"],
    on_behalf_of: null,
    return_url: s.returnUrl,
    url: `${publicUrl}/p/session/${s.id}`,
  };
}

export function portalConfigShape(c: PortalConfigRec): Stripe.BillingPortal.Configuration {
  return {
    id: c.id,
    object: "billing_portal.configuration",
    active: c.active,
    application: null,
    business_profile: { headline: c.headline, privacy_policy_url: null, terms_of_service_url: null },
    created: c.created,
    default_return_url: c.defaultReturnUrl,
    features: {
      customer_update: { allowed_updates: [], enabled: false },
      invoice_history: { enabled: c.invoiceHistory },
      payment_method_update: { enabled: c.paymentMethodUpdate, payment_method_configuration: null },
      subscription_cancel: {
        cancellation_reason: { enabled: false, feedback_options: null, options: [] },
        enabled: c.cancel.enabled,
        mode: c.cancel.mode,
        proration_behavior: "none",
      },
      subscription_pause: { duration: { interval_options: [], type: "indefinite" }, enabled: false },
      subscription_update: {
        billing_cycle_anchor: null,
        default_allowed_updates: c.update.enabled ? ["price"] : [],
        enabled: c.update.enabled,
        products: c.update.products?.map((p) => ({ adjustable_quantity: { enabled: false, maximum: null, minimum: 1 }, prices: p.prices, product: p.product })) ?? null,
        proration_behavior: "none",
        schedule_at_period_end: { conditions: [] },
        trial_update_behavior: "end_trial",
      },
    },
    is_default: c.isDefault,
    livemode: false,
    login_page: { enabled: false, url: null },
    metadata: { ...c.metadata },
    name: null,
    updated: c.updated,
  };
}

export function eventShape(store: Store, e: EventRec): Stripe.Event {
  let pending = 0;
  for (const delivery of store.deliveries.values()) {
    if (delivery.eventId === e.id && delivery.kind === "automatic" && delivery.state !== "succeeded" && delivery.state !== "failed") pending++;
  }
  return {
    id: e.id,
    object: "event",
    api_version: e.apiVersion,
    created: e.created,
    data: {
      object: e.object,
      ...(e.previousAttributes ? { previous_attributes: e.previousAttributes } : {}),
    },
    livemode: false,
    pending_webhooks: pending,
    request: e.request,
    type: e.type,
  } as unknown as Stripe.Event;
}
