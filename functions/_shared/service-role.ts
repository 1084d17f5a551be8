// Functions only the database (pg_net, with the service key from the vault) may call: the key itself must be
// the bearer token. The gateway's verify_jwt accepts any valid JWT, the anon key and users' tokens included.
import { UnauthorizedError } from "./http.ts";

/** Constant-time comparison, so the key cannot be guessed from response times. */
function sameKey(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Throws 401 unless the request's bearer token is the service role key. */
export function requireServiceRole(req: Request, serviceRoleKey: string, what: string): void {
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
  if (!sameKey(token, serviceRoleKey)) throw new UnauthorizedError(`only the service role may ${what}`);
}
