// The `stripe` library as the edge functions use it: fetch for HTTP and Web Crypto for webhook
// signatures (what Deno has), pointed at STRIPE_API_BASE_URL through the library's own host, port and
// protocol options. Stripe's errors become one typed error with a message safe to show the owner.
import Stripe from "stripe";
import type { StripeEnv } from "./env.ts";
import { HttpError, UpstreamError } from "./http.ts";

export { Stripe };

export function createStripe(env: StripeEnv, fetchImpl?: typeof fetch): Stripe {
  const base = new URL(env.STRIPE_API_BASE_URL);
  const https = base.protocol === "https:";
  return new Stripe(env.STRIPE_SECRET_KEY, {
    host: base.hostname,
    port: Number(base.port || (https ? 443 : 80)),
    protocol: https ? "https" : "http",
    httpClient: Stripe.createFetchHttpClient(fetchImpl),
    timeout: env.STRIPE_REQUEST_TIMEOUT_MS,
    // The library retries connection errors, 409s and 5xx with backoff, reusing one idempotency key.
    maxNetworkRetries: 2,
  });
}

export const stripeCrypto = Stripe.createSubtleCryptoProvider();

export function isStripeError(err: unknown): err is Stripe.errors.StripeError {
  return err instanceof Stripe.errors.StripeError;
}

/** A Stripe "No such customer" (the customer was deleted, or belongs to another account or mode). */
export function isMissingCustomer(err: unknown): boolean {
  return isStripeError(err) && err.code === "resource_missing" && err.param === "customer";
}

/** Runs a Stripe call; its failure becomes an UpstreamError (502) whose message names what failed, never a key. */
export async function callStripe<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (isStripeError(err)) {
      console.error(`[stripe] ${what}: ${err.type} ${err.statusCode ?? ""} ${err.code ?? ""} ${err.message} (request ${err.requestId ?? "-"})`);
      const reason = err.type === "StripeConnectionError" ? "Stripe could not be reached" : `Stripe refused it (${err.code ?? err.type})`;
      throw new UpstreamError("stripe_failed", `${what} failed: ${reason}. Please try again in a minute.`);
    }
    throw err;
  }
}
