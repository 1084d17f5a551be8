// Helpers for tests and tools: the official `stripe` client aimed at the emulator, and a small
// typed client for its /emulator control API.
import Stripe from "stripe";

/** `new Stripe(key, {host, port, protocol})` for an emulator URL: the library's own way to change hosts. */
export function emulatorStripeClient(emulatorUrl: string, secretKey: string, options: { maxNetworkRetries?: number; timeout?: number } = {}): Stripe {
  const url = new URL(emulatorUrl);
  return new Stripe(secretKey, {
    host: url.hostname,
    port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    protocol: url.protocol === "https:" ? "https" : "http",
    maxNetworkRetries: options.maxNetworkRetries ?? 0,
    timeout: options.timeout ?? 20_000,
  });
}

export interface EmulatorAttempt {
  at: string;
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
  responseBody: string | null;
}

export interface EmulatorDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  kind: "automatic" | "replay" | "duplicate";
  state: "held" | "pending" | "sending" | "succeeded" | "failed";
  attempts: EmulatorAttempt[];
  nextAttemptAt: string | null;
}

export interface EmulatorEventSummary {
  seq: number;
  id: string;
  type: string;
  created: number;
  objectId: string;
  deliveries: EmulatorDelivery[];
}

export interface EmulatorEndpoint {
  id: string;
  url: string;
  secret: string;
  enabledEvents: string[];
  description: string | null;
}

export interface EmulatorSettings {
  webhookRetrySchedule: number[];
  webhookTimeoutMs: number;
  dunning: { retryDays: number[]; afterFinalAttempt: "cancel" | "unpaid" | "past_due" };
  invoiceFinalizeDelaySeconds: number;
  incompleteExpirySeconds: number;
  checkoutExpirySeconds: number;
  trialWillEndSeconds: number;
}

export interface Clock {
  now: number;
  iso: string;
  offsetSeconds: number;
}

/** Thin JSON client for the emulator's control API. */
export class StripeEmulatorControl {
  constructor(readonly url: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(this.url + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  info() {
    return this.call<{ url: string; secretKey: string; publishableKey: string; apiVersion: string; clock: Clock; held: boolean; endpoints: EmulatorEndpoint[]; lastEventSeq: number }>("GET", "/emulator/info");
  }
  addWebhookEndpoint(endpoint: { url: string; secret?: string; enabledEvents?: string[]; description?: string }) {
    return this.call<EmulatorEndpoint>("POST", "/emulator/webhook-endpoints", endpoint);
  }
  removeWebhookEndpoint(id: string) {
    return this.call<{ deleted: true }>("DELETE", `/emulator/webhook-endpoints/${id}`);
  }
  clock() {
    return this.call<Clock>("GET", "/emulator/clock");
  }
  /** Moves the emulator's clock forward; renewals, retries and expiries due on the way run in order. */
  advance(by: { seconds: number } | { days: number } | { to: number }) {
    return this.call<Clock & { events: { id: string; type: string; objectId: string; created: number }[] }>("POST", "/emulator/clock/advance", by);
  }
  settings(change?: Partial<Omit<EmulatorSettings, "dunning">> & { dunning?: Partial<EmulatorSettings["dunning"]> }) {
    return change ? this.call<EmulatorSettings>("POST", "/emulator/settings", change) : this.call<EmulatorSettings>("GET", "/emulator/settings");
  }
  events(filter: { type?: string; objectId?: string; after?: number } = {}) {
    const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    return this.call<EmulatorEventSummary[]>("GET", `/emulator/events?${query}`);
  }
  event(id: string) {
    return this.call<EmulatorEventSummary & { event: Stripe.Event }>("GET", `/emulator/events/${id}`);
  }
  replay(eventId: string, endpointId?: string) {
    return this.call<EmulatorDelivery[]>("POST", `/emulator/events/${eventId}/replay`, endpointId ? { endpointId } : {});
  }
  deliveries(filter: { state?: EmulatorDelivery["state"]; eventId?: string } = {}) {
    const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][]);
    return this.call<EmulatorDelivery[]>("GET", `/emulator/deliveries?${query}`);
  }
  /** New deliveries wait until `release()`. */
  hold() {
    return this.call<{ held: true }>("POST", "/emulator/webhooks/hold");
  }
  release(options: { order?: "created" | "reverse" | "shuffle"; duplicate?: boolean; seed?: number } = {}) {
    return this.call<EmulatorDelivery[]>("POST", "/emulator/webhooks/release", options);
  }
  /** Resolves once every delivery due now has been attempted (retries due later may remain). */
  settle() {
    return this.call<{ pending: number }>("POST", "/emulator/webhooks/settle");
  }
  /** What the checkout page's "Pay" does, without a browser. */
  payCheckout(sessionId: string, payment: { card: string; email?: string; name?: string; expiry?: string; cvc?: string }) {
    return this.call<{ session: Stripe.Checkout.Session; redirectUrl: string }>("POST", `/emulator/checkout/${sessionId}/pay`, payment);
  }
  /** Makes `card` the customer's (and its subscriptions') default for the next charges. */
  setCustomerCard(customerId: string, card: string, options: { chargeOpenInvoices?: boolean } = {}) {
    return this.call<{ paymentMethod: string; charged: { ok: boolean }[] }>("POST", `/emulator/customers/${customerId}/card`, { card, ...options });
  }
  reset(options: { keepCatalog?: boolean; keepEndpoints?: boolean } = {}) {
    return this.call<{ ok: true }>("POST", "/emulator/reset", options);
  }
}
