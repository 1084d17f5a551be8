// The mail provider the settings name: SMTP (MAIL_SMTP_URL) or Resend (RESEND_API_KEY), never both.
import type { MailEnv } from "../_shared/env.ts";
import { type Mailer, parseSender } from "./mailer.ts";
import { createResendMailer } from "./resend.ts";
import { createSmtpMailer, parseSmtpUrl } from "./smtp.ts";

export function mailerFromEnv(env: MailEnv, fetchImpl: typeof fetch = fetch): Mailer {
  const sender = parseSender(env.MAIL_FROM);
  if (env.MAIL_SMTP_URL) return createSmtpMailer(parseSmtpUrl(env.MAIL_SMTP_URL), sender, env.MAIL_TIMEOUT_MS);
  return createResendMailer({ apiKey: env.RESEND_API_KEY!, apiUrl: env.RESEND_API_URL, timeoutMs: env.MAIL_TIMEOUT_MS, fetch: fetchImpl }, sender);
}
