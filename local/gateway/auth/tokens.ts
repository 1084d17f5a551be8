// One-time codes and the PKCE flow state, as GoTrue makes them: an n-digit code mailed to the user, stored
// only as sha224(email + code) (prefixed `pkce_` when the request came with a code challenge), and for PKCE
// a flow_state row whose auth code the verify redirect hands out and /token?grant_type=pkce redeems once.
import { createHash, randomInt, randomUUID } from "node:crypto";
import type pg from "pg";
import { AuthError } from "./users.ts";

export const PKCE_PREFIX = "pkce_";
/** GoTrue's FlowStateExpiryDuration. */
const FLOW_STATE_EXPIRY_SECONDS = 300;

export function generateOtp(digits: number): string {
  return String(randomInt(0, 10 ** digits)).padStart(digits, "0");
}

export function tokenHash(emailOrPhone: string, otp: string): string {
  return createHash("sha224").update(emailOrPhone + otp).digest("hex");
}

/** The stored form of a mailed token: the hash, prefixed for PKCE. */
export function storedToken(emailOrPhone: string, otp: string, pkce: boolean): string {
  return (pkce ? PKCE_PREFIX : "") + tokenHash(emailOrPhone, otp);
}

/** Whether a presented hash matches a stored token (with or without the PKCE prefix), GoTrue's isOtpValid. */
export function tokenMatches(presented: string, stored: string | null | undefined): boolean {
  if (!stored || !presented) return false;
  return presented === stored || PKCE_PREFIX + presented === stored;
}

export function isExpired(sentAt: Date | null | undefined, expirySeconds: number): boolean {
  return !sentAt || Date.now() > sentAt.getTime() + expirySeconds * 1000;
}

export interface PkceRequest {
  codeChallenge: string;
  method: "s256" | "plain";
}

/** GoTrue's validatePKCEParams: both or neither, a known method, a challenge of 43-128 characters. */
export function pkceParams(body: Record<string, unknown>): PkceRequest | undefined {
  const challenge = typeof body.code_challenge === "string" ? body.code_challenge : "";
  const method = typeof body.code_challenge_method === "string" ? body.code_challenge_method.toLowerCase() : "";
  if (challenge === "" && method === "") return undefined;
  if (challenge === "" || method === "") {
    throw new AuthError(400, "validation_failed", "PKCE flow requires code_challenge_method and code_challenge");
  }
  if (method !== "s256" && method !== "plain") throw new AuthError(400, "validation_failed", `code challenge method ${method} not supported`);
  if (challenge.length < 43 || challenge.length > 128) {
    throw new AuthError(400, "validation_failed", "code challenge has to be between 43 and 128 characters");
  }
  return { codeChallenge: challenge, method };
}

/** Authentication methods GoTrue records for a flow (and puts in the session's amr). */
export type FlowMethod = "email/signup" | "magiclink" | "recovery" | "email_change";

export async function createFlowState(c: pg.PoolClient | pg.Pool, userId: string, pkce: PkceRequest, method: FlowMethod): Promise<void> {
  await c.query(
    `insert into auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge, provider_type, authentication_method, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, now(), now())`,
    [randomUUID(), userId, randomUUID(), pkce.method, pkce.codeChallenge, method === "email/signup" ? "email" : method, method],
  );
}

/** The auth code of the user's newest flow for `method`, marked issued (GoTrue's issueAuthCode). */
export async function issueAuthCode(c: pg.PoolClient, userId: string, method: FlowMethod): Promise<string> {
  const found = await c.query(
    `update auth.flow_state set auth_code_issued_at = now(), updated_at = now()
      where id = (select id from auth.flow_state where user_id = $1 and authentication_method = $2 order by created_at desc limit 1)
      returning auth_code`,
    [userId, method],
  );
  if (!found.rows[0]) throw new AuthError(400, "flow_state_not_found", "No associated flow state found. flow state not found");
  return found.rows[0].auth_code;
}

/** Redeems an auth code with its verifier, once; returns the user and the flow's method. */
export async function redeemAuthCode(c: pg.PoolClient, authCode: string, verifier: string): Promise<{ userId: string; method: string }> {
  const found = await c.query("select * from auth.flow_state where auth_code = $1 for update", [authCode]);
  const flow = found.rows[0];
  if (!flow || !flow.user_id) throw new AuthError(404, "flow_state_not_found", "invalid flow state, no valid flow state found");
  if (Date.now() > new Date(flow.created_at).getTime() + FLOW_STATE_EXPIRY_SECONDS * 1000) {
    throw new AuthError(422, "flow_state_expired", "invalid flow state, flow state has expired");
  }
  const expected =
    flow.code_challenge_method === "s256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
  if (expected !== flow.code_challenge) throw new AuthError(400, "bad_code_verifier", "code challenge does not match previously saved code verifier");
  await c.query("delete from auth.flow_state where id = $1", [flow.id]);
  return { userId: flow.user_id, method: flow.authentication_method };
}
