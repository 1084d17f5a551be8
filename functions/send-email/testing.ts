// Test doubles for send-email: the outbox RPCs in memory and a scripted mailer.
import type { RawRpc } from "../_shared/rpc.ts";
import type { Mailer, OutgoingEmail, SendOutcome } from "./mailer.ts";
import { emailRpc } from "./rpc.ts";

export interface Call {
  name: string;
  args: Record<string, unknown>;
}

/** Claims return the given batches in order, then nothing; failures answer `failedStatus` when retryable. */
export function fakeOutbox(batches: unknown[][], failedStatus = "queued") {
  const calls: Call[] = [];
  let claims = 0;
  const call = ((name: string, args: Record<string, unknown>) => {
    calls.push({ name, args });
    if (name === "claim_emails") return Promise.resolve(batches[claims++] ?? []);
    if (name === "mark_email_sent") return Promise.resolve(true);
    if (name === "mark_email_failed") return Promise.resolve(args.p_retryable ? failedStatus : "failed");
    return Promise.reject(new Error(`unexpected rpc ${name}`));
  }) as unknown as RawRpc;
  return { rpc: emailRpc(call), calls, callsTo: (name: string) => calls.filter((c) => c.name === name) };
}

export function claimedEmail(n: number, overrides: Record<string, unknown> = {}) {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    to_address: `owner${n}@example.com`,
    subject: `New lead: Lead ${n}`,
    body_text: `text ${n}`,
    body_html: `<p>html ${n}</p>`,
    attempt: 1,
    ...overrides,
  };
}

/** A mailer answering from `respond`, recording what it was asked to send. */
export function fakeMailer(respond: (email: OutgoingEmail) => SendOutcome | Promise<SendOutcome> = () => ({ ok: true, providerMessageId: "p-1" })) {
  const sent: OutgoingEmail[] = [];
  const mailer: Mailer = {
    provider: "smtp",
    send: (email) => {
      sent.push(email);
      return Promise.resolve(respond(email));
    },
    close: () => undefined,
  };
  return { mailer, sent };
}
