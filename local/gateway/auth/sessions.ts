// Sessions as GoTrue keeps them (docs/supabase-standin-spec.md §2.2-2.4): signup with autoconfirm, the
// password and refresh-token grants (rotation, 10 s reuse interval, reuse after it revokes the family),
// access tokens, the session check every user endpoint makes, and logout.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import bcrypt from "bcryptjs";
import type pg from "pg";
import { signHs256 } from "../../keys.ts";
import { bearerToken, verifyJwt, type JwtClaims } from "../jwt.ts";
import {
  AuthError,
  checkPassword,
  hashPassword,
  insertUser,
  INSTANCE_ID,
  loadUser,
  newRefreshToken,
  normalizeEmail,
  OAuthError,
  transaction,
  userJson,
  type AuthContext,
  type UserRow,
} from "./users.ts";

const JWT_EXPIRY_SECONDS = 3600;
const REFRESH_TOKEN_REUSE_INTERVAL_SECONDS = 10;

export function accessToken(ctx: AuthContext, user: UserRow, sessionId: string, amr: { method: string; timestamp: number }[]): { token: string; iat: number; exp: number } {
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + JWT_EXPIRY_SECONDS;
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

export async function sessionResponse(ctx: AuthContext, c: pg.PoolClient, userId: string, sessionId: string, refreshToken: string, amr: { method: string; timestamp: number }[]) {
  const loaded = await loadUser(c, userId);
  if (!loaded) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
  const at = accessToken(ctx, loaded.user, sessionId, amr);
  return {
    body: {
      access_token: at.token,
      token_type: "bearer",
      expires_in: JWT_EXPIRY_SECONDS,
      expires_at: at.exp,
      refresh_token: refreshToken,
      user: userJson(loaded.user, loaded.identities),
    },
    headers: { "sb-auth-user-id": userId, "sb-auth-session-id": sessionId },
  };
}

export async function createSession(c: pg.PoolClient, userId: string, req: IncomingMessage): Promise<{ sessionId: string; refreshToken: string }> {
  const sessionId = randomUUID();
  const ua = typeof req.headers["user-agent"] === "string" ? req.headers["user-agent"] : null;
  await c.query(
    "insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip) values ($1, $2, now(), now(), 'aal1', $3, $4)",
    [sessionId, userId, ua, "127.0.0.1"],
  );
  const refreshToken = newRefreshToken();
  await c.query(
    "insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id) values ($1, $2, $3, false, now(), now(), null, $4)",
    [INSTANCE_ID, refreshToken, userId, sessionId],
  );
  return { sessionId, refreshToken };
}

export async function signup(ctx: AuthContext, req: IncomingMessage, body: Record<string, unknown>) {
  if (body.email === undefined && body.phone === undefined) {
    throw new AuthError(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled");
  }
  if (body.phone !== undefined && body.email === undefined) {
    throw new AuthError(400, "phone_provider_disabled", "Phone signups are disabled");
  }
  const email = normalizeEmail(body.email);
  const password = checkPassword(body.password);
  const data = body.data && typeof body.data === "object" && !Array.isArray(body.data) ? (body.data as Record<string, unknown>) : {};
  const hash = await hashPassword(password);
  return transaction(ctx.pool, async (c) => {
    const existing = await c.query("select id from auth.users where email = $1 and is_sso_user = false", [email]);
    if (existing.rows[0]) throw new AuthError(422, "user_already_exists", "User already registered");
    // Autoconfirm (the CLI default with enable_confirmations = false).
    const id = await insertUser(c, { email, hash, userMeta: data, appMeta: {}, confirm: true, signIn: true });
    const { sessionId, refreshToken } = await createSession(c, id, req);
    return sessionResponse(ctx, c, id, sessionId, refreshToken, [{ method: "password", timestamp: Math.floor(Date.now() / 1000) }]);
  });
}

export async function passwordGrant(ctx: AuthContext, req: IncomingMessage, body: Record<string, unknown>) {
  const password = typeof body.password === "string" ? body.password : "";
  if (typeof body.email !== "string" && typeof body.phone !== "string") {
    throw new AuthError(400, "validation_failed", "Only an email address or phone number should be provided on login.");
  }
  const email = typeof body.email === "string" ? body.email.trim().toLowerCase() : "";
  const found = await ctx.pool.query<UserRow>("select * from auth.users where email = $1 and is_sso_user = false and deleted_at is null", [email]);
  const user = found.rows[0];
  const ok = user?.encrypted_password ? await bcrypt.compare(password, user.encrypted_password) : false;
  if (!user || !ok) throw new AuthError(400, "invalid_credentials", "Invalid login credentials");
  if (!user.email_confirmed_at) throw new AuthError(400, "email_not_confirmed", "Email not confirmed");
  if (user.banned_until && user.banned_until > new Date()) throw new AuthError(400, "user_banned", "User is banned");
  return transaction(ctx.pool, async (c) => {
    await c.query("update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1", [user.id]);
    await c.query("update auth.identities set last_sign_in_at = now() where user_id = $1 and provider = 'email'", [user.id]);
    const { sessionId, refreshToken } = await createSession(c, user.id, req);
    return sessionResponse(ctx, c, user.id, sessionId, refreshToken, [{ method: "password", timestamp: Math.floor(Date.now() / 1000) }]);
  });
}

export async function refreshGrant(ctx: AuthContext, body: Record<string, unknown>) {
  const token = body.refresh_token;
  if (typeof token !== "string" || token === "") throw new OAuthError(400, "invalid_request", "refresh_token required");
  const outcome = await transaction(ctx.pool, async (c) => {
    const found = await c.query(
      `select rt.*, s.id as live_session, s.created_at as session_created_at from auth.refresh_tokens rt
       left join auth.sessions s on s.id = rt.session_id where rt.token = $1 for update of rt`,
      [token],
    );
    const row = found.rows[0];
    if (!row || !row.live_session) throw new AuthError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    const amr = [{ method: "password", timestamp: Math.floor(new Date(row.session_created_at).getTime() / 1000) }];
    if (row.revoked) {
      const revokedAt = new Date(row.updated_at).getTime();
      const withinReuse = Date.now() - revokedAt < REFRESH_TOKEN_REUSE_INTERVAL_SECONDS * 1000;
      if (withinReuse) {
        // A concurrent refresh (e.g. two tabs): hand out the currently active child instead of failing.
        const child = await c.query(
          "select token from auth.refresh_tokens where session_id = $1 and revoked = false order by id desc limit 1",
          [row.session_id],
        );
        if (child.rows[0]) {
          await c.query("update auth.sessions set refreshed_at = now(), updated_at = now() where id = $1", [row.session_id]);
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
    await c.query("update auth.sessions set refreshed_at = now(), updated_at = now() where id = $1", [row.session_id]);
    return sessionResponse(ctx, c, row.user_id, row.session_id, next, amr);
  });
  if (outcome === "reused") throw new AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
  return outcome;
}

/** Verifies the user JWT the way GoTrue's requireAuthentication + session lookup does. */
export async function requireUser(ctx: AuthContext, req: IncomingMessage): Promise<{ claims: JwtClaims; userId: string; sessionId?: string }> {
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
  if (sessionId) {
    const s = await ctx.pool.query("select 1 from auth.sessions where id = $1", [sessionId]);
    if (!s.rows[0]) throw new AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
  }
  const u = await ctx.pool.query("select 1 from auth.users where id = $1", [claims.sub]);
  if (!u.rows[0]) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
  return { claims, userId: claims.sub, sessionId };
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
      await c.query("delete from auth.sessions where user_id = $1 and id <> $2", [userId, sessionId]);
    }
  });
}
