// The Supabase CLI's local keys (docs/supabase-standin-spec.md §0.2), so tools that know them work unchanged.
import { createHmac } from "node:crypto";

export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
export const LOCAL_PUBLISHABLE_KEY = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";
export const LOCAL_SECRET_KEY = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";

export interface LocalKeys {
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

/** HS256 JWT, synchronous so config can be computed anywhere. */
export function signHs256(claims: Record<string, unknown>, secret = LOCAL_JWT_SECRET): string {
  const head = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = base64url(JSON.stringify(claims));
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

export function localKeys(): LocalKeys {
  return {
    jwtSecret: LOCAL_JWT_SECRET,
    anonKey: signHs256({ iss: "supabase-demo", role: "anon", exp: 1983812996 }),
    serviceRoleKey: signHs256({ iss: "supabase-demo", role: "service_role", exp: 1983812996 }),
    publishableKey: LOCAL_PUBLISHABLE_KEY,
    secretKey: LOCAL_SECRET_KEY,
  };
}
