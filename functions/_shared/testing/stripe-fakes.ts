// Test doubles for the billing functions: the real `stripe` library over a scripted fetch (so the
// requests the functions make are the library's own), Stripe-shaped objects, signed webhook requests.
import { createStripe, Stripe, stripeCrypto } from "../stripe.ts";
import { DatabaseError, type RawRpc } from "../billing.ts";

export interface StripeCall {
  method: string;
  path: string;
  /** Form parameters of a POST, or the query of a GET. */
  params: URLSearchParams;
  headers: Headers;
}

export type StripeRoute = (call: StripeCall) => { status?: number; body: unknown; headers?: Record<string, string> } | undefined;

/** A Stripe client whose HTTP goes to `route`; an unrouted request fails the test with a 404 like Stripe's. */
export function fakeStripe(route: StripeRoute) {
  const calls: StripeCall[] = [];
  const fetchImpl = ((input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const method = init.method ?? "GET";
    const call = {
      method,
      path: url.pathname,
      params: new URLSearchParams(method === "GET" ? url.search : String(init.body ?? "")),
      headers: new Headers(init.headers),
    };
    calls.push(call);
    const answer = route(call) ??
      { status: 404, body: { error: { type: "invalid_request_error", message: `Unrecognized request URL (${method}: ${url.pathname})` } } };
    return Promise.resolve(new Response(JSON.stringify(answer.body), {
      status: answer.status ?? 200,
      headers: { "content-type": "application/json", "request-id": "req_test", ...answer.headers },
    }));
  }) as typeof fetch;
  const stripe = createStripe({ STRIPE_SECRET_KEY: "sk_test_unit", STRIPE_API_BASE_URL: "https://api.stripe.test", STRIPE_REQUEST_TIMEOUT_MS: 5000 }, fetchImpl);
  return { stripe, calls, callsTo: (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path) };
}

export function stripeError(status: number, code: string, message: string, param?: string) {
  // stripe-should-retry: false keeps the library from retrying a 5xx in a test.
  return { status, body: { error: { type: status >= 500 ? "api_error" : "invalid_request_error", code, message, param } }, headers: { "stripe-should-retry": "false" } };
}

const T0 = 1_798_761_600; // 2027-01-01T00:00:00Z

/** A subscription as API version 2026-10-28 renders it (the fields the functions read, and a few more). */
export function stripeSubscription(overrides: {
  id?: string;
  customer?: string;
  status?: string;
  lookupKey?: string | null;
  periodStart?: number;
  cancelAtPeriodEnd?: boolean;
} = {}) {
  const start = overrides.periodStart ?? T0;
  return {
    id: overrides.id ?? "sub_1",
    object: "subscription",
    customer: overrides.customer ?? "cus_1",
    status: overrides.status ?? "active",
    created: T0 - 60,
    cancel_at_period_end: overrides.cancelAtPeriodEnd ?? false,
    cancel_at: null,
    canceled_at: null,
    metadata: { business_id: "b" },
    items: {
      object: "list",
      data: [{
        id: "si_1",
        object: "subscription_item",
        price: { id: "price_growth", object: "price", lookup_key: overrides.lookupKey === undefined ? "leadloop_growth_monthly" : overrides.lookupKey },
        current_period_start: start,
        current_period_end: start + 31 * 86_400,
      }],
    },
  };
}

export const WEBHOOK_SECRET = "whsec_unit_test_secret";

/** An event body signed as Stripe signs it (the library's own test helper). */
export async function signedEvent(
  type: string,
  object: unknown,
  options: { id?: string; created?: number; secret?: string; timestamp?: number; signature?: string | null; tamper?: boolean } = {},
): Promise<Request> {
  const payload = JSON.stringify({
    id: options.id ?? "evt_1",
    object: "event",
    api_version: "2026-10-28.endive",
    created: options.created ?? T0,
    type,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
  }, null, 2);
  const signature = options.signature === undefined
    ? await Stripe.webhooks.generateTestHeaderStringAsync({
      payload,
      secret: options.secret ?? WEBHOOK_SECRET,
      timestamp: options.timestamp,
      cryptoProvider: stripeCrypto,
    })
    : options.signature;
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  if (signature !== null) headers["stripe-signature"] = signature;
  return new Request("http://127.0.0.1:9999/stripe-webhook", { method: "POST", headers, body: options.tamper ? payload.replace("evt_", "evt_X") : payload });
}

/** A RawRpc answering from `script` (a thrown {code} becomes the database error supabase-js reports). */
export function scriptedRpc(script: Record<string, (args: Record<string, unknown>) => unknown>) {
  const calls: { name: string; args: Record<string, unknown> }[] = [];
  const call: RawRpc = (name, args) => {
    calls.push({ name, args: args as Record<string, unknown> });
    const answer = script[name];
    if (!answer) return Promise.reject(new Error(`unexpected rpc ${name}`));
    try {
      return Promise.resolve(answer(args as Record<string, unknown>));
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return Promise.reject(e.code ? new DatabaseError(e.code, e.message ?? "") : err);
    }
  };
  return { call, calls, callsTo: (name: string) => calls.filter((c) => c.name === name) };
}
