// GET and PUT /user: the signed-in user's own record; metadata merges key by key, a password change must
// differ from the current one, and an email change applies at once (autoconfirm).
import type { IncomingMessage } from "node:http";
import bcrypt from "bcryptjs";
import { requireUser } from "./sessions.ts";
import { AuthError, checkPassword, hashPassword, loadUser, normalizeEmail, transaction, userJson, type AuthContext } from "./users.ts";

export async function getUser(ctx: AuthContext, req: IncomingMessage) {
  const { userId } = await requireUser(ctx, req);
  const loaded = await loadUser(ctx.pool, userId);
  if (!loaded) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
  return { body: userJson(loaded.user, loaded.identities), headers: {} };
}

export async function updateUser(ctx: AuthContext, req: IncomingMessage, body: Record<string, unknown>) {
  const { userId, claims } = await requireUser(ctx, req);
  if (body.app_metadata !== undefined && claims.role !== "service_role") {
    throw new AuthError(403, "not_admin", "Updating app_metadata requires admin privileges");
  }
  let hash: string | undefined;
  if (body.password !== undefined && body.password !== null) {
    const password = checkPassword(body.password);
    const current = await ctx.pool.query("select encrypted_password from auth.users where id = $1", [userId]);
    if (current.rows[0]?.encrypted_password && (await bcrypt.compare(password, current.rows[0].encrypted_password))) {
      throw new AuthError(422, "same_password", "New password should be different from the old password.");
    }
    hash = await hashPassword(password);
  }
  const email = body.email !== undefined && body.email !== null ? normalizeEmail(body.email) : undefined;
  if (body.data !== undefined && (typeof body.data !== "object" || Array.isArray(body.data))) {
    throw new AuthError(400, "validation_failed", "data must be an object");
  }
  return transaction(ctx.pool, async (c) => {
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
