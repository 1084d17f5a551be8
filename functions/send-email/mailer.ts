// One interface for every mail provider: send one rendered email, and say whether a failure is worth
// retrying. The database decides what a failure means (backoff, dead letter); a provider only reports.
import { ConfigError } from "../_shared/http.ts";

export interface OutgoingEmail {
  /** The outbox row's id: the Message-ID and the provider's idempotency key derive from it. */
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export type SendOutcome =
  | { ok: true; providerMessageId: string | null }
  /** retryable: the provider may take it later (down, throttled, misconfigured); false: it refused this email. */
  | { ok: false; retryable: boolean; error: string };

export interface Mailer {
  readonly provider: "smtp" | "resend";
  send(email: OutgoingEmail): Promise<SendOutcome>;
  close(): void;
}

export interface Sender {
  name: string | null;
  address: string;
}

// The same shape private.is_email accepts (a dot-atom local part at a host name).
const ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** MAIL_FROM as `Name <address>` or a bare address; anything else is a configuration error. */
export function parseSender(value: string): Sender {
  const trimmed = value.trim();
  const named = /^(.*?)\s*<([^<>]+)>$/.exec(trimmed);
  const name = named ? named[1].replace(/^"(.*)"$/, "$1").trim() : "";
  const address = named ? named[2].trim() : trimmed;
  if (!ADDRESS.test(address) || /[\r\n<>"]/.test(name)) {
    throw new ConfigError('MAIL_FROM must be an address or "Name <address>"');
  }
  return { name: name || null, address };
}

/** `Name <address>`, the form HTTP providers take. */
export function formatSender(sender: Sender): string {
  return sender.name ? `${JSON.stringify(sender.name)} <${sender.address}>` : sender.address;
}

/** A Message-ID that is the same on every attempt of one email, in the sender's domain. */
export function messageIdFor(emailId: string, sender: Sender): string {
  return `<${emailId}@${sender.address.split("@")[1]}>`;
}

/**
 * Headers every email carries: it was sent by a program (RFC 3834), so vacation responders and other
 * auto-repliers do not answer it.
 */
export const AUTOMATED_HEADERS: Readonly<Record<string, string>> = { "Auto-Submitted": "auto-generated" };

/** An error as one log-safe line, capped. */
export function describe(error: unknown, max = 1000): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, " ").trim().slice(0, max) || "unknown error";
}
