// HS256 verification as PostgREST and GoTrue do it; anything else (alg none, RS256 without keys) is refused.
import { createHmac, timingSafeEqual } from "node:crypto";

export type JwtClaims = Record<string, unknown>;

export class JwtError extends Error {
  constructor(
    /** PGRST301 (decode/signature) or PGRST303 (claims). */
    readonly code: "PGRST301" | "PGRST303",
    message: string,
  ) {
    super(message);
  }
}

const CLOCK_SKEW_SECONDS = 30;

function decodeSegment(segment: string): unknown {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) throw new Error("not base64url");
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

/** Verifies signature and time claims; returns the claims object. */
export function verifyJwt(token: string, secret: string, nowSeconds = Date.now() / 1000): JwtClaims {
  if (token === "") throw new JwtError("PGRST301", "Empty JWT is sent in Authorization header");
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError("PGRST301", `Expected 3 parts in JWT; got ${parts.length}`);
  let header: unknown;
  let claims: unknown;
  try {
    header = decodeSegment(parts[0]);
    claims = decodeSegment(parts[1]);
  } catch {
    throw new JwtError("PGRST301", "JWT cryptographic operation failed");
  }
  if (typeof header !== "object" || header === null || (header as { alg?: unknown }).alg !== "HS256") {
    throw new JwtError("PGRST301", "Wrong or unsupported encoding algorithm");
  }
  const expected = createHmac("sha256", secret).update(`${parts[0]}.${parts[1]}`).digest();
  let given: Buffer;
  try {
    given = Buffer.from(parts[2], "base64url");
  } catch {
    throw new JwtError("PGRST301", "JWT cryptographic operation failed");
  }
  if (!/^[A-Za-z0-9_-]+$/.test(parts[2]) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JwtError("PGRST301", "JWT cryptographic operation failed");
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw new JwtError("PGRST303", "Parsing claims failed");
  }
  const c = claims as JwtClaims;
  checkTimeClaims(c, nowSeconds);
  return c;
}

/** The time claims (exp, nbf, iat) against now, with PostgREST's 30 s of clock skew. */
export function checkTimeClaims(c: JwtClaims, nowSeconds = Date.now() / 1000): void {
  if ("exp" in c) {
    if (typeof c.exp !== "number") throw new JwtError("PGRST303", "The JWT 'exp' claim must be a number");
    if (c.exp < nowSeconds - CLOCK_SKEW_SECONDS) throw new JwtError("PGRST303", "JWT expired");
  }
  if ("nbf" in c) {
    if (typeof c.nbf !== "number") throw new JwtError("PGRST303", "The JWT 'nbf' claim must be a number");
    if (c.nbf > nowSeconds + CLOCK_SKEW_SECONDS) throw new JwtError("PGRST303", "JWT not yet valid");
  }
  if ("iat" in c) {
    if (typeof c.iat !== "number") throw new JwtError("PGRST303", "The JWT 'iat' claim must be a number");
    if (c.iat > nowSeconds + CLOCK_SKEW_SECONDS) throw new JwtError("PGRST303", "JWT issued at future");
  }
}

/** Token of an `Authorization: Bearer x` header (scheme case-insensitive); undefined for any other form. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^bearer(?:\s+(.*))?$/i.exec(authorization.trim());
  if (!m) return undefined;
  return (m[1] ?? "").trim();
}
