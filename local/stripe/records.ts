// What the emulator stores: small plain records (JSON-safe, so the whole state can be saved and
// loaded). Stripe's full API shapes are built from them on every read by shapes-*.ts, so an
// embedded price or customer is always current, as Stripe renders it.

export type Metadata = Record<string, string>;

interface Base {
  id: string;
  /** Unix seconds on the emulator clock. */
  created: number;
  /** Creation order, to sort objects made within the same second as Stripe does. */
  seq: number;
}

export interface CustomerRec extends Base {
  email: string | null;
  name: string | null;
  phone: string | null;
  description: string | null;
  metadata: Metadata;
  invoicePrefix: string;
  nextInvoiceSequence: number;
  defaultPaymentMethod: string | null;
  deleted: boolean;
}

export interface ProductRec extends Base {
  updated: number;
  name: string;
  description: string | null;
  active: boolean;
  metadata: Metadata;
  defaultPrice: string | null;
}

export type Interval = "day" | "week" | "month" | "year";

export interface PriceRec extends Base {
  product: string;
  currency: string;
  unitAmount: number;
  recurring: { interval: Interval; intervalCount: number; trialPeriodDays: number | null } | null;
  lookupKey: string | null;
  nickname: string | null;
  active: boolean;
  metadata: Metadata;
  taxBehavior: "exclusive" | "inclusive" | "unspecified" | null;
}

export interface PaymentMethodRec extends Base {
  customer: string | null;
  /** The test card's number: it decides how charges on this card behave. */
  cardNumber: string;
  brand: string;
  funding: string;
  expMonth: number;
  expYear: number;
  billingEmail: string | null;
  billingName: string | null;
  metadata: Metadata;
}

export interface CheckoutSessionRec extends Base {
  expiresAt: number;
  status: "open" | "complete" | "expired";
  paymentStatus: "unpaid" | "paid" | "no_payment_required";
  customer: string | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  successUrl: string;
  cancelUrl: string | null;
  lineItems: { id: string; price: string; quantity: number }[];
  metadata: Metadata;
  subscriptionData: { metadata: Metadata; trialPeriodDays: number | null; trialEnd: number | null; description: string | null };
  subscription: string | null;
  invoice: string | null;
  customerDetails: { email: string | null; name: string | null } | null;
  currency: string;
  locale: string | null;
  allowPromotionCodes: boolean | null;
  billingAddressCollection: "auto" | "required" | null;
}

export interface PortalConfigRec extends Base {
  updated: number;
  isDefault: boolean;
  active: boolean;
  metadata: Metadata;
  headline: string | null;
  defaultReturnUrl: string | null;
  cancel: { enabled: boolean; mode: "at_period_end" | "immediately" };
  /** `products: null` offers every active recurring price in the subscription's currency. */
  update: { enabled: boolean; products: { product: string; prices: string[] }[] | null };
  paymentMethodUpdate: boolean;
  invoiceHistory: boolean;
}

export interface PortalSessionRec extends Base {
  customer: string;
  returnUrl: string | null;
  configuration: string;
  locale: string | null;
}

export type SubscriptionStatus =
  | "incomplete"
  | "incomplete_expired"
  | "trialing"
  | "active"
  | "past_due"
  | "canceled"
  | "unpaid"
  | "paused";

/** A subscription in one of these never bills or changes again. */
export function hasEnded(sub: { status: SubscriptionStatus }): boolean {
  return sub.status === "canceled" || sub.status === "incomplete_expired";
}

/** A subscription in one of these renews at its period end and can be canceled or changed. */
export function isLive(sub: { status: SubscriptionStatus }): boolean {
  return sub.status === "trialing" || sub.status === "active" || sub.status === "past_due" || sub.status === "unpaid";
}

export interface SubscriptionItemRec {
  id: string;
  created: number;
  price: string;
  quantity: number;
  metadata: Metadata;
  periodStart: number;
  periodEnd: number;
}

export interface SubscriptionRec extends Base {
  customer: string;
  status: SubscriptionStatus;
  items: SubscriptionItemRec[];
  currency: string;
  startDate: number;
  billingCycleAnchor: number;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  canceledAt: number | null;
  endedAt: number | null;
  cancellation: {
    reason: "cancellation_requested" | "payment_failed" | "payment_disputed" | null;
    feedback: string | null;
    comment: string | null;
  };
  trialStart: number | null;
  trialEnd: number | null;
  latestInvoice: string | null;
  defaultPaymentMethod: string | null;
  metadata: Metadata;
  description: string | null;
  trialWillEndSent: boolean;
}

export interface InvoiceLineRec {
  id: string;
  price: string;
  quantity: number;
  amount: number;
  description: string;
  periodStart: number;
  periodEnd: number;
  subscriptionItem: string | null;
}

export interface InvoicePaymentRec {
  id: string;
  created: number;
  paymentIntent: string;
  amount: number;
  status: "paid" | "failed";
  /** The first charge and dunning retries; manual attempts do not move the retry schedule. */
  automatic: boolean;
  paidAt: number | null;
  failure: { code: string; declineCode: string | null; message: string } | null;
}

export interface InvoiceRec extends Base {
  number: string | null;
  customer: string;
  subscription: string | null;
  /** Stripe snapshots the subscription's metadata onto its invoices. */
  subscriptionMetadata: Metadata | null;
  billingReason: "subscription_create" | "subscription_cycle" | "subscription_update" | "manual";
  status: "draft" | "open" | "paid" | "void" | "uncollectible";
  currency: string;
  lines: InvoiceLineRec[];
  periodStart: number;
  periodEnd: number;
  total: number;
  amountPaid: number;
  attemptCount: number;
  attempted: boolean;
  nextPaymentAttempt: number | null;
  autoAdvance: boolean;
  /** When a draft finalizes by itself (Stripe: about an hour after a renewal invoice is made). */
  finalizesAt: number | null;
  finalizedAt: number | null;
  paidAt: number | null;
  voidedAt: number | null;
  markedUncollectibleAt: number | null;
  customerEmail: string | null;
  customerName: string | null;
  metadata: Metadata;
  payments: InvoicePaymentRec[];
}

export interface EventRec extends Base {
  type: string;
  /** The subject's id, for "deliver in order per object" and the control API's filters. */
  objectId: string;
  object: Record<string, unknown>;
  previousAttributes: Record<string, unknown> | null;
  request: { id: string | null; idempotency_key: string | null };
  apiVersion: string;
}

export interface EndpointRec extends Base {
  url: string;
  secret: string;
  /** `["*"]` or event types. */
  enabledEvents: string[];
  description: string | null;
}

export interface AttemptRec {
  /** Real time of the attempt (ISO); webhooks are signed with real time, like Stripe test clocks. */
  at: string;
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
  /** First bytes of the endpoint's answer, as the Dashboard shows them. */
  responseBody: string | null;
}

export interface DeliveryRec {
  id: string;
  seq: number;
  eventId: string;
  endpointId: string;
  /** held = waiting for a control-API release; pending = due at nextAttemptAt. */
  state: "held" | "pending" | "sending" | "succeeded" | "failed";
  kind: "automatic" | "replay" | "duplicate";
  attempts: AttemptRec[];
  /** Emulator-clock milliseconds. */
  nextAttemptAt: number | null;
}
