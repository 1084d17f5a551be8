// The mail-by-address endpoints (/recover, /otp, /resend) and /reauthenticate. The first three answer `{}`
// whether or not the address has an account, in the same time and with the same limits: the request is
// checked and throttled by address up front, and the account lookup, token and mail run without the
// response waiting for them. GoTrue answers them synchronously; see the README for the two places this closes an oracle.
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type pg from "pg";
import { checkSentWithin, emailRateLimitError, requireToken } from "./limits.ts";
import type { OutgoingMail } from "./mailer.ts";
import { confirmationMail, emailChangeMails, reauthenticationMail, recoveryMail, type MailRequest } from "./mails.ts";
import { referrer } from "./redirect.ts";
import { requireUser } from "./sessions.ts";
import { pkceParams } from "./tokens.ts";
import {
  AuthError,
  clientAddress,
  findUserByEmail,
  hashPassword,
  insertUser,
  loadUser,
  normalizeEmail,
  objectOrEmpty,
  transaction,
  type AuthContext,
} from "./users.ts";

/**
 * Accepts a mail request for `key` or answers GoTrue's 429s: throttled per address and charged to the hourly
 * mail budget whether or not the address has an account, so neither limit tells the two apart.
 */
function acceptMailRequest(ctx: AuthContext, key: string): void {
  if (!ctx.limits.emailBudget.allows("project")) throw emailRateLimitError();
  ctx.limits.addresses.use(key);
  ctx.limits.emailBudget.take("project");
}

/** Runs `work` without the response waiting for it; the mails it returns go out once its transaction committed. */
function afterResponse(ctx: AuthContext, work: (c: pg.PoolClient) => Promise<OutgoingMail[]>): void {
  ctx.mailer.background(async () => {
    const mails = await transaction(ctx.pool, work);
    ctx.mailer.deliver(mails);
  });
}

function requestedEmail(body: Record<string, unknown>, missing: string): string {
  if (typeof body.email !== "string" || body.email === "") throw new AuthError(400, "validation_failed", missing);
  return normalizeEmail(body.email);
}

export async function recover(ctx: AuthContext, req: IncomingMessage, url: URL, body: Record<string, unknown>) {
  requireToken(ctx.limits.signInSignUps, clientAddress(req));
  const email = requestedEmail(body, "Password recovery requires an email");
  const m: MailRequest = { redirectTo: referrer(ctx.settings, req, url), pkce: pkceParams(body), prepaid: true };
  acceptMailRequest(ctx, `link:${email}`);
  afterResponse(ctx, async (c) => {
    const user = await findUserByEmail(c, email, true);
    return user ? [await recoveryMail(ctx, c, user, m, "recovery")] : [];
  });
  return { body: {}, headers: {} };
}

export async function otp(ctx: AuthContext, req: IncomingMessage, url: URL, body: Record<string, unknown>) {
  requireToken(ctx.limits.signInSignUps, clientAddress(req));
  const hasEmail = typeof body.email === "string" && body.email !== "";
  const hasPhone = typeof body.phone === "string" && body.phone !== "";
  if (hasEmail && hasPhone) throw new AuthError(400, "validation_failed", "Only an email address or phone number should be provided");
  if (hasEmail && typeof body.channel === "string" && body.channel !== "") {
    throw new AuthError(400, "validation_failed", "Channel should only be specified with Phone OTP");
  }
  const pkce = pkceParams(body);
  if (hasPhone) throw new AuthError(400, "phone_provider_disabled", "Unsupported phone provider");
  if (!hasEmail) throw new AuthError(400, "validation_failed", "One of email or phone must be set");
  const email = normalizeEmail(body.email);
  const createUser = body.create_user !== false;
  const data = objectOrEmpty(body.data);
  const m: MailRequest = { redirectTo: referrer(ctx.settings, req, url), pkce, prepaid: true };
  acceptMailRequest(ctx, `link:${email}`);
  afterResponse(ctx, async (c) => {
    const user = await findUserByEmail(c, email, true);
    if (user?.email_confirmed_at) return [await recoveryMail(ctx, c, user, m, "magiclink")];
    // An unconfirmed account gets its signup confirmation again, which signs it in too.
    if (user) return [await confirmationMail(ctx, c, user, m)];
    // Without create_user, or with signups off, GoTrue tells the caller the address is unknown (422); here the
    // answer is the same `{}` as for any address, and no mail goes out.
    if (!createUser || !ctx.settings.enableSignup || !ctx.settings.email.enableSignup) return [];
    const autoconfirm = !ctx.settings.email.confirmations;
    // A throwaway password for an account made by a magic link: the user never learns it.
    const hash = await hashPassword(`${randomBytes(24).toString("base64url")}aA1`);
    const id = await insertUser(c, { email, hash, userMeta: data, appMeta: {}, confirm: autoconfirm, signIn: false });
    const created = (await loadUser(c, id))!.user;
    return [autoconfirm ? await recoveryMail(ctx, c, created, m, "magiclink") : await confirmationMail(ctx, c, created, m)];
  });
  return { body: {}, headers: {} };
}

const RESEND_TYPES = ["signup", "email_change", "sms", "phone_change"];

export async function resend(ctx: AuthContext, req: IncomingMessage, url: URL, body: Record<string, unknown>) {
  requireToken(ctx.limits.signInSignUps, clientAddress(req));
  const type = typeof body.type === "string" ? body.type : "";
  if (!RESEND_TYPES.includes(type)) throw new AuthError(400, "validation_failed", "Missing one of these types: signup, email_change, sms, phone_change");
  const pkce = type === "signup" || type === "email_change" ? pkceParams(body) : undefined;
  const hasEmail = typeof body.email === "string" && body.email !== "";
  const hasPhone = typeof body.phone === "string" && body.phone !== "";
  if (!hasEmail && type === "signup") throw new AuthError(400, "validation_failed", "Type provided requires an email address");
  if (!hasPhone && type === "sms") throw new AuthError(400, "validation_failed", "Type provided requires a phone number");
  if (hasEmail && hasPhone) throw new AuthError(400, "validation_failed", "Only an email address or phone number should be provided.");
  if (hasPhone) throw new AuthError(400, "phone_provider_disabled", "Phone logins are disabled");
  if (!hasEmail) throw new AuthError(400, "validation_failed", "Missing email address or phone number");
  if (type === "sms" || type === "phone_change") throw new AuthError(400, "validation_failed", "Type provided requires a phone number");
  const email = normalizeEmail(body.email);
  const m: MailRequest = { redirectTo: referrer(ctx.settings, req, url), pkce, prepaid: true };
  acceptMailRequest(ctx, `${type === "signup" ? "confirmation" : "email_change"}:${email}`);
  afterResponse(ctx, async (c) => {
    const user = await findUserByEmail(c, email, true);
    if (!user) return [];
    if (type === "signup") return user.email_confirmed_at ? [] : [await confirmationMail(ctx, c, user, m)];
    return user.email_change ? await emailChangeMails(ctx, c, user, user.email_change, m) : [];
  });
  return { body: {}, headers: {} };
}

/** GET /reauthenticate: mails the signed-in user the nonce that a password change may require. */
export async function reauthenticate(ctx: AuthContext, req: IncomingMessage) {
  const { userId, user } = await requireUser(ctx, req);
  if (!user.email) throw new AuthError(400, "validation_failed", "Reauthentication requires the user to have an email or a phone number");
  if (!user.email_confirmed_at) throw new AuthError(422, "email_not_confirmed", "Please verify your email first.");
  const mails = await transaction(ctx.pool, async (c) => {
    const locked = (await c.query("select * from auth.users where id = $1 for update", [userId])).rows[0];
    checkSentWithin(locked.reauthentication_sent_at, ctx.settings.email.maxFrequencySeconds);
    return [await reauthenticationMail(ctx, c, locked)];
  });
  ctx.mailer.deliver(mails);
  return { body: {}, headers: {} };
}
