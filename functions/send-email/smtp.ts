// SMTP through nodemailer (npm, runs on Deno's Node compatibility): MAIL_SMTP_URL names the server.
//   smtps://user:pass@host[:465]                implicit TLS from the first byte
//   smtp://user:pass@host[:587]                 STARTTLS when the server offers it (the default)
//   smtp://user:pass@host:587?starttls=required refuse to send unless the connection is upgraded to TLS
//   smtp://host:25?starttls=never               plain text (a local catcher)
// User and password are percent-encoded in the URL. Errors never repeat the URL (it holds the password).
// @deno-types="npm:@types/nodemailer@8.0.2"
import nodemailer from "nodemailer";
import { ConfigError } from "../_shared/http.ts";
import { AUTOMATED_HEADERS, describe, type Mailer, messageIdFor, type OutgoingEmail, type Sender, type SendOutcome } from "./mailer.ts";

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (smtps://). */
  secure: boolean;
  /** STARTTLS: upgrade when offered (auto), always (required) or never. */
  starttls: "auto" | "required" | "never";
  auth: { user: string; pass: string } | null;
}

export function parseSmtpUrl(value: string): SmtpSettings {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("MAIL_SMTP_URL is not a URL");
  }
  const secure = url.protocol === "smtps:";
  if (!secure && url.protocol !== "smtp:") throw new ConfigError("MAIL_SMTP_URL must start with smtp:// or smtps://");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new ConfigError("MAIL_SMTP_URL has no host");
  if ((url.pathname && url.pathname !== "/") || url.hash) throw new ConfigError("MAIL_SMTP_URL takes no path or fragment");
  for (const key of url.searchParams.keys()) {
    if (key !== "starttls") throw new ConfigError(`MAIL_SMTP_URL: unknown option ${key} (only starttls)`);
  }
  const starttls = url.searchParams.get("starttls") ?? "auto";
  if (starttls !== "auto" && starttls !== "required" && starttls !== "never") {
    throw new ConfigError("MAIL_SMTP_URL: starttls must be auto, required or never");
  }
  if (secure && starttls !== "auto") throw new ConfigError("MAIL_SMTP_URL: smtps:// is TLS from the start; starttls does not apply");
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(url.username);
    pass = decodeURIComponent(url.password);
  } catch {
    throw new ConfigError("MAIL_SMTP_URL: the user or password is not percent-encoded correctly");
  }
  return {
    host,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    starttls,
    auth: user ? { user, pass } : null,
  };
}

// nodemailer's error codes for a connection or protocol problem, as opposed to the server's answer.
const CONNECTION_CODES = new Set(["ECONNECTION", "ESOCKET", "ETIMEDOUT", "EDNS", "ETLS", "EPROTOCOL", "EAUTH", "ENOAUTH", "EOAUTH2"]);

/** A 5xx answer about this message (recipient unknown, content refused) is final; anything else may pass later. */
export function classifySmtpError(error: unknown): { retryable: boolean; error: string } {
  const e = error as { code?: string; responseCode?: number; response?: string };
  const code = typeof e?.code === "string" ? e.code : "";
  const status = typeof e?.responseCode === "number" ? e.responseCode : null;
  // Authentication and connection trouble is the deployment's, not the email's: keep it for a retry.
  const permanent = status !== null && status >= 500 && status < 600 && !CONNECTION_CODES.has(code);
  const detail = [code, status, describe(e?.response ?? error, 900)].filter(Boolean).join(" ");
  return { retryable: !permanent, error: detail.slice(0, 1000) };
}

export function createSmtpMailer(settings: SmtpSettings, sender: Sender, timeoutMs: number): Mailer {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: settings.starttls === "required",
    ignoreTLS: settings.starttls === "never",
    auth: settings.auth ?? undefined,
    // One worker process sends many emails: keep a few connections open between them.
    pool: true,
    maxConnections: 3,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    tls: { servername: settings.host },
  });
  return {
    provider: "smtp",
    async send(email: OutgoingEmail): Promise<SendOutcome> {
      try {
        const info = await transport.sendMail({
          from: sender.name ? { name: sender.name, address: sender.address } : sender.address,
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: messageIdFor(email.id, sender),
          headers: { ...AUTOMATED_HEADERS },
          // The server's answer and the refused recipients arrive in `info`; nothing is retried here.
          disableFileAccess: true,
          disableUrlAccess: true,
        });
        const refused = (info.rejected ?? []).map(String);
        if (refused.length > 0) return { ok: false, retryable: false, error: `recipient refused: ${info.response ?? ""}`.slice(0, 1000) };
        return { ok: true, providerMessageId: String(info.response ?? info.messageId ?? "").slice(0, 300) || null };
      } catch (error) {
        return { ok: false, ...classifySmtpError(error) };
      }
    },
    close: () => transport.close(),
  };
}
