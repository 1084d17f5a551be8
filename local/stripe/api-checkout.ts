// /v1 checkout sessions (subscription mode) and the Customer Portal's sessions and configurations.
import type { Route } from "./api.ts";
import { listOf } from "./api.ts";
import { customerOr404 } from "./api-catalog.ts";
import { expireCheckoutSession } from "./billing.ts";
import type { Core } from "./core.ts";
import { invalidParam, invalidState, noSuch } from "./errors.ts";
import { looksLikeEmail } from "./format.ts";
import type { Params } from "./form.ts";
import type { CheckoutSessionRec, PortalConfigRec, PortalSessionRec } from "./records.ts";
import { checkoutLineItemShape, portalConfigShape, portalSessionShape } from "./shapes-checkout.ts";
import { randomId } from "./store.ts";

function readUrl(params: Params, key: string, required: boolean): string | null {
  const value = required ? params.requiredString(key) : params.string(key);
  if (value === undefined || value === "") return null;
  let url: URL;
  try {
    // `{CHECKOUT_SESSION_ID}` is a template Stripe fills in, not part of the URL's syntax.
    url = new URL(value.replaceAll("{CHECKOUT_SESSION_ID}", "x"));
  } catch {
    throw invalidParam(params.name(key), "Not a valid URL", "url_invalid");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalidParam(params.name(key), "Not a valid URL", "url_invalid");
  if (value.length > 5000) throw invalidParam(params.name(key), "URL too long", "url_invalid");
  return value;
}

function createCheckoutSession(core: Core, params: Params): object {
  const { store } = core;
  const now = store.now();
  const mode = params.requiredString("mode");
  if (mode !== "subscription") {
    if (mode === "payment" || mode === "setup") throw invalidParam("mode", "The Stripe emulator supports mode=subscription only (see local/stripe/README.md).", "parameter_unsupported");
    throw invalidParam("mode", `Invalid mode: must be one of payment, setup, or subscription`);
  }
  if ((params.string("ui_mode") ?? "hosted") !== "hosted") throw invalidParam("ui_mode", "The Stripe emulator supports ui_mode=hosted only.", "parameter_unsupported");
  const successUrl = readUrl(params, "success_url", true)!;
  const cancelUrl = readUrl(params, "cancel_url", false);
  const customer = params.string("customer");
  const customerEmail = params.string("customer_email");
  if (customer && customerEmail) throw invalidState("You may only specify one of these parameters: customer, customer_email.");
  if (customer) customerOr404(core, customer, "customer");
  if (customerEmail !== undefined && !looksLikeEmail(customerEmail)) throw invalidParam("customer_email", `Invalid email address: ${customerEmail}`, "email_invalid");
  const clientReferenceId = params.string("client_reference_id") ?? null;
  if (clientReferenceId !== null && (clientReferenceId.length > 200 || !clientReferenceId)) throw invalidParam("client_reference_id", "client_reference_id must be 1 to 200 characters.");

  const items = params.objects("line_items");
  if (!items || items.length === 0) throw invalidParam("line_items", "You must provide `line_items` in `subscription` mode.", "parameter_missing");
  if (items.length > 20) throw invalidParam("line_items", "Checkout supports at most 20 line items.");
  const lineItems = items.map((item) => {
    item.unsupported("price_data");
    const priceId = item.requiredString("price");
    const quantity = item.integer("quantity", { min: 1, max: 999_999 });
    item.ignore("adjustable_quantity", "dynamic_tax_rates", "tax_rates");
    item.rejectUnknown();
    const price = store.prices.get(priceId);
    if (!price) throw noSuch("price", priceId, item.name("price"));
    if (!price.active) throw invalidParam(item.name("price"), "The price specified is inactive. This field only accepts active prices.");
    const itemName = item.name("quantity").replace(/\[quantity\]$/, "");
    if (quantity === undefined) throw invalidParam(item.name("quantity"), `Quantity is required. Add \`quantity\` to \`${itemName}\``, "parameter_missing");
    return { id: randomId("li_"), price: price.id, quantity, record: price };
  });
  if (!lineItems.some((i) => i.record.recurring)) {
    throw invalidParam("line_items", "You must provide at least one recurring price in `subscription` mode when using prices.");
  }
  if (lineItems.some((i) => !i.record.recurring)) throw invalidParam("line_items", "The Stripe emulator supports recurring prices only in a subscription checkout.", "parameter_unsupported");
  const first = lineItems[0].record;
  for (const item of lineItems) {
    if (item.record.currency !== first.currency) throw invalidParam("line_items", "All prices must be in the same currency.");
    if (item.record.recurring!.interval !== first.recurring!.interval || item.record.recurring!.intervalCount !== first.recurring!.intervalCount) {
      throw invalidParam("line_items", "Checkout does not support multiple prices with different billing intervals.");
    }
  }

  const subscriptionData = params.object("subscription_data");
  const trialPeriodDays = subscriptionData?.integer("trial_period_days", { min: 1, max: 730 }) ?? null;
  const trialEnd = subscriptionData?.integer("trial_end") ?? null;
  if (trialPeriodDays !== null && trialEnd !== null) throw invalidState("You may only specify one of these parameters: subscription_data[trial_end], subscription_data[trial_period_days].");
  if (trialEnd !== null && trialEnd < now + 48 * 3600) throw invalidParam("subscription_data[trial_end]", "`subscription_data[trial_end]` must be at least 48 hours in the future.");
  const subscriptionMetadata = subscriptionData?.metadata() ?? {};
  const description = subscriptionData?.string("description") ?? null;
  subscriptionData?.ignore("invoice_settings", "default_tax_rates", "proration_behavior", "trial_settings", "billing_mode");
  subscriptionData?.unsupported("application_fee_percent", "billing_cycle_anchor", "billing_cycle_anchor_config", "on_behalf_of", "transfer_data", "pending_invoice_item_interval");
  subscriptionData?.rejectUnknown();

  const expiresAt = params.integer("expires_at") ?? now + store.settings.checkoutExpirySeconds;
  if (expiresAt < now + 30 * 60 || expiresAt > now + 24 * 3600) {
    throw invalidParam("expires_at", "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.");
  }
  const metadata = params.metadata() ?? {};
  const locale = params.string("locale") ?? null;
  const allowPromotionCodes = params.boolean("allow_promotion_codes") ?? null;
  const billingAddressCollection = params.enumeration("billing_address_collection", ["auto", "required"]) ?? null;
  const methodTypes = params.strings("payment_method_types");
  if (methodTypes && methodTypes.some((t) => t !== "card")) throw invalidParam("payment_method_types", "The Stripe emulator takes cards only.", "parameter_unsupported");
  params.ignore(
    "automatic_tax", "customer_update", "tax_id_collection", "consent_collection", "custom_text", "custom_fields",
    "phone_number_collection", "submit_type", "payment_method_collection", "customer_creation", "adaptive_pricing",
    "branding_settings", "name_collection", "wallet_options", "saved_payment_method_options", "payment_method_options",
    "payment_method_configuration", "origin_context", "integration_identifier", "after_expiration", "currency",
    "excluded_payment_method_types", "allowed_payment_method_types",
  );
  params.unsupported("discounts", "optional_items", "shipping_address_collection", "shipping_options", "invoice_creation", "payment_intent_data", "setup_intent_data", "return_url", "redirect_on_completion", "customer_account", "managed_payments", "permissions", "payment_method_data");
  params.rejectUnknown();

  const session: CheckoutSessionRec = {
    id: randomId("cs_test_a1", 56),
    created: now,
    seq: store.nextSeq(),
    expiresAt,
    status: "open",
    paymentStatus: "unpaid",
    customer: customer ?? null,
    customerEmail: customerEmail ?? null,
    clientReferenceId,
    successUrl,
    cancelUrl,
    lineItems: lineItems.map(({ id, price, quantity }) => ({ id, price, quantity })),
    metadata,
    subscriptionData: { metadata: subscriptionMetadata, trialPeriodDays, trialEnd, description },
    subscription: null,
    invoice: null,
    customerDetails: null,
    currency: first.currency,
    locale,
    allowPromotionCodes,
    billingAddressCollection,
  };
  store.checkoutSessions.set(session.id, session);
  store.changed();
  return core.checkoutSession(session);
}

function sessionOr404(core: Core, id: string): CheckoutSessionRec {
  const session = core.store.checkoutSessions.get(id);
  if (!session) throw noSuch("checkout.session", id);
  return session;
}

function expireSession(core: Core, params: Params, id: string): object {
  const session = sessionOr404(core, id);
  params.rejectUnknown();
  if (session.status !== "open") throw invalidState(`Only Checkout Sessions with a status in ["open"] can be expired.`);
  expireCheckoutSession(core, session);
  return core.checkoutSession(session);
}

function listSessions(core: Core, params: Params): object {
  const customer = params.string("customer");
  const subscription = params.string("subscription");
  const status = params.enumeration("status", ["open", "complete", "expired"]);
  const details = params.object("customer_details");
  const email = details?.requiredString("email");
  details?.rejectUnknown();
  params.ignore("payment_intent", "payment_link");
  const sessions = [...core.store.checkoutSessions.values()].filter(
    (s) =>
      (customer === undefined || s.customer === customer) &&
      (subscription === undefined || s.subscription === subscription) &&
      (status === undefined || s.status === status) &&
      (email === undefined || s.customerDetails?.email === email),
  );
  return listOf(params, sessions, "/v1/checkout/sessions", (s) => core.checkoutSession(s), "checkout.session");
}

function listLineItems(core: Core, params: Params, id: string): object {
  const session = sessionOr404(core, id);
  const items = session.lineItems.map((item, i) => ({ ...item, created: session.created, seq: -i }));
  return listOf(params, items, `/v1/checkout/sessions/${id}/line_items`, (item) => checkoutLineItemShape(core.store, item), "line item");
}

// ---------------------------------------------------------------------------- customer portal

/** The account's default portal configuration, made on first use like saving the Dashboard settings. */
export function defaultPortalConfig(core: Core): PortalConfigRec {
  for (const config of core.store.portalConfigs.values()) if (config.isDefault) return config;
  const now = core.store.now();
  const config: PortalConfigRec = {
    id: randomId("bpc_"),
    created: now,
    seq: core.store.nextSeq(),
    updated: now,
    isDefault: true,
    active: true,
    metadata: {},
    headline: null,
    defaultReturnUrl: null,
    cancel: { enabled: true, mode: "at_period_end" },
    update: { enabled: true, products: null },
    paymentMethodUpdate: true,
    invoiceHistory: true,
  };
  core.store.portalConfigs.set(config.id, config);
  core.store.changed();
  return config;
}

function readPortalFeatures(core: Core, params: Params, config: PortalConfigRec): void {
  const profile = params.object("business_profile");
  const headline = profile?.nullableString("headline");
  profile?.ignore("privacy_policy_url", "terms_of_service_url");
  profile?.rejectUnknown();
  // readUrl maps "" to null: `default_return_url=` clears it.
  const returnUrl = params.has("default_return_url") ? readUrl(params, "default_return_url", false) : undefined;
  const features = params.object("features");
  const cancel = features?.object("subscription_cancel");
  const cancelEnabled = cancel?.boolean("enabled");
  const cancelMode = cancel?.enumeration("mode", ["at_period_end", "immediately"]);
  cancel?.ignore("proration_behavior", "cancellation_reason");
  cancel?.rejectUnknown();
  const update = features?.object("subscription_update");
  const updateEnabled = update?.boolean("enabled");
  const products = update?.objects("products")?.map((p) => {
    const product = p.requiredString("product");
    const prices = p.strings("prices") ?? [];
    p.ignore("adjustable_quantity");
    p.rejectUnknown();
    if (!core.store.products.has(product)) throw noSuch("product", product, p.name("product"));
    for (const price of prices) if (core.store.prices.get(price)?.product !== product) throw noSuch("price", price, p.name("prices"));
    return { product, prices };
  });
  update?.ignore("default_allowed_updates", "proration_behavior", "billing_cycle_anchor", "schedule_at_period_end", "trial_update_behavior");
  update?.rejectUnknown();
  const pmUpdate = features?.object("payment_method_update");
  const pmEnabled = pmUpdate?.boolean("enabled");
  pmUpdate?.ignore("payment_method_configuration");
  pmUpdate?.rejectUnknown();
  const history = features?.object("invoice_history");
  const historyEnabled = history?.boolean("enabled");
  history?.rejectUnknown();
  features?.ignore("customer_update", "subscription_pause");
  features?.rejectUnknown();
  const metadata = params.metadata("metadata", config.metadata);
  const active = params.boolean("active");
  params.ignore("login_page", "name");
  params.rejectUnknown();
  if (headline !== undefined) config.headline = headline;
  if (returnUrl !== undefined) config.defaultReturnUrl = returnUrl;
  if (cancelEnabled !== undefined) config.cancel.enabled = cancelEnabled;
  if (cancelMode) config.cancel.mode = cancelMode;
  if (updateEnabled !== undefined) config.update.enabled = updateEnabled;
  if (products) config.update.products = products;
  if (pmEnabled !== undefined) config.paymentMethodUpdate = pmEnabled;
  if (historyEnabled !== undefined) config.invoiceHistory = historyEnabled;
  if (metadata) config.metadata = metadata;
  if (active !== undefined) config.active = active;
  config.updated = core.store.now();
  core.store.changed();
}

function configOr404(core: Core, id: string, param = "id"): PortalConfigRec {
  const config = core.store.portalConfigs.get(id);
  if (!config) throw noSuch("configuration", id, param);
  return config;
}

function createPortalSession(core: Core, params: Params): object {
  const customer = customerOr404(core, params.requiredString("customer"), "customer");
  const configurationId = params.string("configuration");
  const config = configurationId ? configOr404(core, configurationId, "configuration") : defaultPortalConfig(core);
  if (!config.active) throw invalidParam("configuration", "The configuration is inactive.");
  const returnUrl = readUrl(params, "return_url", false) ?? config.defaultReturnUrl;
  const locale = params.string("locale") ?? null;
  params.unsupported("flow_data", "on_behalf_of", "customer_account", "after_expiration");
  params.rejectUnknown();
  const session: PortalSessionRec = {
    id: randomId("bps_"),
    created: core.store.now(),
    seq: core.store.nextSeq(),
    customer: customer.id,
    returnUrl,
    configuration: config.id,
    locale,
  };
  core.store.portalSessions.set(session.id, session);
  core.store.changed();
  return portalSessionShape(core.publicUrl, session);
}

export const checkoutRoutes: Route[] = [
  { method: "POST", path: "/checkout/sessions", handler: createCheckoutSession },
  { method: "GET", path: "/checkout/sessions", handler: listSessions },
  { method: "GET", path: "/checkout/sessions/{id}", handler: (core, params, id) => {
    params.rejectUnknown();
    return core.checkoutSession(sessionOr404(core, id));
  } },
  { method: "POST", path: "/checkout/sessions/{id}/expire", handler: expireSession },
  { method: "GET", path: "/checkout/sessions/{id}/line_items", handler: listLineItems },
  { method: "POST", path: "/billing_portal/sessions", handler: createPortalSession },
  { method: "POST", path: "/billing_portal/configurations", handler: (core, params) => {
    if (!params.has("features")) throw invalidParam("features", "Missing required param: features.", "parameter_missing");
    const now = core.store.now();
    const config: PortalConfigRec = {
      id: randomId("bpc_"), created: now, seq: core.store.nextSeq(), updated: now, isDefault: false, active: true, metadata: {},
      headline: null, defaultReturnUrl: null, cancel: { enabled: false, mode: "at_period_end" }, update: { enabled: false, products: [] },
      paymentMethodUpdate: false, invoiceHistory: false,
    };
    readPortalFeatures(core, params, config);
    core.store.portalConfigs.set(config.id, config);
    return portalConfigShape(config);
  } },
  { method: "GET", path: "/billing_portal/configurations", handler: (core, params) => {
    const active = params.boolean("active");
    const isDefault = params.boolean("is_default");
    defaultPortalConfig(core);
    const configs = [...core.store.portalConfigs.values()].filter((c) => (active === undefined || c.active === active) && (isDefault === undefined || c.isDefault === isDefault));
    return listOf(params, configs, "/v1/billing_portal/configurations", portalConfigShape, "configuration");
  } },
  { method: "GET", path: "/billing_portal/configurations/{id}", handler: (core, params, id) => {
    params.rejectUnknown();
    return portalConfigShape(configOr404(core, id));
  } },
  { method: "POST", path: "/billing_portal/configurations/{id}", handler: (core, params, id) => {
    const config = configOr404(core, id);
    readPortalFeatures(core, params, config);
    return portalConfigShape(config);
  } },
];
