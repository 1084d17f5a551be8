// GET and PUT /user: the signed-in user's own record. Metadata merges key by key; a new email is confirmed by
// mail (to the new address, and the old one with double_confirm_changes) before it applies; a new password
// must pass the policy, differ from the current one and, under secure_password_change from a session older
// than 24 h, come with the /reauthenticate nonce. Changing the password ends every other session.
import type { IncomingMessage } from "node:http";
import bcrypt from "bcryptjs";
import { checkSentWithin, requireToken } from "./limits.ts";
import type { OutgoingMail } from "./mailer.ts";
import { emailChangeMails } from "./mails.ts";
import { referrer } from "./redirect.ts";
import { logoutOthers, requireUser } from "./sessions.ts";
import { isExpired, pkceParams, tokenHash } from "./tokens.ts";
import {
  AuthError,
  checkPassword,
  clientAddress,
  hashPassword,
  loadUser,
  mergeMetadata,
  normalizeEmail,
  transaction,
  userJson,
  type AuthContext,
  type UserRow,
} from "./users.ts";

/** GoTrue's window in which a session counts as a recent sign-in for password changes. */
const RECENT_SIGN_IN_MS = 24 * 3600 * 1000;

export async function getUser(ctx: AuthContext, req: IncomingMessage) {
  const { userId } = await requireUser(ctx, req);
  const loaded = await loadUser(ctx.pool, userId);
  if (!loaded) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
  return { body: userJson(loaded.user, loaded.identities), headers: {} };
}

/** GoTrue's verifyReauthentication: the mailed nonce, unexpired, used once. */
function checkNonce(ctx: AuthContext, user: UserRow, nonce: string): void {
  const invalid = () => new AuthError(422, "reauthentication_not_valid", "Nonce has expired or is invalid");
  if (!user.reauthentication_token || !user.reauthentication_sent_at || !user.email) throw invalid();
  if (isExpired(user.reauthentication_sent_at, ctx.settings.email.otpExpirySeconds)) throw invalid();
  if (tokenHash(user.email, nonce) !== user.reauthentication_token) throw invalid();
}

export async function updateUser(ctx: AuthContext, req: IncomingMessage, url: URL, body: Record<string, unknown>) {
  const { userId, claims, sessionId, sessionCreatedAt } = await requireUser(ctx, req);
  requireToken(ctx.limits.signInSignUps, clientAddress(req));
  const email = typeof body.email === "string" && body.email !== "" ? normalizeEmail(body.email) : undefined;
  const password = body.password === undefined || body.password === null ? undefined : checkPassword(ctx.settings, body.password, "Password cannot be empty");
  if (body.app_metadata !== undefined && body.app_metadata !== null && claims.role !== "service_role") {
    throw new AuthError(403, "not_admin", "Updating app_metadata requires admin privileges");
  }
  if (body.data !== undefined && body.data !== null && (typeof body.data !== "object" || Array.isArray(body.data))) {
    throw new AuthError(400, "validation_failed", "data must be an object");
  }
  const pkce = pkceParams(body);
  const nonce = typeof body.nonce === "string" ? body.nonce : "";
  // Hashed outside the transaction, as GoTrue does: bcrypt takes a while.
  const hash = password !== undefined ? await hashPassword(password) : undefined;

  const mails = await transaction(ctx.pool, async (c) => {
    const user = (await c.query<UserRow>("select * from auth.users where id = $1 for update", [userId])).rows[0];
    const out: OutgoingMail[] = [];
    if (email && email !== user.email) {
      const taken = await c.query("select 1 from auth.users where email = $1 and id <> $2 and is_sso_user = false", [email, userId]);
      if (taken.rows[0]) throw new AuthError(422, "email_exists", "A user with this email address has already been registered");
    }
    if (password !== undefined && hash !== undefined) {
      const stale = !sessionCreatedAt || Date.now() - sessionCreatedAt.getTime() > RECENT_SIGN_IN_MS;
      if (ctx.settings.email.securePasswordChange && stale) {
        if (nonce === "") throw new AuthError(400, "reauthentication_needed", "Password update requires reauthentication");
        checkNonce(ctx, user, nonce);
      }
      if (user.encrypted_password && (await bcrypt.compare(password, user.encrypted_password))) {
        throw new AuthError(422, "same_password", "New password should be different from the old password.");
      }
      // GoTrue's UpdatePassword: every outstanding token is void, and every other session ends.
      await c.query(
        `update auth.users set encrypted_password = $2, confirmation_token = '', confirmation_sent_at = null, recovery_token = '',
           recovery_sent_at = null, email_change_token_current = '', email_change_token_new = '', email_change_sent_at = null,
           reauthentication_token = '', reauthentication_sent_at = null, updated_at = now() where id = $1`,
        [userId, hash],
      );
      await logoutOthers(c, userId, sessionId);
    }
    if (body.data && typeof body.data === "object") await mergeMetadata(c, userId, "raw_user_meta_data", body.data as Record<string, unknown>);
    if (body.app_metadata && typeof body.app_metadata === "object") await mergeMetadata(c, userId, "raw_app_meta_data", body.app_metadata as Record<string, unknown>);
    if (email && email !== user.email) {
      // A permanent account always confirms a new address by mail, autoconfirm or not (GoTrue's UserUpdate).
      const current = (await c.query<UserRow>("select * from auth.users where id = $1", [userId])).rows[0];
      checkSentWithin(current.email_change_sent_at, ctx.settings.email.maxFrequencySeconds);
      out.push(...(await emailChangeMails(ctx, c, current, email, { redirectTo: referrer(ctx.settings, req, url), pkce })));
    }
    return out;
  });
  ctx.mailer.deliver(mails);
  const loaded = await loadUser(ctx.pool, userId);
  return { body: userJson(loaded!.user, loaded!.identities), headers: {} };
}
