// The mails Auth sends and the user columns each one sets, as GoTrue's mail.go does: a fresh one-time code
// per mail, stored only as its hash (plus the PKCE flow state when the client sent a code challenge), the
// *_sent_at stamp that max_frequency and otp_expiry measure from, and the link to /verify.
import type pg from "pg";
import type { OutgoingMail } from "./mailer.ts";
import { emailRateLimitError } from "./limits.ts";
import type { TemplateName } from "./templates.ts";
import { createFlowState, generateOtp, storedToken, type FlowMethod, type PkceRequest } from "./tokens.ts";
import type { AuthContext, UserRow } from "./users.ts";

export interface MailRequest {
  /** Where the verify link sends the browser (already checked against the redirect rules). */
  redirectTo: string;
  pkce?: PkceRequest;
  /** The first mail was already taken from the hourly budget when the request was accepted. */
  prepaid?: boolean;
}

/** GoTrue's encodeRedirectURL: escaped only when it carries characters that would break the query. */
function encodeRedirect(url: string): string {
  return /[&=#]/.test(url) ? encodeURIComponent(url) : url;
}

function verifyLink(ctx: AuthContext, token: string, type: string, redirectTo: string): string {
  return `${ctx.publicUrl()}/auth/v1/verify?token=${encodeURIComponent(token)}&type=${type}&redirect_to=${encodeRedirect(redirectTo)}`;
}

/** Takes one mail from the project's hourly budget (email_sent) or refuses with GoTrue's 429. */
export function takeEmailBudget(ctx: AuthContext, count = 1): void {
  for (let i = 0; i < count; i++) if (!ctx.limits.emailBudget.take("project")) throw emailRateLimitError();
}

function linkMail(
  ctx: AuthContext,
  user: UserRow,
  template: TemplateName,
  type: string,
  otp: string,
  token: string,
  redirectTo: string,
  to = user.email ?? "",
): OutgoingMail {
  return {
    to,
    template,
    data: {
      SiteURL: ctx.settings.siteUrl,
      ConfirmationURL: verifyLink(ctx, token, type, redirectTo),
      Email: user.email ?? "",
      NewEmail: user.email_change ?? "",
      Token: otp,
      TokenHash: token,
      RedirectTo: redirectTo,
      SendingTo: to,
      Data: user.raw_user_meta_data ?? {},
    },
  };
}

async function flow(c: pg.PoolClient, user: UserRow, m: MailRequest, method: FlowMethod): Promise<void> {
  if (m.pkce) await createFlowState(c, user.id, m.pkce, method);
}

/** The signup confirmation (also what a magic link request becomes for an unconfirmed address). */
export async function confirmationMail(ctx: AuthContext, c: pg.PoolClient, user: UserRow, m: MailRequest): Promise<OutgoingMail> {
  if (!m.prepaid) takeEmailBudget(ctx);
  const otp = generateOtp(ctx.settings.email.otpLength);
  const token = storedToken(user.email ?? "", otp, !!m.pkce);
  await c.query("update auth.users set confirmation_token = $2, confirmation_sent_at = now(), updated_at = now() where id = $1", [user.id, token]);
  await flow(c, user, m, "email/signup");
  return linkMail(ctx, user, "confirmation", "signup", otp, token, m.redirectTo);
}

/** Recovery and magic links share the recovery token and its sent_at, as in GoTrue. */
export async function recoveryMail(ctx: AuthContext, c: pg.PoolClient, user: UserRow, m: MailRequest, kind: "recovery" | "magiclink"): Promise<OutgoingMail> {
  if (!m.prepaid) takeEmailBudget(ctx);
  const otp = generateOtp(ctx.settings.email.otpLength);
  const token = storedToken(user.email ?? "", otp, !!m.pkce);
  await c.query("update auth.users set recovery_token = $2, recovery_sent_at = now(), updated_at = now() where id = $1", [user.id, token]);
  await flow(c, user, m, kind);
  return linkMail(ctx, user, kind === "recovery" ? "recovery" : "magic_link", kind, otp, token, m.redirectTo);
}

/** The new address always confirms; with double_confirm_changes the current one must too. */
export async function emailChangeMails(ctx: AuthContext, c: pg.PoolClient, user: UserRow, newEmail: string, m: MailRequest): Promise<OutgoingMail[]> {
  const both = ctx.settings.email.doubleConfirmChanges && !!user.email;
  takeEmailBudget(ctx, (both ? 2 : 1) - (m.prepaid ? 1 : 0));
  const otpNew = generateOtp(ctx.settings.email.otpLength);
  const tokenNew = storedToken(newEmail, otpNew, !!m.pkce);
  const otpCurrent = both ? generateOtp(ctx.settings.email.otpLength) : "";
  const tokenCurrent = both ? storedToken(user.email ?? "", otpCurrent, !!m.pkce) : "";
  await c.query(
    `update auth.users set email_change = $2, email_change_token_new = $3, email_change_token_current = $4,
       email_change_sent_at = now(), email_change_confirm_status = 0, updated_at = now() where id = $1`,
    [user.id, newEmail, tokenNew, tokenCurrent],
  );
  await flow(c, user, m, "email_change");
  const changing = { ...user, email_change: newEmail };
  const mails = [linkMail(ctx, changing, "email_change", "email_change", otpNew, tokenNew, m.redirectTo, newEmail)];
  if (both) mails.push(linkMail(ctx, changing, "email_change", "email_change", otpCurrent, tokenCurrent, m.redirectTo, user.email ?? ""));
  return mails;
}

/** The nonce a password change needs under secure_password_change. */
export async function reauthenticationMail(ctx: AuthContext, c: pg.PoolClient, user: UserRow): Promise<OutgoingMail> {
  takeEmailBudget(ctx);
  const otp = generateOtp(ctx.settings.email.otpLength);
  const token = storedToken(user.email ?? "", otp, false);
  await c.query("update auth.users set reauthentication_token = $2, reauthentication_sent_at = now(), updated_at = now() where id = $1", [user.id, token]);
  const mail = linkMail(ctx, user, "reauthentication", "reauthentication", otp, token, ctx.settings.siteUrl);
  mail.data.ConfirmationURL = "";
  return mail;
}
