// The two RPCs of the webhook outbox (migration webhook_delivery), typed by the generated Database type and
// validated at the boundary. A claimed row that does not parse is still settled (as a failed attempt) when
// its id and attempt can be read, so it is retried and logged rather than leased again in silence.
import { z } from "zod";
import type { RawRpc } from "../_shared/rpc.ts";
import { RpcError, zodMessage } from "../_shared/http.ts";

export const claimedDeliverySchema = z.object({
  delivery_id: z.string().uuid(),
  attempt: z.number().int().positive(),
  webhook_id: z.string().regex(/^msg_[0-9a-f]{32}$/),
  event_type: z.string().min(1),
  payload: z.string().min(2),
  url: z.string().min(1),
  secrets: z.array(z.string().startsWith("whsec_")),
  allow_loopback: z.boolean(),
});
export type ClaimedDelivery = z.infer<typeof claimedDeliverySchema>;

const claimRowKeySchema = z.object({ delivery_id: z.string().uuid(), attempt: z.number().int().positive() });

export const attemptResultSchema = z.object({
  recorded: z.boolean(),
  status: z.enum(["pending", "sending", "succeeded", "failed"]),
  next_attempt_at: z.string().nullish(),
  endpoint_disabled: z.boolean().optional().default(false),
});
export type AttemptResult = z.infer<typeof attemptResultSchema>;

export interface Attempt {
  deliveryId: string;
  attempt: number;
  responseStatus: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
}

/** A claimed row: parsed, or the reason it is unusable and what is needed to settle it. */
export type ClaimRow = { ok: true; delivery: ClaimedDelivery } | { ok: false; deliveryId: string; attempt: number; problem: string };

export interface WebhookRpc {
  claim(batchSize: number, leaseSeconds: number, now: string | null): Promise<ClaimRow[]>;
  record(attempt: Attempt, now: string | null): Promise<AttemptResult>;
}

export function webhookRpc(call: RawRpc): WebhookRpc {
  return {
    async claim(batchSize, leaseSeconds, now) {
      const data = await call("claim_webhook_deliveries", {
        p_batch_size: batchSize,
        p_lease_seconds: leaseSeconds,
        ...(now === null ? {} : { p_now: now }),
      });
      const rows = z.array(z.unknown()).safeParse(data ?? []);
      if (!rows.success) throw new RpcError("claim_webhook_deliveries", `unexpected result: ${zodMessage(rows.error)}`);
      return rows.data.flatMap((row): ClaimRow[] => {
        const parsed = claimedDeliverySchema.safeParse(row);
        if (parsed.success) return [{ ok: true, delivery: parsed.data }];
        const key = claimRowKeySchema.safeParse(row);
        console.error(`[webhook-deliver] malformed claimed delivery: ${zodMessage(parsed.error)}`);
        return key.success ? [{ ok: false, deliveryId: key.data.delivery_id, attempt: key.data.attempt, problem: zodMessage(parsed.error) }] : [];
      });
    },
    async record(a, now) {
      const data = await call("record_webhook_attempt", {
        p_delivery_id: a.deliveryId,
        p_attempt: a.attempt,
        p_latency_ms: a.latencyMs,
        ...(a.responseStatus === null ? {} : { p_response_status: a.responseStatus }),
        ...(a.responseExcerpt === null ? {} : { p_response_excerpt: a.responseExcerpt }),
        ...(a.error === null ? {} : { p_error: a.error }),
        ...(now === null ? {} : { p_now: now }),
      });
      const parsed = attemptResultSchema.safeParse(data);
      if (!parsed.success) throw new RpcError("record_webhook_attempt", `unexpected result: ${zodMessage(parsed.error)}`);
      return parsed.data;
    },
  };
}
