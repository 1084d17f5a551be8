// Token checks as Realtime's jwt_verification does them (docs/supabase-standin-spec.md §3.1, §3.3): HS256/384/512 with the project
// secret, and the claims must carry both `role` and `exp`, with `exp` in the future.
import { createHmac, timingSafeEqual } from "node:crypto";

export type Claims = Record<string, unknown> & { role: string; exp: number };

export type TokenProblem = "missing" | "invalid" | "signature" | "fields" | "expired";

export class TokenError extends Error {
  constructor(
    readonly problem: TokenProblem,
    message: string,
    /** Seconds since expiry, for the join-time message. */
    readonly expiredSecondsAgo = 0,
  ) {
    super(message);
  }
}

const hmacAlgorithms: Record<string, string> = { HS256: "sha256", HS384: "sha384", HS512: "sha512" };

function decodeJsonSegment(segment: string): unknown {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) throw new TokenError("invalid", "The token provided is not a valid JWT");
  try {
    return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw new TokenError("invalid", "The token provided is not a valid JWT");
  }
}

export function isJwtShaped(token: string): boolean {
  return token.split(".").length === 3;
}

export function verifyRealtimeToken(token: string | undefined | null, secret: string, nowMs = Date.now()): Claims {
  if (token === undefined || token === null || token === "") throw new TokenError("missing", "API key is missing");
  const parts = token.split(".");
  if (parts.length !== 3) throw new TokenError("invalid", "The token provided is not a valid JWT");
  const header = decodeJsonSegment(parts[0]) as { alg?: unknown } | null;
  const claims = decodeJsonSegment(parts[1]);
  const hash = typeof header?.alg === "string" ? hmacAlgorithms[header.alg] : undefined;
  if (!hash) throw new TokenError("signature", "Failed to validate JWT signature");
  const expected = createHmac(hash, secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = /^[A-Za-z0-9_-]+$/.test(parts[2]) ? Buffer.from(parts[2], "base64url") : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new TokenError("signature", "Failed to validate JWT signature");
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw new TokenError("invalid", "The token provided is not a valid JWT");
  }
  const c = claims as Record<string, unknown>;
  if (typeof c.role !== "string" || c.role === "" || typeof c.exp !== "number") {
    throw new TokenError("fields", "Fields `role` and `exp` are required in JWT");
  }
  const secondsLeft = c.exp - nowMs / 1000;
  if (secondsLeft <= 0) {
    const ago = Math.max(0, Math.floor(-secondsLeft));
    throw new TokenError("expired", "Token has expired", ago);
  }
  return c as Claims;
}

/** The join-time reason string: `InvalidJWTToken: Token has expired N seconds ago`, etc. */
export function joinErrorReason(error: TokenError): string {
  switch (error.problem) {
    case "expired":
      return `InvalidJWTToken: Token has expired ${error.expiredSecondsAgo} seconds ago`;
    case "fields":
      return "InvalidJWTToken: Fields `role` and `exp` are required in JWT";
    case "missing":
      return "InvalidJWTToken: API key is missing";
    default:
      return `InvalidJWTToken: ${error.message}`;
  }
}
