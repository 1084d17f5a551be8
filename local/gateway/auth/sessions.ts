// Sessions as GoTrue keeps them (docs/supabase-standin-spec.md §2.2-2.4): the password, refresh-token and
// PKCE grants (rotation, reuse interval, reuse after it revokes the family), access tokens, the session check
// every user endpoint makes, and logout. Sessions record the client address the gateway saw and how the
// user signed in (amr), and banned users get neither new sessions nor refreshed ones.
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import bcrypt from "bcryptjs";
import type pg from "pg";
import { signHs256 } from "../../keys.ts";
import { bearerToken, verifyJwt, type JwtClaims } from "../jwt.ts";
import { requireToken } from "./limits.ts";
import { redeemAuthCode } from "./tokens.ts";
import {
  AuthError,
  clientAddress,
  findUserByEmail,
  INSTANCE_ID,
  isBanned,
  loadUser,
  newRefreshToken,
  OAuthError,
  passwordWeakness,
  transaction,
  userJson,
  type AuthContext,
  type UserRow,
} from "./users.ts";

export type Amr = { method: string; timestamp: number }[];

/**
 * A bcrypt hash (cost 10) of a random string, compared against when an address has no account, so an
 * unknown email costs the same hashing time as a wrong password and answers in the same time.
 */
const DUMMY_HASH = bcrypt.hashSync(randomBytes(16).toString("hex"), 10);

export function accessToken(ctx: AuthContext, user: UserRow, sessionId: string, amr: Amr): { token: string; iat: number; exp: number } {
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + ctx.settings.jwtExpirySeconds;
  const claims = {
    iss: `${ctx.publicUrl()}/auth/v1`,
    sub: user.id,
    aud: user.aud ?? "authenticated",
    exp,
    iat,
    email: user.email ?? "",
    phone: user.phone ?? "",
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    role: user.role ?? "authenticated",
    aal: "aal1",
    amr,
    session_id: sessionId,
    is_anonymous: user.is_anonymous,
  };
  return { token: signHs256(claims, ctx.secret), iat, exp };
}

export interface SessionBody {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  expires_at: number;
  refresh_token: string;
  user: Record<string, unknown>;
  weak_password?: { message: string; reasons: string[] };
}

export async function sessionResponse(ctx: AuthContext, c: pg.PoolClient, userId: string, sessionId: string, refreshToken: string, amr: Amr) {
  const loaded = await loadUser(c, userId);
  if (!loaded) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
  const at = accessToken(ctx, loaded.user, sessionId, amr);
  const body: SessionBody = {
    access_token: at.token,
    token_type: "bearer",
    expires_in: ctx.settings.jwtExpirySeconds,
    expires_at: at.exp,
    refresh_token: refreshToken,
    user: userJson(loaded.user, loaded.identities),
  };
  return { body, headers: { "sb-auth-user-id": userId, "sb-auth-session-id": sessionId } };
}

function userAgent(req: IncomingMessage): string | null {
  return typeof req.headers["user-agent"] === "string" ? req.headers["user-agent"] : null;
}

/** A new session, its first refresh token and its amr claim, with the client's address and user agent. */
export async function createSession(c: pg.PoolClient, userId: string, req: IncomingMessage, method: string): Promise<{ sessionId: string; refreshToken: string }> {
  const sessionId = randomUUID();
  await c.query(
    "insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip) values ($1, $2, now(), now(), 'aal1', $3, $4)",
    [sessionId, userId, userAgent(req), clientAddress(req) || null],
  );
  await c.query("insert into auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method) values ($1, now(), now(), $2)", [sessionId, method]);
  const refreshToken = newRefreshToken();
  await c.query(
    "insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id) values ($1, $2, $3, false, now(), now(), null, $4)",
    [INSTANCE_ID, refreshToken, userId, sessionId],
  );
  return { sessionId, refreshToken };
}

/** Signs a user in: a session with the given method, last_sign_in_at, and the session response. */
export async function issueSession(ctx: AuthContext, c: pg.PoolClient, userId: string, req: IncomingMessage, method: string) {
  await c.query("update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1", [userId]);
  await c.query("update auth.identities set last_sign_in_at = now() where user_id = $1 and provider = 'email'", [userId]);
  const { sessionId, refreshToken } = await createSession(c, userId, req, method);
  return sessionResponse(ctx, c, userId, sessionId, refreshToken, [{ method, timestamp: Math.floor(Date.now() / 1000) }]);
}

async function sessionAmr(c: pg.PoolClient, sessionId: string): Promise<Amr> {
  const rows = await c.query("select authentication_method, created_at from auth.mfa_amr_claims where session_id = $1 order by created_at desc", [sessionId]);
  return rows.rows.map((r) => ({ method: r.authentication_method, timestamp: Math.floor(new Date(r.created_at).getTime() / 1000) }));
}

export async function passwordGrant(ctx: AuthContext, req: IncomingMessage, body: Record<string, unknown>) {
  const password = typeof body.password === "string" ? body.password : "";
  if (typeof body.email !== "string" && typeof body.phone !== "string") {
    throw new AuthError(400, "validation_failed", "Only an email address or phone number should be provided on login.");
  }
  const email = typeof body.email === "string" ? body.email.trim().toLowerCase() : "";
  const user = email ? await findUserByEmail(ctx.pool, email) : undefined;
  // Always one bcrypt comparison, so an unknown address is not faster than a wrong password.
  const matches = await bcrypt.compare(password, user?.encrypted_password || DUMMY_HASH);
  if (!user || !user.encrypted_password || !matches) throw new AuthError(400, "invalid_credentials", "Invalid login credentials");
  // Only after the password proved who is asking (GoTrue checks the ban first, which tells anyone the account exists).
  if (isBanned(user)) throw new AuthError(400, "user_banned", "User is banned");
  if (!user.email_confirmed_at) throw new AuthError(400, "email_not_confirmed", "Email not confirmed");
  const result = await transaction(ctx.pool, (c) => issueSession(ctx, c, user.id, req, "password"));
  const weak = passwordWeakness(ctx.settings, password);
  if (weak) result.body.weak_password = weak;
  return result;
}

export async function refreshGrant(ctx: AuthContext, req: IncomingMessage, body: Record<string, unknown>) {
  const token = body.refresh_token;
  if (typeof token !== "string" || token === "") throw new OAuthError(400, "invalid_request", "refresh_token required");
  const outcome = await transaction(ctx.pool, async (c) => {
    const found = await c.query(
      `select rt.*, s.id as live_session, u.banned_until from auth.refresh_tokens rt
       left join auth.sessions s on s.id = rt.session_id
       left join auth.users u on u.id = s.user_id
       where rt.token = $1 for update of rt`,
      [token],
    );
    const row = found.rows[0];
    if (!row || !row.live_session) throw new AuthError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    if (isBanned(row)) throw new AuthError(400, "user_banned", "Invalid Refresh Token: User Banned");
    const amr = await sessionAmr(c, row.session_id);
    const touch = () =>
      c.query("update auth.sessions set refreshed_at = now(), updated_at = now(), user_agent = $2, ip = $3 where id = $1", [
        row.session_id,
        userAgent(req),
        clientAddress(req) || null,
      ]);
    if (row.revoked) {
      const revokedAt = new Date(row.updated_at).getTime();
      const withinReuse = Date.now() - revokedAt < ctx.settings.refreshTokenReuseIntervalSeconds * 1000;
      if (withinReuse) {
        // A concurrent refresh (e.g. two tabs): hand out the currently active child instead of failing.
        const child = await c.query(
          "select token from auth.refresh_tokens where session_id = $1 and revoked = false order by id desc limit 1",
          [row.session_id],
        );
        if (child.rows[0]) {
          await touch();
          return sessionResponse(ctx, c, row.user_id, row.session_id, child.rows[0].token, amr);
        }
      }
      // Reuse outside the window: treat the family as compromised and revoke every token of the session
      // (committed, then reported).
      await c.query("update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = $1 and revoked = false", [row.session_id]);
      return "reused" as const;
    }
    await c.query("update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1", [row.id]);
    const next = newRefreshToken();
    await c.query(
      "insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id) values ($1, $2, $3, false, now(), now(), $4, $5)",
      [INSTANCE_ID, next, row.user_id, token, row.session_id],
    );
    await touch();
    return sessionResponse(ctx, c, row.user_id, row.session_id, next, amr);
  });
  if (outcome === "reused") throw new AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
  return outcome;
}

/** /token?grant_type=pkce: the auth code from a verify redirect plus the verifier the client kept. */
export async function pkceGrant(ctx: AuthContext, req: IncomingMessage, body: Record<string, unknown>) {
  const authCode = typeof body.auth_code === "string" ? body.auth_code : "";
  const verifier = typeof body.code_verifier === "string" ? body.code_verifier : "";
  if (!authCode || !verifier) throw new AuthError(400, "validation_failed", "invalid request: both auth code and code verifier should be non-empty");
  return transaction(ctx.pool, async (c) => {
    const { userId, method } = await redeemAuthCode(c, authCode, verifier);
    const loaded = await loadUser(c, userId);
    if (!loaded) throw new AuthError(404, "user_not_found", "User not found");
    if (isBanned(loaded.user)) throw new AuthError(400, "user_banned", "User is banned");
    return issueSession(ctx, c, userId, req, method);
  });
}

export async function tokenGrant(ctx: AuthContext, req: IncomingMessage, grant: string | null, body: Record<string, unknown>) {
  // GoTrue limits every grant with the token_refresh bucket, per client address.
  requireToken(ctx.limits.token, clientAddress(req));
  if (grant === "password") return passwordGrant(ctx, req, body);
  if (grant === "refresh_token") return refreshGrant(ctx, req, body);
  if (grant === "pkce") return pkceGrant(ctx, req, body);
  throw new AuthError(400, "invalid_credentials", "unsupported_grant_type");
}

export interface AuthenticatedUser {
  claims: JwtClaims;
  userId: string;
  sessionId?: string;
  sessionCreatedAt?: Date;
  user: UserRow;
}

/** Verifies the user JWT the way GoTrue's requireAuthentication + session lookup does; banned users are refused. */
export async function requireUser(ctx: AuthContext, req: IncomingMessage): Promise<AuthenticatedUser> {
  const authorization = req.headers.authorization;
  const token = bearerToken(typeof authorization === "string" ? authorization : undefined);
  if (!token) throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
  let claims: JwtClaims;
  try {
    claims = verifyJwt(token, ctx.secret, Date.now() / 1000 + 30); // GoTrue allows no clock skew on exp
  } catch (err) {
    throw new AuthError(403, "bad_jwt", `invalid JWT: unable to parse or verify signature, ${(err as Error).message}`);
  }
  if (typeof claims.sub !== "string" || claims.sub === "") throw new AuthError(403, "bad_jwt", "invalid claim: missing sub claim");
  const sessionId = typeof claims.session_id === "string" ? claims.session_id : undefined;
  let sessionCreatedAt: Date | undefined;
  if (sessionId) {
    const s = await ctx.pool.query("select created_at from auth.sessions where id = $1", [sessionId]);
    if (!s.rows[0]) throw new AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
    sessionCreatedAt = s.rows[0].created_at;
  }
  const u = await ctx.pool.query<UserRow>("select * from auth.users where id = $1", [claims.sub]);
  const user = u.rows[0];
  if (!user) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
  if (isBanned(user)) throw new AuthError(403, "user_banned", "User is banned");
  return { claims, userId: claims.sub, sessionId, sessionCreatedAt, user };
}

export async function logout(ctx: AuthContext, req: IncomingMessage, scope: string) {
  if (!["global", "local", "others"].includes(scope)) {
    throw new AuthError(400, "validation_failed", `Unsupported logout scope "${scope}"`);
  }
  const { userId, sessionId } = await requireUser(ctx, req);
  await transaction(ctx.pool, async (c) => {
    if (scope === "global" || !sessionId) {
      await c.query("delete from auth.refresh_tokens where user_id = $1", [userId]);
      await c.query("delete from auth.sessions where user_id = $1", [userId]);
    } else if (scope === "local") {
      await c.query("delete from auth.sessions where id = $1", [sessionId]);
    } else {
      await logoutOthers(c, userId, sessionId);
    }
  });
}

/** Ends every session of the user but one (GoTrue's LogoutAllExceptMe); their refresh tokens go with them. */
export async function logoutOthers(c: pg.PoolClient, userId: string, keepSessionId: string | undefined): Promise<void> {
  if (keepSessionId) await c.query("delete from auth.sessions where user_id = $1 and id <> $2", [userId, keepSessionId]);
  else await c.query("delete from auth.sessions where user_id = $1", [userId]);
  await c.query("delete from auth.refresh_tokens where user_id = $1::text and (session_id is null or session_id <> coalesce($2::uuid, '00000000-0000-0000-0000-000000000000'))", [
    userId,
    keepSessionId ?? null,
  ]);
}
