// What billing-checkout and billing-portal share about the owner's request: the bearer token the
// database is asked with, and where Stripe sends the owner back.
import { UnauthorizedError } from "./http.ts";

/** The caller's Authorization header; the gateway verified it, the database decides what it may do. */
export function bearer(req: Request): string {
  const authorization = req.headers.get("authorization") ?? "";
  if (!/^Bearer \S+$/i.test(authorization)) throw new UnauthorizedError("sign in first: an Authorization: Bearer <token> header is required");
  return authorization;
}

/** The dashboard's billing page (web/src/router.tsx: /billing). */
export function billingPageUrl(dashboardUrl: string): string {
  return `${dashboardUrl.replace(/\/+$/, "")}/billing`;
}
