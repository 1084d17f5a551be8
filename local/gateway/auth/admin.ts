// The subset of GoTrue's /admin/users that auth.admin.* uses for seeding and tests (service_role only).
import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";
import { send } from "../http.ts";
import { bearerToken, verifyJwt, type JwtClaims } from "../jwt.ts";
import { parseGoDuration } from "./settings.ts";
import {
  API_VERSION,
  AuthError,
  checkPassword,
  confirmEmail,
  hashPassword,
  insertUser,
  loadUser,
  mergeMetadata,
  normalizeEmail,
  objectOrEmpty,
  requirePassword,
  transaction,
  userJson,
  type AuthContext,
} from "./users.ts";

export async function requireAdmin(ctx: AuthContext, req: IncomingMessage): Promise<void> {
  const authorization = req.headers.authorization;
  const token = bearerToken(typeof authorization === "string" ? authorization : undefined);
  if (!token) throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
  let claims: JwtClaims;
  try {
    claims = verifyJwt(token, ctx.secret, Date.now() / 1000 + 30);
  } catch (err) {
    throw new AuthError(403, "bad_jwt", `invalid JWT: unable to parse or verify signature, ${(err as Error).message}`);
  }
  if (claims.role !== "service_role" && claims.role !== "supabase_admin") throw new AuthError(403, "not_admin", "User not allowed");
}

/** `ban_duration`: a Go duration ("24h", "876000h") from now, or "none" to lift a ban; absent leaves it as is. */
function banUntil(value: unknown): { until: Date | null } | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (value === "none") return { until: null };
  let seconds: number;
  try {
    if (typeof value !== "string") throw new Error(`time: invalid duration "${String(value)}"`);
    seconds = parseGoDuration(value);
  } catch (err) {
    throw new AuthError(400, "validation_failed", `invalid format for ban duration: ${(err as Error).message}`);
  }
  return { until: seconds === 0 ? null : new Date(Date.now() + seconds * 1000) };
}

export async function adminUserJson(c: pg.PoolClient | pg.Pool, id: string) {
  const loaded = await loadUser(c, id);
  if (!loaded) throw new AuthError(404, "user_not_found", "User not found");
  return userJson(loaded.user, loaded.identities);
}

/** The subset of GoTrue's /admin/users that auth.admin.* uses for seeding and tests. */
export async function admin(ctx: AuthContext, req: IncomingMessage, res: ServerResponse, method: string, path: string, url: URL, body: Record<string, unknown>): Promise<void> {
  await requireAdmin(ctx, req);
  const ok = (payload: unknown, headers: Record<string, string> = {}) =>
    send(res, 200, { "Content-Type": "application/json", "X-Supabase-Api-Version": API_VERSION, ...headers }, JSON.stringify(payload));
  const idMatch = /^\/admin\/users\/([0-9a-fA-F-]{36})$/.exec(path);
  if (path === "/admin/users" && method === "POST") {
    const email = normalizeEmail(body.email);
    // GoTrue's admin create checks only bcrypt's limit, not the password policy (the admin chose it).
    const hash = body.password !== undefined && body.password !== null ? await hashPassword(requirePassword(body.password)) : null;
    const ban = banUntil(body.ban_duration);
    const id = await transaction(ctx.pool, async (c) => {
      const existing = await c.query("select 1 from auth.users where email = $1 and is_sso_user = false", [email]);
      if (existing.rows[0]) throw new AuthError(422, "email_exists", "A user with this email address has already been registered");
      const created = await insertUser(c, {
        email,
        hash,
        userMeta: objectOrEmpty(body.user_metadata ?? body.data),
        appMeta: objectOrEmpty(body.app_metadata),
        confirm: body.email_confirm === true,
        signIn: false,
      });
      if (ban) await c.query("update auth.users set banned_until = $2 where id = $1", [created, ban.until]);
      return created;
    });
    return ok(await adminUserJson(ctx.pool, id));
  }
  if (path === "/admin/users" && method === "GET") {
    const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
    const perPage = Math.min(1000, Math.max(1, Number(url.searchParams.get("per_page") ?? 50) || 50));
    const total = Number((await ctx.pool.query("select count(*) from auth.users")).rows[0].count);
    // GoTrue lists newest first (default sort created_at desc).
    const ids = await ctx.pool.query("select id from auth.users order by created_at desc, id limit $1 offset $2", [perPage, (page - 1) * perPage]);
    const users = [];
    for (const r of ids.rows) users.push(await adminUserJson(ctx.pool, r.id));
    const lastPage = Math.max(1, Math.ceil(total / perPage));
    const links = [`</admin/users?page=${lastPage}&per_page=${perPage}>; rel="last"`];
    if (page < lastPage) links.unshift(`</admin/users?page=${page + 1}&per_page=${perPage}>; rel="next"`);
    return ok({ aud: "authenticated", users }, { "X-Total-Count": String(total), Link: links.join(", ") });
  }
  if (idMatch && method === "GET") return ok(await adminUserJson(ctx.pool, idMatch[1]));
  if (idMatch && method === "PUT") {
    const id = idMatch[1];
    const hash = body.password !== undefined && body.password !== null ? await hashPassword(checkPassword(ctx.settings, body.password)) : undefined;
    const email = body.email !== undefined && body.email !== null ? normalizeEmail(body.email) : undefined;
    const ban = banUntil(body.ban_duration);
    await transaction(ctx.pool, async (c) => {
      const found = await c.query("select 1 from auth.users where id = $1 for update", [id]);
      if (!found.rows[0]) throw new AuthError(404, "user_not_found", "User not found");
      if (hash) await c.query("update auth.users set encrypted_password = $2, updated_at = now() where id = $1", [id, hash]);
      if (email) {
        const taken = await c.query("select 1 from auth.users where email = $1 and id <> $2", [email, id]);
        if (taken.rows[0]) throw new AuthError(422, "email_exists", "A user with this email address has already been registered");
        await c.query("update auth.users set email = $2, updated_at = now() where id = $1", [id, email]);
      }
      if (ban) await c.query("update auth.users set banned_until = $2, updated_at = now() where id = $1", [id, ban.until]);
      if (body.email_confirm === true) {
        const row = await c.query("select email_confirmed_at from auth.users where id = $1", [id]);
        if (!row.rows[0].email_confirmed_at) await confirmEmail(c, id);
      }
      if (body.user_metadata !== undefined) await mergeMetadata(c, id, "raw_user_meta_data", objectOrEmpty(body.user_metadata));
      if (body.app_metadata !== undefined) await mergeMetadata(c, id, "raw_app_meta_data", objectOrEmpty(body.app_metadata));
    });
    return ok(await adminUserJson(ctx.pool, id));
  }
  if (idMatch && method === "DELETE") {
    const deleted = await ctx.pool.query("delete from auth.users where id = $1", [idMatch[1]]);
    if (deleted.rowCount === 0) throw new AuthError(404, "user_not_found", "User not found");
    return ok({});
  }
  throw new AuthError(404, "not_found", "Not Found");
}
