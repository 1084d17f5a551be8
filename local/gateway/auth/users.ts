// GoTrue's user records as the API shows them, and the rules every endpoint shares: email and password
// checks, bcrypt hashes, refresh-token format, GoTrue's error shapes, and the write order of a new user.
import { randomBytes, randomUUID } from "node:crypto";
import bcrypt from "bcryptjs";
import type pg from "pg";
import type { AddressThrottle, Buckets } from "./limits.ts";
import type { Mailer } from "./mailer.ts";
import type { AuthSettings } from "./settings.ts";

export const API_VERSION = "2024-01-01";
export const INSTANCE_ID = "00000000-0000-0000-0000-000000000000";
const BCRYPT_COST = 10;

/** What the endpoints share: the pool (as GoTrue's admin role), the JWT secret, the gateway's URL, settings, mail, limits. */
export interface AuthContext {
  pool: pg.Pool;
  secret: string;
  /** The gateway's own base URL once it listens (differs from config.supabaseUrl for port-0 test gateways). */
  publicUrl: () => string;
  settings: AuthSettings;
  mailer: Mailer;
  limits: {
    /** [auth.rate_limit] sign_in_sign_ups: /signup, /otp, /recover, /resend, PUT /user (GoTrue's RATE_LIMIT_OTP). */
    signInSignUps: Buckets;
    /** token_refresh: every /token grant. */
    token: Buckets;
    /** token_verifications: /verify. */
    verify: Buckets;
    /** email_sent: project-wide mails per hour. */
    emailBudget: Buckets;
    /** max_frequency for mail requested by address. */
    addresses: AddressThrottle;
  };
}

export class AuthError extends Error {
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
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export interface UserRow {
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
  invited_at: Date | null;
  confirmation_token: string | null;
  recovery_token: string | null;
  email_change_token_new: string | null;
  email_change_token_current: string | null;
  email_change_confirm_status: number | null;
  reauthentication_token: string | null;
  reauthentication_sent_at: Date | null;
}

export interface IdentityRow {
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

export function userJson(u: UserRow, identities: IdentityRow[]): Record<string, unknown> {
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
    ["reauthentication_sent_at", iso(u.reauthentication_sent_at)],
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
export async function hashPassword(password: string): Promise<string> {
  const salt = (await bcrypt.genSalt(BCRYPT_COST)).replace(/^\$2b\$/, () => "$2a$");
  return bcrypt.hash(password, salt);
}

export function newRefreshToken(): string {
  // GoTrue v1 refresh tokens: 12 random alphanumeric characters.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(12);
  let s = "";
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

export async function transaction<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
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

export async function loadUser(c: pg.PoolClient | pg.Pool, id: string): Promise<{ user: UserRow; identities: IdentityRow[] } | undefined> {
  const u = await c.query<UserRow>("select * from auth.users where id = $1", [id]);
  if (!u.rows[0]) return undefined;
  const ids = await c.query<IdentityRow>("select * from auth.identities where user_id = $1 order by created_at", [id]);
  return { user: u.rows[0], identities: ids.rows };
}

export function parseBody(raw: Buffer): Record<string, unknown> {
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

/** Presence and bcrypt's 72-byte limit, which every password path checks (admin-created users included). */
export function requirePassword(password: unknown, missing = "Signup requires a valid password"): string {
  if (typeof password !== "string" || password === "") throw new AuthError(400, "validation_failed", missing);
  if (Buffer.byteLength(password) > 72) throw new AuthError(400, "validation_failed", "Password cannot be longer than 72 characters");
  return password;
}

/** GoTrue's checkPasswordStrength reasons and message for the configured length and character sets. */
export function passwordWeakness(settings: AuthSettings, password: string): { message: string; reasons: string[] } | undefined {
  const { minLength, requiredCharacters } = settings.password;
  const reasons: string[] = [];
  const messages: string[] = [];
  // Go's len(): bytes, as GoTrue counts.
  if (Buffer.byteLength(password) < minLength) {
    reasons.push("length");
    messages.push(`Password should be at least ${minLength} characters.`);
  }
  if (requiredCharacters.some((set) => ![...password].some((ch) => set.includes(ch)))) {
    reasons.push("characters");
    messages.push(`Password should contain at least one character of each: ${requiredCharacters.join(", ")}.`);
  }
  return reasons.length > 0 ? { message: messages.join(" "), reasons } : undefined;
}

/** A password the policy accepts, or GoTrue's 422 weak_password with its reasons. */
export function checkPassword(settings: AuthSettings, password: unknown, missing?: string): string {
  const value = requirePassword(password, missing);
  const weak = passwordWeakness(settings, value);
  if (weak) throw new AuthError(422, "weak_password", weak.message, { weak_password: { reasons: weak.reasons } });
  return value;
}

export function normalizeEmail(email: unknown): string {
  if (typeof email !== "string" || !EMAIL_RE.test(email.trim()) || email.length > 255) {
    throw new AuthError(400, "validation_failed", "Unable to validate email address: invalid format");
  }
  return email.trim().toLowerCase();
}

/** GoTrue's write order: user, role, identity, confirmation (which also marks email_verified). */
export async function insertUser(
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
  if (u.confirm) await confirmEmail(c, id);
  if (u.signIn) await c.query("update auth.users set last_sign_in_at = now() where id = $1", [id]);
  return id;
}

/** GoTrue's User.Confirm: the address is confirmed, its token spent, and email_verified set on user and identity. */
export async function confirmEmail(c: pg.PoolClient, id: string): Promise<void> {
  await c.query(
    `update auth.users set email_confirmed_at = now(), confirmation_token = '', updated_at = now(),
       raw_user_meta_data = coalesce(raw_user_meta_data, '{}'::jsonb) || '{"email_verified": true}'::jsonb where id = $1`,
    [id],
  );
  await c.query(
    `update auth.identities set identity_data = identity_data || '{"email_verified": true}'::jsonb, updated_at = now()
      where user_id = $1 and provider = 'email'`,
    [id],
  );
}

export async function findUserByEmail(c: pg.PoolClient | pg.Pool, email: string, lock = false): Promise<UserRow | undefined> {
  const found = await c.query<UserRow>(
    `select * from auth.users where email = $1 and is_sso_user = false and deleted_at is null${lock ? " for update" : ""}`,
    [email],
  );
  return found.rows[0];
}

/** A JSON object from a request body, or {} for anything else. */
export function objectOrEmpty(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** GoTrue's UpdateUserMetaData / UpdateAppMetaData: key-by-key merge, a null value removes the key. */
export async function mergeMetadata(c: pg.PoolClient, id: string, column: "raw_user_meta_data" | "raw_app_meta_data", data: Record<string, unknown>): Promise<void> {
  const removed = Object.keys(data).filter((k) => data[k] === null);
  const kept = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null));
  await c.query(`update auth.users set ${column} = (coalesce(${column}, '{}'::jsonb) || $2::jsonb) - $3::text[], updated_at = now() where id = $1`, [
    id,
    JSON.stringify(kept),
    removed,
  ]);
}

export const isBanned = (u: Pick<UserRow, "banned_until">) => !!u.banned_until && u.banned_until.getTime() > Date.now();

/** The client address the gateway established (never a header the client chose). */
export { peerAddress as clientAddress } from "../client-address.ts";
