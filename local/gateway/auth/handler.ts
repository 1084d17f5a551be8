// GoTrue's email+password subset (docs/supabase-standin-spec.md §2): signup with autoconfirm, password and
// refresh-token grants with rotation and reuse detection, /user, /logout, /settings, /health.
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import bcrypt from "bcryptjs";
import pg from "pg";
import type { InstanceConfig } from "../../config.ts";
import { signHs256 } from "../../keys.ts";
import { BodyTooLargeError, readBody, RequestAbortedError, send } from "../http.ts";
import { bearerToken, verifyJwt, type JwtClaims } from "../jwt.ts";

const API_VERSION = "2024-01-01";
const JWT_EXPIRY_SECONDS = 3600;
const REFRESH_TOKEN_REUSE_INTERVAL_SECONDS = 10;
const MIN_PASSWORD_LENGTH = 6;
const INSTANCE_ID = "00000000-0000-0000-0000-000000000000";
const BCRYPT_COST = 10;

export interface AuthService {
  handle(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void>;
  close(): Promise<void>;
}

class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** OAuth-style error body ({error, error_description}) used by the token endpoint for malformed grants. */
class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  phone: string | null;
  phone_confirmed_at: Date | null;
  confirmation_sent_at: Date | null;
  confirmed_at: Date | null;
  recovery_sent_at: Date | null;
  email_change: string | null;
  email_change_sent_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  banned_until: Date | null;
  deleted_at: Date | null;
  is_anonymous: boolean;
}

interface IdentityRow {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Record<string, unknown>;
  provider: string;
  last_sign_in_at: Date | null;
  created_at: Date;
  updated_at: Date;
  email: string | null;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace("Z", "Z") : undefined);

function userJson(u: UserRow, identities: IdentityRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: u.id,
    aud: u.aud ?? "authenticated",
    role: u.role ?? "authenticated",
    email: u.email ?? "",
  };
  const optional: [string, unknown][] = [
    ["email_confirmed_at", iso(u.email_confirmed_at)],
  ];
  for (const [k, v] of optional) if (v !== undefined) out[k] = v;
  out.phone = u.phone ?? "";
  const rest: [string, unknown][] = [
    ["phone_confirmed_at", iso(u.phone_confirmed_at)],
    ["confirmation_sent_at", iso(u.confirmation_sent_at)],
    ["confirmed_at", iso(u.confirmed_at)],
    ["recovery_sent_at", iso(u.recovery_sent_at)],
    ["new_email", u.email_change || undefined],
    ["email_change_sent_at", iso(u.email_change_sent_at)],
    ["last_sign_in_at", iso(u.last_sign_in_at)],
  ];
  for (const [k, v] of rest) if (v !== undefined) out[k] = v;
  out.app_metadata = u.raw_app_meta_data ?? {};
  out.user_metadata = u.raw_user_meta_data ?? {};
  out.identities = identities.map((i) => ({
    identity_id: i.id,
    id: i.provider_id,
    user_id: i.user_id,
    identity_data: i.identity_data,
    provider: i.provider,
    last_sign_in_at: iso(i.last_sign_in_at),
    created_at: iso(i.created_at),
    updated_at: iso(i.updated_at),
    email: i.email ?? undefined,
  }));
  out.created_at = iso(u.created_at);
  out.updated_at = iso(u.updated_at);
  if (u.banned_until) out.banned_until = iso(u.banned_until);
  if (u.deleted_at) out.deleted_at = iso(u.deleted_at);
  out.is_anonymous = u.is_anonymous;
  return out;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** bcrypt with GoTrue's `$2a$` prefix (Go's x/crypto/bcrypt); bcryptjs makes `$2b$`, identical below 256 bytes. */
async function hashPassword(password: string): Promise<string> {
  const salt = (await bcrypt.genSalt(BCRYPT_COST)).replace(/^\$2b\$/, () => "$2a$");
  return bcrypt.hash(password, salt);
}

function newRefreshToken(): string {
  // GoTrue v1 refresh tokens: 12 random alphanumeric characters.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(12);
  let s = "";
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

export function createAuthService({
  config,
  bodyLimit,
  publicUrl,
}: {
  config: InstanceConfig;
  bodyLimit: number;
  /** The gateway's own base URL once it listens (differs from config.supabaseUrl for port-0 test gateways). */
  publicUrl: () => string;
}): AuthService {
  // GoTrue connects as its own admin role; the superuser URL stands in for supabase_auth_admin locally.
  const pool = new pg.Pool({ connectionString: config.dbUrl, max: 4, application_name: "leadloop-gateway-auth" });
  pool.on("error", (err) => console.error("[gateway] idle auth connection failed:", err.message));
  const secret = config.keys.jwtSecret;

  async function tx<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await pool.connect();
    try {
      await c.query("BEGIN");
      const out = await work(c);
      await c.query("COMMIT");
      return out;
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  async function loadUser(c: pg.PoolClient | pg.Pool, id: string): Promise<{ user: UserRow; identities: IdentityRow[] } | undefined> {
    const u = await c.query<UserRow>("select * from auth.users where id = $1", [id]);
    if (!u.rows[0]) return undefined;
    const ids = await c.query<IdentityRow>("select * from auth.identities where user_id = $1 order by created_at", [id]);
    return { user: u.rows[0], identities: ids.rows };
  }

  function accessToken(user: UserRow, sessionId: string, amr: { method: string; timestamp: number }[]): { token: string; iat: number; exp: number } {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + JWT_EXPIRY_SECONDS;
    const claims = {
      iss: `${publicUrl()}/auth/v1`,
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
    return { token: signHs256(claims, secret), iat, exp };
  }

  async function sessionResponse(c: pg.PoolClient, userId: string, sessionId: string, refreshToken: string, amr: { method: string; timestamp: number }[]) {
    const loaded = await loadUser(c, userId);
    if (!loaded) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
    const at = accessToken(loaded.user, sessionId, amr);
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

  async function createSession(c: pg.PoolClient, userId: string, req: IncomingMessage): Promise<{ sessionId: string; refreshToken: string }> {
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

  function parseBody(raw: Buffer): Record<string, unknown> {
    const text = raw.toString("utf8");
    if (text.trim() === "") return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new AuthError(400, "bad_json", `Could not parse request body as JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new AuthError(400, "bad_json", "Could not parse request body as JSON: expected an object");
    }
    return parsed as Record<string, unknown>;
  }

  function checkPassword(password: unknown): string {
    if (typeof password !== "string" || password === "") throw new AuthError(400, "validation_failed", "Signup requires a valid password");
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new AuthError(422, "weak_password", `Password should be at least ${MIN_PASSWORD_LENGTH} characters.`, {
        weak_password: { reasons: ["length"] },
      });
    }
    if (Buffer.byteLength(password) > 72) throw new AuthError(422, "validation_failed", "Password cannot be longer than 72 characters");
    return password;
  }

  function normalizeEmail(email: unknown): string {
    if (typeof email !== "string" || !EMAIL_RE.test(email.trim()) || email.length > 255) {
      throw new AuthError(400, "validation_failed", "Unable to validate email address: invalid format");
    }
    return email.trim().toLowerCase();
  }

  /** GoTrue's write order: user, role, identity, confirmation (which also marks email_verified). */
  async function insertUser(
    c: pg.PoolClient,
    u: { email: string; hash: string | null; userMeta: Record<string, unknown>; appMeta: Record<string, unknown>; confirm: boolean; signIn: boolean },
  ): Promise<string> {
    const id = randomUUID();
    const appMeta = { provider: "email", providers: ["email"], ...u.appMeta };
    await c.query(
      `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, raw_app_meta_data, raw_user_meta_data,
         is_super_admin, created_at, updated_at, confirmation_token, recovery_token, email_change_token_new, email_change, is_anonymous)
       values ($1, $2, 'authenticated', '', $3, $4, $5, $6, false, now(), now(), '', '', '', '', false)`,
      [INSTANCE_ID, id, u.email, u.hash ?? "", JSON.stringify(appMeta), JSON.stringify(u.userMeta)],
    );
    await c.query("update auth.users set role = 'authenticated', updated_at = now() where id = $1", [id]);
    const identityData = { ...u.userMeta, sub: id, email: u.email, email_verified: false, phone_verified: false };
    await c.query(
      `insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
       values ($1, $2, $3, 'email', now(), now(), now())`,
      [id, id, JSON.stringify(identityData)],
    );
    if (u.confirm) {
      await c.query(
        `update auth.users set email_confirmed_at = now(), updated_at = now(),
           raw_user_meta_data = coalesce(raw_user_meta_data, '{}'::jsonb) || '{"email_verified": true}'::jsonb where id = $1`,
        [id],
      );
      await c.query(`update auth.identities set identity_data = identity_data || '{"email_verified": true}'::jsonb, updated_at = now() where user_id = $1`, [id]);
    }
    if (u.signIn) await c.query("update auth.users set last_sign_in_at = now() where id = $1", [id]);
    return id;
  }

  async function signup(req: IncomingMessage, body: Record<string, unknown>) {
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
    return tx(async (c) => {
      const existing = await c.query("select id from auth.users where email = $1 and is_sso_user = false", [email]);
      if (existing.rows[0]) throw new AuthError(422, "user_already_exists", "User already registered");
      // Autoconfirm (the CLI default with enable_confirmations = false).
      const id = await insertUser(c, { email, hash, userMeta: data, appMeta: {}, confirm: true, signIn: true });
      const { sessionId, refreshToken } = await createSession(c, id, req);
      return sessionResponse(c, id, sessionId, refreshToken, [{ method: "password", timestamp: Math.floor(Date.now() / 1000) }]);
    });
  }

  async function passwordGrant(req: IncomingMessage, body: Record<string, unknown>) {
    const password = typeof body.password === "string" ? body.password : "";
    if (typeof body.email !== "string" && typeof body.phone !== "string") {
      throw new AuthError(400, "validation_failed", "Only an email address or phone number should be provided on login.");
    }
    const email = typeof body.email === "string" ? body.email.trim().toLowerCase() : "";
    const found = await pool.query<UserRow>("select * from auth.users where email = $1 and is_sso_user = false and deleted_at is null", [email]);
    const user = found.rows[0];
    const ok = user?.encrypted_password ? await bcrypt.compare(password, user.encrypted_password) : false;
    if (!user || !ok) throw new AuthError(400, "invalid_credentials", "Invalid login credentials");
    if (!user.email_confirmed_at) throw new AuthError(400, "email_not_confirmed", "Email not confirmed");
    if (user.banned_until && user.banned_until > new Date()) throw new AuthError(400, "user_banned", "User is banned");
    return tx(async (c) => {
      await c.query("update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1", [user.id]);
      await c.query("update auth.identities set last_sign_in_at = now() where user_id = $1 and provider = 'email'", [user.id]);
      const { sessionId, refreshToken } = await createSession(c, user.id, req);
      return sessionResponse(c, user.id, sessionId, refreshToken, [{ method: "password", timestamp: Math.floor(Date.now() / 1000) }]);
    });
  }

  async function refreshGrant(body: Record<string, unknown>) {
    const token = body.refresh_token;
    if (typeof token !== "string" || token === "") throw new OAuthError(400, "invalid_request", "refresh_token required");
    const outcome = await tx(async (c) => {
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
            return sessionResponse(c, row.user_id, row.session_id, child.rows[0].token, amr);
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
      return sessionResponse(c, row.user_id, row.session_id, next, amr);
    });
    if (outcome === "reused") throw new AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
    return outcome;
  }

  /** Verifies the user JWT the way GoTrue's requireAuthentication + session lookup does. */
  async function requireUser(req: IncomingMessage): Promise<{ claims: JwtClaims; userId: string; sessionId?: string }> {
    const authorization = req.headers.authorization;
    const token = bearerToken(typeof authorization === "string" ? authorization : undefined);
    if (!token) throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
    let claims: JwtClaims;
    try {
      claims = verifyJwt(token, secret, Date.now() / 1000 + 30); // GoTrue allows no clock skew on exp
    } catch (err) {
      throw new AuthError(403, "bad_jwt", `invalid JWT: unable to parse or verify signature, ${(err as Error).message}`);
    }
    if (typeof claims.sub !== "string" || claims.sub === "") throw new AuthError(403, "bad_jwt", "invalid claim: missing sub claim");
    const sessionId = typeof claims.session_id === "string" ? claims.session_id : undefined;
    if (sessionId) {
      const s = await pool.query("select 1 from auth.sessions where id = $1", [sessionId]);
      if (!s.rows[0]) throw new AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
    }
    const u = await pool.query("select 1 from auth.users where id = $1", [claims.sub]);
    if (!u.rows[0]) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
    return { claims, userId: claims.sub, sessionId };
  }

  async function getUser(req: IncomingMessage) {
    const { userId } = await requireUser(req);
    const loaded = await loadUser(pool, userId);
    if (!loaded) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
    return { body: userJson(loaded.user, loaded.identities), headers: {} };
  }

  async function updateUser(req: IncomingMessage, body: Record<string, unknown>) {
    const { userId, claims } = await requireUser(req);
    if (body.app_metadata !== undefined && claims.role !== "service_role") {
      throw new AuthError(403, "not_admin", "Updating app_metadata requires admin privileges");
    }
    let hash: string | undefined;
    if (body.password !== undefined && body.password !== null) {
      const password = checkPassword(body.password);
      const current = await pool.query("select encrypted_password from auth.users where id = $1", [userId]);
      if (current.rows[0]?.encrypted_password && (await bcrypt.compare(password, current.rows[0].encrypted_password))) {
        throw new AuthError(422, "same_password", "New password should be different from the old password.");
      }
      hash = await hashPassword(password);
    }
    const email = body.email !== undefined && body.email !== null ? normalizeEmail(body.email) : undefined;
    if (body.data !== undefined && (typeof body.data !== "object" || Array.isArray(body.data))) {
      throw new AuthError(400, "validation_failed", "data must be an object");
    }
    return tx(async (c) => {
      if (body.data && typeof body.data === "object") {
        // Key-by-key merge; a null value removes the key (GoTrue's UpdateUserMetaData).
        const data = body.data as Record<string, unknown>;
        const removed = Object.keys(data).filter((k) => data[k] === null);
        const kept = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null));
        await c.query(
          "update auth.users set raw_user_meta_data = (coalesce(raw_user_meta_data, '{}'::jsonb) || $2::jsonb) - $3::text[], updated_at = now() where id = $1",
          [userId, JSON.stringify(kept), removed],
        );
      }
      if (hash) await c.query("update auth.users set encrypted_password = $2, updated_at = now() where id = $1", [userId, hash]);
      if (email) {
        const taken = await c.query("select 1 from auth.users where email = $1 and id <> $2 and is_sso_user = false", [email, userId]);
        if (taken.rows[0]) throw new AuthError(422, "email_exists", "A user with this email address has already been registered");
        // Autoconfirm applies the change at once, as GoTrue does with mailer_autoconfirm.
        await c.query("update auth.users set email = $2, email_change = '', updated_at = now() where id = $1", [userId, email]);
        await c.query(
          "update auth.identities set identity_data = identity_data || jsonb_build_object('email', $2::text), updated_at = now() where user_id = $1 and provider = 'email'",
          [userId, email],
        );
      }
      if (body.app_metadata && typeof body.app_metadata === "object") {
        await c.query("update auth.users set raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb) || $2::jsonb, updated_at = now() where id = $1", [
          userId,
          JSON.stringify(body.app_metadata),
        ]);
      }
      const loaded = await loadUser(c, userId);
      return { body: userJson(loaded!.user, loaded!.identities), headers: {} };
    });
  }

  async function logout(req: IncomingMessage, scope: string) {
    if (!["global", "local", "others"].includes(scope)) {
      throw new AuthError(400, "validation_failed", `Unsupported logout scope "${scope}"`);
    }
    const { userId, sessionId } = await requireUser(req);
    await tx(async (c) => {
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

  async function requireAdmin(req: IncomingMessage): Promise<void> {
    const authorization = req.headers.authorization;
    const token = bearerToken(typeof authorization === "string" ? authorization : undefined);
    if (!token) throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
    let claims: JwtClaims;
    try {
      claims = verifyJwt(token, secret, Date.now() / 1000 + 30);
    } catch (err) {
      throw new AuthError(403, "bad_jwt", `invalid JWT: unable to parse or verify signature, ${(err as Error).message}`);
    }
    if (claims.role !== "service_role" && claims.role !== "supabase_admin") throw new AuthError(403, "not_admin", "User not allowed");
  }

  function objectOrEmpty(v: unknown): Record<string, unknown> {
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  }

  async function adminUserJson(c: pg.PoolClient | pg.Pool, id: string) {
    const loaded = await loadUser(c, id);
    if (!loaded) throw new AuthError(404, "user_not_found", "User not found");
    return userJson(loaded.user, loaded.identities);
  }

  /** The subset of GoTrue's /admin/users that auth.admin.* uses for seeding and tests. */
  async function admin(req: IncomingMessage, res: ServerResponse, method: string, path: string, url: URL, body: Record<string, unknown>): Promise<void> {
    await requireAdmin(req);
    const ok = (payload: unknown, headers: Record<string, string> = {}) =>
      send(res, 200, { "Content-Type": "application/json", "X-Supabase-Api-Version": API_VERSION, ...headers }, JSON.stringify(payload));
    const idMatch = /^\/admin\/users\/([0-9a-fA-F-]{36})$/.exec(path);
    if (path === "/admin/users" && method === "POST") {
      const email = normalizeEmail(body.email);
      const hash = body.password !== undefined && body.password !== null ? await hashPassword(checkPassword(body.password)) : null;
      const id = await tx(async (c) => {
        const existing = await c.query("select 1 from auth.users where email = $1 and is_sso_user = false", [email]);
        if (existing.rows[0]) throw new AuthError(422, "email_exists", "A user with this email address has already been registered");
        return insertUser(c, {
          email,
          hash,
          userMeta: objectOrEmpty(body.user_metadata ?? body.data),
          appMeta: objectOrEmpty(body.app_metadata),
          confirm: body.email_confirm === true,
          signIn: false,
        });
      });
      return ok(await adminUserJson(pool, id));
    }
    if (path === "/admin/users" && method === "GET") {
      const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
      const perPage = Math.min(1000, Math.max(1, Number(url.searchParams.get("per_page") ?? 50) || 50));
      const total = Number((await pool.query("select count(*) from auth.users")).rows[0].count);
      // GoTrue lists newest first (default sort created_at desc).
      const ids = await pool.query("select id from auth.users order by created_at desc, id limit $1 offset $2", [perPage, (page - 1) * perPage]);
      const users = [];
      for (const r of ids.rows) users.push(await adminUserJson(pool, r.id));
      const lastPage = Math.max(1, Math.ceil(total / perPage));
      const links = [`</admin/users?page=${lastPage}&per_page=${perPage}>; rel="last"`];
      if (page < lastPage) links.unshift(`</admin/users?page=${page + 1}&per_page=${perPage}>; rel="next"`);
      return ok({ aud: "authenticated", users }, { "X-Total-Count": String(total), Link: links.join(", ") });
    }
    if (idMatch && method === "GET") return ok(await adminUserJson(pool, idMatch[1]));
    if (idMatch && method === "PUT") {
      const id = idMatch[1];
      const hash = body.password !== undefined && body.password !== null ? await hashPassword(checkPassword(body.password)) : undefined;
      const email = body.email !== undefined && body.email !== null ? normalizeEmail(body.email) : undefined;
      await tx(async (c) => {
        const found = await c.query("select 1 from auth.users where id = $1 for update", [id]);
        if (!found.rows[0]) throw new AuthError(404, "user_not_found", "User not found");
        if (hash) await c.query("update auth.users set encrypted_password = $2, updated_at = now() where id = $1", [id, hash]);
        if (email) {
          const taken = await c.query("select 1 from auth.users where email = $1 and id <> $2", [email, id]);
          if (taken.rows[0]) throw new AuthError(422, "email_exists", "A user with this email address has already been registered");
          await c.query("update auth.users set email = $2, updated_at = now() where id = $1", [id, email]);
        }
        if (body.email_confirm === true) {
          await c.query("update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()), updated_at = now() where id = $1", [id]);
        }
        for (const [key, column] of [["user_metadata", "raw_user_meta_data"], ["app_metadata", "raw_app_meta_data"]] as const) {
          if (body[key] === undefined) continue;
          const data = objectOrEmpty(body[key]);
          const removed = Object.keys(data).filter((k) => data[k] === null);
          const kept = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null));
          await c.query(`update auth.users set ${column} = (coalesce(${column}, '{}'::jsonb) || $2::jsonb) - $3::text[], updated_at = now() where id = $1`, [
            id,
            JSON.stringify(kept),
            removed,
          ]);
        }
      });
      return ok(await adminUserJson(pool, id));
    }
    if (idMatch && method === "DELETE") {
      const deleted = await pool.query("delete from auth.users where id = $1", [idMatch[1]]);
      if (deleted.rowCount === 0) throw new AuthError(404, "user_not_found", "User not found");
      return ok({});
    }
    throw new AuthError(404, "not_found", "Not Found");
  }

  function respondError(res: ServerResponse, err: unknown): void {
    if (err instanceof RequestAbortedError) {
      res.destroy();
      return;
    }
    const base = { "Content-Type": "application/json", "X-Supabase-Api-Version": API_VERSION };
    if (err instanceof AuthError) {
      send(res, err.status, { ...base, "x-sb-error-code": err.code }, JSON.stringify({ code: err.code, message: err.message, ...err.extra }));
    } else if (err instanceof OAuthError) {
      send(res, err.status, base, JSON.stringify({ error: err.error, error_description: err.description }));
    } else if ((err as { code?: string }).code === "23505") {
      // Two concurrent signups for one address: the unique index decides, as in GoTrue.
      send(res, 422, { ...base, "x-sb-error-code": "user_already_exists" }, JSON.stringify({ code: "user_already_exists", message: "User already registered" }));
    } else if (err instanceof BodyTooLargeError) {
      send(res, 413, { ...base, "x-sb-error-code": "request_too_large" }, JSON.stringify({ code: "request_too_large", message: "Request body too large" }));
    } else {
      console.error("[gateway] auth request failed:", err);
      send(res, 500, { ...base, "x-sb-error-code": "unexpected_failure" }, JSON.stringify({ code: "unexpected_failure", message: "Unexpected failure, please check server logs for more information" }));
    }
  }

  return {
    async handle(req, res, rest) {
      let url: URL;
      try {
        url = new URL(`http://localhost${rest}`);
      } catch {
        return respondError(res, new AuthError(404, "not_found", "Not Found"));
      }
      const method = (req.method ?? "GET").toUpperCase();
      const path = url.pathname.replace(/\/+$/, "") || "/";
      const ok = (result: { body: unknown; headers: Record<string, string> }, status = 200) =>
        send(res, status, { "Content-Type": "application/json", "X-Supabase-Api-Version": API_VERSION, ...result.headers }, JSON.stringify(result.body));
      try {
        const body = method === "POST" || method === "PUT" || method === "DELETE" ? parseBody(await readBody(req, bodyLimit)) : {};
        if (path === "/health" && method === "GET") {
          return ok({ body: { version: "v2.196.0-leadloop", name: "GoTrue", description: "GoTrue is a user registration and authentication API" }, headers: {} });
        }
        if (path === "/settings" && method === "GET") {
          return ok({
            body: {
              external: { anonymous_users: false, email: true, phone: false },
              disable_signup: false,
              mailer_autoconfirm: true,
              phone_autoconfirm: false,
              sms_provider: "",
              saml_enabled: false,
            },
            headers: {},
          });
        }
        if (path === "/.well-known/jwks.json" && method === "GET") {
          // Only the symmetric HS256 secret signs tokens here, and GoTrue never publishes symmetric keys.
          return ok({ body: { keys: [] }, headers: {} });
        }
        if (path === "/signup" && method === "POST") return ok(await signup(req, body));
        if (path === "/token" && method === "POST") {
          const grant = url.searchParams.get("grant_type");
          if (grant === "password") return ok(await passwordGrant(req, body));
          if (grant === "refresh_token") return ok(await refreshGrant(body));
          throw new AuthError(400, "invalid_credentials", "unsupported_grant_type");
        }
        if (path === "/user" && method === "GET") return ok(await getUser(req));
        if (path === "/user" && method === "PUT") return ok(await updateUser(req, body));
        if (path.startsWith("/admin/")) return await admin(req, res, method, path, url, body);
        if (path === "/logout" && method === "POST") {
          await logout(req, url.searchParams.get("scope") ?? "global");
          send(res, 204, { "X-Supabase-Api-Version": API_VERSION });
          return;
        }
        throw new AuthError(404, "not_found", "Not Found");
      } catch (err) {
        respondError(res, err);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
