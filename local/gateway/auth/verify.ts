// /verify as GoTrue answers it (verify.go). GET is the mail link: 303 to redirect_to with the session in the
// fragment (implicit flow), `?code=` for the PKCE exchange, or the error in the fragment. POST takes a
// token_hash, or an email with its 6-digit code, and answers a session. A token works once, only for its
// own type, only within otp_expiry; an email change with double_confirm_changes needs both links.
import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";
import { send } from "../http.ts";
import { requireToken } from "./limits.ts";
import { referrer } from "./redirect.ts";
import { issueSession } from "./sessions.ts";
import { isExpired, issueAuthCode, PKCE_PREFIX, tokenHash, tokenMatches, type FlowMethod } from "./tokens.ts";
import { AuthError, clientAddress, confirmEmail, isBanned, normalizeEmail, transaction, type AuthContext, type UserRow } from "./users.ts";

const SINGLE_CONFIRMATION_ACCEPTED = "Confirmation link accepted. Please proceed to confirm link sent to the other email";
const EMAIL_TYPES = ["signup", "invite", "recovery", "magiclink", "email_change", "email"];
const OAUTH_ERRORS: Record<number, string> = { 400: "invalid_request", 401: "unauthorized_client", 403: "access_denied", 500: "server_error", 503: "temporarily_unavailable" };

const FLOW_METHODS: Record<string, FlowMethod> = {
  signup: "email/signup",
  invite: "email/signup",
  recovery: "recovery",
  magiclink: "magiclink",
  email_change: "email_change",
};

const linkInvalid = () => new AuthError(403, "otp_expired", "Email link is invalid or has expired");
const codeInvalid = () => new AuthError(403, "otp_expired", "Token has expired or is invalid");

/** The columns a token of each type lives in, and the sent_at it expires from. */
function slots(type: string): Array<{ token: keyof UserRow; sentAt: keyof UserRow; becomes: string }> {
  const confirmation = { token: "confirmation_token", sentAt: "confirmation_sent_at" } as const;
  const recovery = { token: "recovery_token", sentAt: "recovery_sent_at" } as const;
  switch (type) {
    case "email":
      return [{ ...confirmation, becomes: "signup" }, { ...recovery, becomes: "magiclink" }];
    case "signup":
    case "invite":
      return [{ ...confirmation, becomes: type }];
    case "recovery":
    case "magiclink":
      return [{ ...recovery, becomes: type }];
    case "email_change":
      return [
        { token: "email_change_token_current", sentAt: "email_change_sent_at", becomes: type },
        { token: "email_change_token_new", sentAt: "email_change_sent_at", becomes: type },
      ];
    default:
      throw new AuthError(400, "validation_failed", "Invalid email verification type");
  }
}

/**
 * The user a token belongs to, locked, with the type it resolves to ("email" becomes signup or magiclink).
 * With `email`, the token is the mailed code and only that address's account is looked at.
 */
async function findByToken(ctx: AuthContext, c: pg.PoolClient, type: string, hash: string, email?: string): Promise<{ user: UserRow; type: string }> {
  const candidates = slots(type);
  const columns = [...new Set(candidates.map((s) => s.token))];
  const where = columns.map((col) => `${String(col)} in ($1::text, '${PKCE_PREFIX}' || $1::text)`).join(" or ");
  const byAddress = email ? (type === "email_change" ? " and (email = $2 or email_change = $2)" : " and email = $2") : "";
  const found = await c.query<UserRow>(`select * from auth.users where (${where})${byAddress} and deleted_at is null for update`, email ? [hash, email] : [hash]);
  const user = found.rows[0];
  const invalid = email ? codeInvalid : linkInvalid;
  if (!user) throw invalid();
  if (isBanned(user)) throw new AuthError(403, "user_banned", "User is banned");
  const slot = candidates.find((s) => tokenMatches(hash, user[s.token] as string | null));
  if (!slot || isExpired(user[slot.sentAt] as Date | null, ctx.settings.email.otpExpirySeconds)) throw invalid();
  return { user, type: slot.becomes };
}

/** Applies a verified token; "single" when an email change still waits for its second link. */
async function apply(ctx: AuthContext, c: pg.PoolClient, user: UserRow, type: string, hash: string): Promise<"done" | "single"> {
  if (type === "signup" || type === "invite") {
    await confirmEmail(c, user.id);
    return "done";
  }
  if (type === "recovery" || type === "magiclink") {
    await c.query("update auth.users set recovery_token = '', updated_at = now() where id = $1", [user.id]);
    if (!user.email_confirmed_at) await confirmEmail(c, user.id);
    return "done";
  }
  // email_change
  const { email } = ctx.settings;
  if (email.confirmations && email.doubleConfirmChanges && (user.email_change_confirm_status ?? 0) === 0 && user.email) {
    const spent = tokenMatches(hash, user.email_change_token_current) ? "email_change_token_current" : "email_change_token_new";
    await c.query(`update auth.users set email_change_confirm_status = 1, ${spent} = '', updated_at = now() where id = $1`, [user.id]);
    return "single";
  }
  await c.query(
    `update auth.identities set identity_data = identity_data || jsonb_build_object('email', $2::text, 'email_verified', true), updated_at = now()
      where user_id = $1 and provider = 'email'`,
    [user.id, user.email_change],
  );
  await c.query(
    `update auth.users set email = email_change, email_change = '', email_change_token_current = '', email_change_token_new = '',
       email_change_confirm_status = 0, updated_at = now() where id = $1`,
    [user.id],
  );
  if (!user.email_confirmed_at) await confirmEmail(c, user.id);
  return "done";
}

/**
 * redirect_to with query parameters set and the fragment replaced, by string (as GoTrue joins them), so the
 * browser lands on exactly the URL that was allowed: no added slash, nothing else normalised.
 */
function withParams(base: string, fragment?: Record<string, string>, query?: Record<string, string>): string {
  let [target] = base.split("#");
  if (query) {
    const at = target.indexOf("?");
    const params = new URLSearchParams(at >= 0 ? target.slice(at + 1) : "");
    for (const [k, v] of Object.entries(query)) params.set(k, v);
    target = `${at >= 0 ? target.slice(0, at) : target}?${params}`;
  }
  if (!fragment) return target;
  return `${target}#${new URLSearchParams(Object.entries(fragment).sort(([a], [b]) => a.localeCompare(b)))}`;
}

function errorRedirect(redirectTo: string, err: AuthError, pkce: boolean): string {
  const params: Record<string, string> = {};
  if (OAUTH_ERRORS[err.status]) params.error = OAUTH_ERRORS[err.status];
  params.error_code = err.code;
  params.error_description = err.message;
  return withParams(redirectTo, { ...params, sb: "" }, pkce ? params : undefined);
}

function redirect(res: ServerResponse, location: string): void {
  send(res, 303, { Location: location, "Content-Type": "text/html; charset=utf-8" }, `<a href="${location.replace(/"/g, "&quot;")}">See Other</a>.\n`);
}

/** GET /verify?token=&type=&redirect_to=: the link in a mail. */
export async function verifyGet(ctx: AuthContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  requireToken(ctx.limits.verify, clientAddress(req));
  const token = url.searchParams.get("token") ?? "";
  const requestedType = url.searchParams.get("type") ?? "";
  const redirectTo = referrer(ctx.settings, req, url);
  if (requestedType === "") throw new AuthError(400, "validation_failed", "Verify requires a verification type");
  if (token === "") throw new AuthError(400, "validation_failed", "Verify requires a token or a token hash");
  const pkce = token.startsWith(PKCE_PREFIX);
  let location: string;
  try {
    location = await transaction(ctx.pool, async (c) => {
      if (!EMAIL_TYPES.includes(requestedType)) throw new AuthError(400, "validation_failed", "Unsupported verification type");
      const { user, type } = await findByToken(ctx, c, requestedType, token);
      if ((await apply(ctx, c, user, type, token)) === "single") {
        return withParams(redirectTo, { message: SINGLE_CONFIRMATION_ACCEPTED, sb: "" }, pkce ? { message: SINGLE_CONFIRMATION_ACCEPTED } : undefined);
      }
      if (pkce) {
        return withParams(redirectTo, undefined, { code: await issueAuthCode(c, user.id, FLOW_METHODS[type]) });
      }
      const session = await issueSession(ctx, c, user.id, req, "otp");
      const b = session.body;
      return withParams(redirectTo, {
        access_token: b.access_token,
        expires_at: String(b.expires_at),
        expires_in: String(b.expires_in),
        refresh_token: b.refresh_token,
        sb: "",
        token_type: b.token_type,
        type: requestedType,
      });
    });
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    location = errorRedirect(redirectTo, err, pkce);
  }
  redirect(res, location);
}

/** POST /verify {type, token_hash} or {type, email, token}: a session, as verifyOtp() expects. */
export async function verifyPost(ctx: AuthContext, req: IncomingMessage, body: Record<string, unknown>) {
  requireToken(ctx.limits.verify, clientAddress(req));
  const type = typeof body.type === "string" ? body.type : "";
  const token = typeof body.token === "string" ? body.token : "";
  const hashed = typeof body.token_hash === "string" ? body.token_hash : "";
  const hasEmail = typeof body.email === "string" && body.email !== "";
  const hasPhone = typeof body.phone === "string" && body.phone !== "";
  if (type === "") throw new AuthError(400, "validation_failed", "Verify requires a verification type");
  if ((token === "") === (hashed === "")) throw new AuthError(400, "validation_failed", "Verify requires either a token or a token hash");
  let email: string | undefined;
  let hash = hashed;
  if (token !== "") {
    if (hasPhone && !hasEmail) throw codeInvalid(); // no account has a phone here (phone sign-in is off)
    if (!hasEmail || hasPhone) throw new AuthError(400, "validation_failed", "Only an email address or phone number should be provided on verify");
    try {
      email = normalizeEmail(body.email);
    } catch {
      throw new AuthError(422, "validation_failed", "Invalid email format");
    }
    hash = tokenHash(email, token);
  } else if (hasEmail || hasPhone || (typeof body.redirect_to === "string" && body.redirect_to !== "")) {
    throw new AuthError(400, "validation_failed", "Only the token_hash and type should be provided");
  }
  if (!EMAIL_TYPES.includes(type)) throw new AuthError(400, "validation_failed", "Unsupported verification type");
  return transaction(ctx.pool, async (c) => {
    const found = await findByToken(ctx, c, type, hash, email);
    if ((await apply(ctx, c, found.user, found.type, hash)) === "single") {
      return { body: { msg: SINGLE_CONFIRMATION_ACCEPTED, code: "200" }, headers: {} };
    }
    return issueSession(ctx, c, found.user.id, req, "otp");
  });
}
