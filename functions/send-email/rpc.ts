// The outbox RPCs send-email calls (migration email_outbox), typed by the generated Database type and
// validated at the boundary. Claimed rows are parsed one by one: a row that does not parse is settled as a
// permanent failure (when its id can be read) instead of being leased again and again in silence.
import { z } from "zod";
import type { RawRpc } from "../_shared/rpc.ts";
import { RpcError, zodMessage } from "../_shared/http.ts";

export const claimedEmailSchema = z.object({
  id: z.string().uuid(),
  // The address rule is the database's (private.is_email, a CHECK on the outbox): not repeated here.
  to_address: z.string().min(3).max(254),
  subject: z.string().min(1).max(250).regex(/^[^\r\n]*$/),
  body_text: z.string().min(1),
  body_html: z.string().min(1),
  attempt: z.number().int().positive(),
});
export type ClaimedEmail = z.infer<typeof claimedEmailSchema>;

export type ClaimRow = { ok: true; email: ClaimedEmail } | { ok: false; id: string | null; problem: string };

export interface EmailRpc {
  claimEmails(batchSize: number, leaseSeconds: number, now: string | null): Promise<ClaimRow[]>;
  /** False when the email was no longer leased to us (the sweep took it back). */
  markEmailSent(id: string, providerMessageId: string | null, now: string | null): Promise<boolean>;
  /** The email's status afterwards: queued (to be retried) or failed (dead letter). */
  markEmailFailed(id: string, error: string, retryable: boolean, now: string | null): Promise<string>;
}

function parse<S extends z.ZodTypeAny>(rpc: string, schema: S, data: unknown): z.output<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw new RpcError(rpc, `unexpected result: ${zodMessage(r.error)}`);
  return r.data;
}

export function emailRpc(call: RawRpc): EmailRpc {
  // p_now is left out unless the caller moved the clock, so the database's own now() decides.
  const at = (now: string | null) => (now === null ? {} : { p_now: now });
  return {
    async claimEmails(batchSize, leaseSeconds, now) {
      const rows = parse("claim_emails", z.array(z.unknown()),
        await call("claim_emails", { p_batch_size: batchSize, p_lease_seconds: leaseSeconds, ...at(now) }) ?? []);
      return rows.map((row): ClaimRow => {
        const parsed = claimedEmailSchema.safeParse(row);
        if (parsed.success) return { ok: true, email: parsed.data };
        const id = z.object({ id: z.string().uuid() }).safeParse(row);
        return { ok: false, id: id.success ? id.data.id : null, problem: zodMessage(parsed.error) };
      });
    },
    async markEmailSent(id, providerMessageId, now) {
      return parse("mark_email_sent", z.boolean(), await call("mark_email_sent", {
        p_email_id: id,
        ...(providerMessageId === null ? {} : { p_provider_message_id: providerMessageId }),
        ...at(now),
      }));
    },
    async markEmailFailed(id, error, retryable, now) {
      return parse("mark_email_failed", z.string(), await call("mark_email_failed", {
        p_email_id: id,
        p_error: error,
        p_retryable: retryable,
        ...at(now),
      }));
    },
  };
}
