// Kong's key handling in the Supabase CLI gateway (docs/supabase-standin-spec.md §0.3): services behind the
// gateway only ever see JWTs, never the opaque sb_publishable_/sb_secret_ keys.
import type { IncomingHttpHeaders } from "node:http";
import type { LocalKeys } from "../keys.ts";

/** Maps an `apikey` value (header or websocket query param) to the token the services should see. */
export function apiKeyToJwt(apikey: string, keys: LocalKeys): string {
  if (apikey === keys.secretKey) return keys.serviceRoleKey;
  if (apikey === keys.publishableKey) return keys.anonKey;
  return apikey;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The Authorization value to forward: an explicit non-opaque Authorization wins, otherwise the apikey
 * (translated from its opaque form) becomes a Bearer token. Undefined when the request carries neither.
 */
export function forwardedAuthorization(headers: IncomingHttpHeaders, keys: LocalKeys): string | undefined {
  const authorization = firstHeader(headers.authorization);
  if (authorization !== undefined && !/^bearer sb_/i.test(authorization)) return authorization;
  const apikey = firstHeader(headers.apikey);
  if (apikey !== undefined && apikey !== "") return `Bearer ${apiKeyToJwt(apikey, keys)}`;
  if (authorization !== undefined) {
    // An opaque key sent only as a bearer token: translate it the same way.
    const token = authorization.replace(/^bearer\s+/i, "");
    return `Bearer ${apiKeyToJwt(token, keys)}`;
  }
  return undefined;
}

/** Rewrites req.headers.authorization in place, as Kong does before routing. */
export function rewriteAuthorization(headers: IncomingHttpHeaders, keys: LocalKeys): void {
  const value = forwardedAuthorization(headers, keys);
  if (value === undefined) delete headers.authorization;
  else headers.authorization = value;
}
