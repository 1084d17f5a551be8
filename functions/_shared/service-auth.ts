// sms-dispatch and summarize work for the whole platform (every business's outbox and summaries), so
// only the service role may call them: the legacy service_role key (SUPABASE_SERVICE_ROLE_KEY, what the
// database's wake sends from the vault) or a secret key (sb_secret_..., SUPABASE_SECRET_KEYS), in
// Authorization: Bearer or in apikey. The anon key, a publishable key and a user's JWT are all valid
// project credentials that verify_jwt would let through, so the check is here, and verify_jwt is off for
// these functions in config.toml (it cannot verify the new opaque keys anyway).
import { z } from "zod";
import { ConfigError, UnauthorizedError } from "./http.ts";

export interface ServiceCredentials {
  serviceRoleKey: string;
  secretKeys: string[];
}

const secretKeysSchema = z.record(z.string().min(1));

/** The accepted credentials from the function's environment (SUPABASE_SECRET_KEYS is optional JSON). */
export function serviceCredentialsFrom(env: { SUPABASE_SERVICE_ROLE_KEY: string; SUPABASE_SECRET_KEYS?: string }): ServiceCredentials {
  let secretKeys: string[] = [];
  if (env.SUPABASE_SECRET_KEYS) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.SUPABASE_SECRET_KEYS);
    } catch {
      throw new ConfigError("SUPABASE_SECRET_KEYS must be a JSON object of key names to sb_secret_ keys");
    }
    const keys = secretKeysSchema.safeParse(parsed);
    if (!keys.success) throw new ConfigError("SUPABASE_SECRET_KEYS must be a JSON object of key names to sb_secret_ keys");
    secretKeys = Object.values(keys.data);
  }
  return { serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY, secretKeys };
}

async function digest(value: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
}

/** Compares digests in full, so the time taken says nothing about how much of a key was right. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

export const notServiceRoleMessage =
  "this function is for the platform: call it with the service role key or a secret key (sb_secret_...)";

/** Throws UnauthorizedError (401) unless the request carries a service credential. */
export async function requireServiceRole(req: Request, credentials: ServiceCredentials): Promise<void> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  const presented = [bearer, req.headers.get("apikey")?.trim()].filter((v): v is string => !!v);
  const accepted = [credentials.serviceRoleKey, ...credentials.secretKeys].filter((v) => v.length > 0);
  for (const candidate of presented) {
    for (const key of accepted) if (await sameSecret(candidate, key)) return;
  }
  throw new UnauthorizedError(notServiceRoleMessage);
}
