// /v1 customers, products, prices and payment methods.
import type { Route } from "./api.ts";
import { listOf } from "./api.ts";
import { endSubscription } from "./billing.ts";
import type { Core } from "./core.ts";
import { changedAttributes } from "./core.ts";
import { invalidParam, invalidState, noSuch } from "./errors.ts";
import { looksLikeEmail } from "./format.ts";
import type { Params } from "./form.ts";
import { hasEnded, type CustomerRec, type Interval, type PriceRec, type ProductRec } from "./records.ts";
import { customerShape, deletedCustomerShape, paymentMethodShape, priceShape, productShape } from "./shapes-catalog.ts";
import { randomId } from "./store.ts";

export function customerOr404(core: Core, id: string, param = "id"): CustomerRec {
  const customer = core.store.customers.get(id);
  if (!customer || customer.deleted) throw noSuch("customer", id, param);
  return customer;
}

function limited(params: Params, key: string, max: number): string | null | undefined {
  const value = params.nullableString(key);
  if (value && value.length > max) throw invalidParam(params.name(key), `Invalid ${key}: must be at most ${max} characters`);
  return value;
}

function readEmail(params: Params): string | null | undefined {
  const email = limited(params, "email", 512);
  if (email && !looksLikeEmail(email)) throw invalidParam("email", `Invalid email address: ${email}`, "email_invalid");
  return email;
}

function rejectTestClock(params: Params): void {
  if (params.has("test_clock")) {
    throw invalidParam("test_clock", "Test clocks are not emulated: move the emulator's clock with POST /emulator/clock/advance instead.");
  }
}

/** Customer fields shared by create and update; returns a function that applies them. */
function readCustomerFields(core: Core, params: Params, customerId: string | null): (c: CustomerRec) => void {
  rejectTestClock(params);
  const email = readEmail(params);
  const name = limited(params, "name", 256);
  const phone = limited(params, "phone", 20);
  const description = limited(params, "description", 350);
  const invoicePrefix = params.string("invoice_prefix");
  if (invoicePrefix !== undefined && !/^[A-Z0-9]{3,12}$/.test(invoicePrefix)) {
    throw invalidParam("invoice_prefix", "Invoice prefix must be 3-12 uppercase letters or numbers.");
  }
  const settings = params.object("invoice_settings");
  const defaultPm = settings?.nullableString("default_payment_method");
  settings?.ignore("custom_fields", "footer", "rendering_options");
  settings?.rejectUnknown();
  const attach = params.string("payment_method");
  for (const [pm, param] of [[defaultPm, "invoice_settings[default_payment_method]"], [attach, "payment_method"]] as const) {
    if (!pm) continue;
    const record = core.store.paymentMethods.get(pm);
    if (!record) throw noSuch("PaymentMethod", pm, param);
    if (record.customer && record.customer !== customerId) throw invalidState(`The payment method ${pm} belongs to another customer.`, param);
    if (param === "invoice_settings[default_payment_method]" && !record.customer && pm !== attach) {
      throw invalidState(`The payment method ${pm} must be attached to this customer first.`, param);
    }
  }
  return (c) => {
    if (email !== undefined) c.email = email;
    if (name !== undefined) c.name = name;
    if (phone !== undefined) c.phone = phone;
    if (description !== undefined) c.description = description;
    if (invoicePrefix !== undefined) c.invoicePrefix = invoicePrefix;
    if (attach) core.store.paymentMethods.get(attach)!.customer = c.id;
    if (defaultPm !== undefined) c.defaultPaymentMethod = defaultPm;
  };
}

const ignoredCustomerParams = ["address", "balance", "business_name", "cash_balance", "individual_name", "next_invoice_sequence", "preferred_locales", "shipping", "source", "tax", "tax_exempt", "tax_id_data", "validate"];

function createCustomer(core: Core, params: Params): object {
  const apply = readCustomerFields(core, params, null);
  const metadata = params.metadata() ?? {};
  params.ignore(...ignoredCustomerParams);
  params.rejectUnknown();
  const customer: CustomerRec = {
    id: randomId("cus_", 14),
    created: core.store.now(),
    seq: core.store.nextSeq(),
    email: null,
    name: null,
    phone: null,
    description: null,
    metadata,
    invoicePrefix: randomId("", 8).toUpperCase().replace(/[^A-Z0-9]/g, "X"),
    nextInvoiceSequence: 1,
    defaultPaymentMethod: null,
    deleted: false,
  };
  apply(customer);
  core.store.customers.set(customer.id, customer);
  core.store.changed();
  const shape = customerShape(customer);
  core.emit("customer.created", shape);
  return shape;
}

function updateCustomer(core: Core, params: Params, id: string): object {
  const customer = customerOr404(core, id);
  const apply = readCustomerFields(core, params, customer.id);
  const metadata = params.metadata("metadata", customer.metadata);
  params.ignore(...ignoredCustomerParams, "default_source");
  params.rejectUnknown();
  const before = customerShape(customer);
  apply(customer);
  if (metadata) customer.metadata = metadata;
  const after = customerShape(customer);
  const previous = changedAttributes(before as never, after as never);
  core.store.changed();
  if (previous) core.emit("customer.updated", after, previous);
  return after;
}

function deleteCustomer(core: Core, params: Params, id: string): object {
  const customer = customerOr404(core, id);
  params.rejectUnknown();
  // Deleting a customer cancels its subscriptions at once, as Stripe does.
  for (const sub of core.store.subscriptions.values()) {
    if (sub.customer === id && !hasEnded(sub)) endSubscription(core, sub, core.store.now(), "cancellation_requested");
  }
  customer.deleted = true;
  core.store.changed();
  core.emit("customer.deleted", customerShape(customer));
  return deletedCustomerShape(customer);
}

function listCustomers(core: Core, params: Params): object {
  const email = params.string("email");
  rejectTestClock(params);
  const customers = [...core.store.customers.values()].filter((c) => !c.deleted && (email === undefined || c.email === email));
  return listOf(params, customers, "/v1/customers", customerShape, "customer");
}

// ---------------------------------------------------------------------------------- products

function readProductFields(params: Params): (p: ProductRec) => void {
  const name = params.string("name");
  if (name !== undefined && !name.trim()) throw invalidParam("name", "Product name cannot be empty.");
  const description = params.nullableString("description");
  const active = params.boolean("active");
  params.ignore("images", "marketing_features", "package_dimensions", "shippable", "statement_descriptor", "tax_code", "tax_details", "unit_label", "url");
  return (p) => {
    if (name !== undefined) p.name = name;
    if (description !== undefined) p.description = description;
    if (active !== undefined) p.active = active;
  };
}

function createProduct(core: Core, params: Params): object {
  const name = params.requiredString("name");
  const id = params.string("id");
  if (id !== undefined && (!/^[A-Za-z0-9_-]{1,64}$/.test(id) || core.store.products.has(id))) {
    throw invalidParam("id", core.store.products.has(id) ? `Product already exists.` : `Invalid product id: ${id}`, "resource_already_exists");
  }
  const apply = readProductFields(params);
  const metadata = params.metadata() ?? {};
  const priceData = params.object("default_price_data");
  params.enumeration("type", ["service", "good"]);
  params.rejectUnknown();
  const now = core.store.now();
  const product: ProductRec = { id: id ?? randomId("prod_", 14), created: now, seq: core.store.nextSeq(), updated: now, name, description: null, active: true, metadata, defaultPrice: null };
  apply(product);
  const price = priceData ? readPrice(core, priceData, product.id) : undefined;
  core.store.products.set(product.id, product);
  core.emit("product.created", productShape(product));
  if (price) {
    commitPrice(core, price);
    product.defaultPrice = price.id;
    core.emit("product.updated", productShape(product), { default_price: null });
  }
  core.store.changed();
  return productShape(product);
}

function updateProduct(core: Core, params: Params, id: string): object {
  const product = core.store.products.get(id);
  if (!product) throw noSuch("product", id);
  const apply = readProductFields(params);
  const metadata = params.metadata("metadata", product.metadata);
  const defaultPrice = params.nullableString("default_price");
  if (defaultPrice && core.store.prices.get(defaultPrice)?.product !== id) throw noSuch("price", defaultPrice, "default_price");
  params.rejectUnknown();
  const before = productShape(product);
  apply(product);
  if (metadata) product.metadata = metadata;
  if (defaultPrice !== undefined) product.defaultPrice = defaultPrice;
  product.updated = core.store.now();
  const after = productShape(product);
  core.store.changed();
  core.emit("product.updated", after, changedAttributes(before as never, after as never));
  return after;
}

function listProducts(core: Core, params: Params): object {
  const active = params.boolean("active");
  const ids = params.strings("ids");
  params.ignore("shippable", "url");
  const products = [...core.store.products.values()].filter((p) => (active === undefined || p.active === active) && (!ids || ids.includes(p.id)));
  return listOf(params, products, "/v1/products", productShape, "product");
}

// ------------------------------------------------------------------------------------ prices

/** Reads a price from create params (or a product's `default_price_data`) without storing it. */
function readPrice(core: Core, params: Params, productId?: string): PriceRec {
  const currency = params.requiredString("currency").toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidParam(params.name("currency"), `Invalid currency: ${currency}`);
  let unitAmount = params.integer("unit_amount", { min: 0, max: 99_999_999 });
  const decimal = params.string("unit_amount_decimal");
  if (unitAmount === undefined && decimal !== undefined) {
    if (!/^\d+$/.test(decimal)) throw invalidParam(params.name("unit_amount_decimal"), "The emulator supports whole-cent amounts only.");
    unitAmount = Number(decimal);
  }
  if (unitAmount === undefined) throw invalidParam(params.name("unit_amount"), "Missing required param: unit_amount.", "parameter_missing");
  const recurringParams = params.object("recurring");
  let recurring: PriceRec["recurring"] = null;
  if (recurringParams) {
    const interval = recurringParams.enumeration<Interval>("interval", ["day", "week", "month", "year"]);
    if (!interval) throw invalidParam(recurringParams.name("interval"), `Missing required param: ${recurringParams.name("interval")}.`, "parameter_missing");
    const intervalCount = recurringParams.integer("interval_count", { min: 1 }) ?? 1;
    const maxCount = { day: 1095, week: 156, month: 36, year: 3 }[interval];
    if (intervalCount > maxCount) throw invalidParam(recurringParams.name("interval_count"), "Billing intervals can be at most three years.");
    const trialPeriodDays = recurringParams.integer("trial_period_days", { min: 1, max: 730 }) ?? null;
    if (recurringParams.enumeration("usage_type", ["licensed", "metered"]) === "metered") {
      throw invalidParam(recurringParams.name("usage_type"), "The emulator supports licensed (per-seat) prices only.");
    }
    recurringParams.ignore("meter", "aggregate_usage");
    recurringParams.rejectUnknown();
    recurring = { interval, intervalCount, trialPeriodDays };
  }
  const base = {
    id: randomId("price_"),
    created: core.store.now(),
    seq: core.store.nextSeq(),
    currency,
    unitAmount,
    recurring,
    active: params.boolean("active") ?? true,
    taxBehavior: params.enumeration("tax_behavior", ["exclusive", "inclusive", "unspecified"]) ?? null,
  };
  if (productId) {
    params.rejectUnknown();
    return { ...base, product: productId, lookupKey: null, nickname: null, metadata: {} };
  }
  const lookupKey = params.string("lookup_key") ?? null;
  if (lookupKey !== null && lookupKey.length > 200) throw invalidParam("lookup_key", "lookup_key must be at most 200 characters");
  const transfer = params.boolean("transfer_lookup_key") ?? false;
  const product = params.string("product");
  const productData = params.object("product_data");
  if (product && productData) throw invalidState("You may only specify one of these parameters: product, product_data.");
  if (product && !core.store.products.has(product)) throw noSuch("product", product, "product");
  let newProduct: ProductRec | undefined;
  if (productData) {
    const now = core.store.now();
    newProduct = { id: productData.string("id") ?? randomId("prod_", 14), created: now, seq: core.store.nextSeq(), updated: now, name: productData.requiredString("name"), description: null, active: productData.boolean("active") ?? true, metadata: productData.metadata() ?? {}, defaultPrice: null };
    productData.ignore("statement_descriptor", "tax_code", "tax_details", "unit_label");
    productData.rejectUnknown();
  }
  if (!product && !productData) throw invalidParam("product", "Missing required param: product.", "parameter_missing");
  const nickname = params.string("nickname") ?? null;
  const metadata = params.metadata() ?? {};
  for (const unsupported of ["tiers", "tiers_mode", "custom_unit_amount", "transform_quantity", "currency_options"]) {
    if (params.has(unsupported)) throw invalidParam(unsupported, `The emulator does not support ${unsupported}: use per-unit prices.`);
  }
  params.enumeration("billing_scheme", ["per_unit"]);
  params.rejectUnknown();
  checkLookupKey(core, lookupKey, transfer, null);
  if (newProduct) {
    core.store.products.set(newProduct.id, newProduct);
    core.emit("product.created", productShape(newProduct));
  }
  return { ...base, product: product ?? newProduct!.id, lookupKey, nickname, metadata };
}

function checkLookupKey(core: Core, lookupKey: string | null, transfer: boolean, self: string | null): void {
  if (lookupKey === null) return;
  for (const other of core.store.prices.values()) {
    if (other.lookupKey !== lookupKey || other.id === self) continue;
    if (!transfer) throw invalidParam("lookup_key", `A price (\`${other.id}\`) already uses that lookup key.`, "lookup_key_already_used");
  }
}

/** Stores a new price, taking its lookup key away from any other price (transfer_lookup_key). */
function commitPrice(core: Core, price: PriceRec): void {
  for (const other of core.store.prices.values()) {
    if (price.lookupKey !== null && other.lookupKey === price.lookupKey) {
      other.lookupKey = null;
      core.emit("price.updated", priceShape(other), { lookup_key: price.lookupKey });
    }
  }
  core.store.prices.set(price.id, price);
  core.store.changed();
  core.emit("price.created", priceShape(price));
}

function createPrice(core: Core, params: Params): object {
  const price = readPrice(core, params);
  commitPrice(core, price);
  return priceShape(price);
}

function updatePrice(core: Core, params: Params, id: string): object {
  const price = core.store.prices.get(id);
  if (!price) throw noSuch("price", id);
  const active = params.boolean("active");
  const nickname = params.nullableString("nickname");
  const lookupKey = params.nullableString("lookup_key");
  const transfer = params.boolean("transfer_lookup_key") ?? false;
  const metadata = params.metadata("metadata", price.metadata);
  const taxBehavior = params.enumeration("tax_behavior", ["exclusive", "inclusive", "unspecified"]);
  params.ignore("currency_options");
  params.rejectUnknown();
  if (lookupKey) checkLookupKey(core, lookupKey, transfer, price.id);
  const before = priceShape(price);
  if (lookupKey) {
    for (const other of core.store.prices.values()) {
      if (other.id !== price.id && other.lookupKey === lookupKey) {
        other.lookupKey = null;
        core.emit("price.updated", priceShape(other), { lookup_key: lookupKey });
      }
    }
  }
  if (active !== undefined) price.active = active;
  if (nickname !== undefined) price.nickname = nickname;
  if (lookupKey !== undefined) price.lookupKey = lookupKey;
  if (metadata) price.metadata = metadata;
  if (taxBehavior) price.taxBehavior = taxBehavior;
  const after = priceShape(price);
  core.store.changed();
  core.emit("price.updated", after, changedAttributes(before as never, after as never));
  return after;
}

function listPrices(core: Core, params: Params): object {
  const active = params.boolean("active");
  const currency = params.string("currency")?.toLowerCase();
  const product = params.string("product");
  const type = params.enumeration("type", ["one_time", "recurring"]);
  const lookupKeys = params.strings("lookup_keys");
  if (lookupKeys && lookupKeys.length > 10) throw invalidParam("lookup_keys", "You can pass at most 10 lookup keys.");
  const recurring = params.object("recurring");
  const interval = recurring?.enumeration("interval", ["day", "week", "month", "year"]);
  recurring?.ignore("usage_type", "meter");
  recurring?.rejectUnknown();
  const prices = [...core.store.prices.values()].filter(
    (p) =>
      (active === undefined || p.active === active) &&
      (currency === undefined || p.currency === currency) &&
      (product === undefined || p.product === product) &&
      (type === undefined || (type === "recurring") === (p.recurring !== null)) &&
      (!lookupKeys || (p.lookupKey !== null && lookupKeys.includes(p.lookupKey))) &&
      (!interval || p.recurring?.interval === interval),
  );
  return listOf(params, prices, "/v1/prices", priceShape, "price");
}

// --------------------------------------------------------------------------- payment methods

function listPaymentMethods(core: Core, params: Params, customerId: string): object {
  const customer = customerOr404(core, customerId || params.requiredString("customer"), customerId ? "id" : "customer");
  const type = params.string("type");
  if (type !== undefined && type !== "card") return { object: "list", data: [], has_more: false, url: "/v1/payment_methods" };
  params.ignore("allow_redisplay");
  const methods = [...core.store.paymentMethods.values()].filter((pm) => pm.customer === customer.id);
  return listOf(params, methods, customerId ? `/v1/customers/${customerId}/payment_methods` : "/v1/payment_methods", paymentMethodShape, "payment_method");
}

export const catalogRoutes: Route[] = [
  { method: "POST", path: "/customers", handler: createCustomer },
  { method: "GET", path: "/customers", handler: listCustomers },
  { method: "GET", path: "/customers/{id}", handler: (core, params, id) => {
    params.rejectUnknown();
    const c = core.store.customers.get(id);
    if (!c) throw noSuch("customer", id);
    return c.deleted ? deletedCustomerShape(c) : customerShape(c);
  } },
  { method: "POST", path: "/customers/{id}", handler: updateCustomer },
  { method: "DELETE", path: "/customers/{id}", handler: deleteCustomer },
  { method: "GET", path: "/customers/{id}/payment_methods", handler: listPaymentMethods },
  { method: "POST", path: "/products", handler: createProduct },
  { method: "GET", path: "/products", handler: listProducts },
  { method: "GET", path: "/products/{id}", handler: (core, params, id) => {
    params.rejectUnknown();
    const p = core.store.products.get(id);
    if (!p) throw noSuch("product", id);
    return productShape(p);
  } },
  { method: "POST", path: "/products/{id}", handler: updateProduct },
  { method: "POST", path: "/prices", handler: createPrice },
  { method: "GET", path: "/prices", handler: listPrices },
  { method: "GET", path: "/prices/{id}", handler: (core, params, id) => {
    params.rejectUnknown();
    const p = core.store.prices.get(id);
    if (!p) throw noSuch("price", id);
    return priceShape(p);
  } },
  { method: "POST", path: "/prices/{id}", handler: updatePrice },
  { method: "GET", path: "/payment_methods", handler: (core, params) => listPaymentMethods(core, params, "") },
  { method: "GET", path: "/payment_methods/{id}", handler: (core, params, id) => {
    params.rejectUnknown();
    const pm = core.store.paymentMethods.get(id);
    if (!pm) throw noSuch("PaymentMethod", id);
    return paymentMethodShape(pm);
  } },
];

