// Drains the outbox: claims due messages (SKIP LOCKED + lease, so overlapping invocations
// never send one message twice), sends each through Twilio and records the outcome.
// A crash mid-batch leaves the claimed messages 'sending' until their lease expires and
// the sweep puts them back, so none is silently lost.
import { type Handler, json, requireMethod, withErrors } from "../_shared/http.ts";
import type { ClaimedMessage } from "../_shared/contracts.ts";
import type { LeadloopRpc } from "../_shared/rpc.ts";
import type { TwilioEnv } from "../_shared/env.ts";
import { requireServiceRole, type ServiceCredentials } from "../_shared/service-auth.ts";
import { sendSms } from "../_shared/twilio-client.ts";

export interface DispatchDeps {
  rpc: LeadloopRpc;
  /** Who may call it: the service role only. */
  credentials: ServiceCredentials;
  twilio: TwilioEnv;
  fetch?: typeof fetch;
  batchSize?: number;
  leaseSeconds?: number;
  /** Bounds one invocation; the next wake continues. */
  maxBatches?: number;
  /** Parallel Twilio requests within a batch. */
  concurrency?: number;
}

export interface DispatchCounts {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

async function dispatchOne(deps: DispatchDeps, msg: ClaimedMessage, counts: DispatchCounts): Promise<void> {
  const outcome = await sendSms(deps.twilio, { to: msg.to_phone, from: msg.from_phone, body: msg.body }, deps.fetch ?? fetch);
  if (outcome.kind === "sent") {
    const stillOurs = await deps.rpc.markMessageSent(msg.id, outcome.sid);
    if (!stillOurs) console.warn(`[sms-dispatch] message ${msg.id} was sent after its lease expired (sid ${outcome.sid})`);
    counts.sent++;
    return;
  }
  const status = await deps.rpc.markMessageFailed(msg.id, outcome.code, outcome.message, outcome.retryable);
  if (status === "queued") counts.retried++;
  else counts.failed++;
}

export async function drainOutbox(deps: DispatchDeps): Promise<DispatchCounts> {
  const counts: DispatchCounts = { claimed: 0, sent: 0, retried: 0, failed: 0 };
  const batchSize = deps.batchSize ?? 25;
  const maxBatches = deps.maxBatches ?? 20;
  const concurrency = Math.max(1, deps.concurrency ?? 10);
  for (let batch = 0; batch < maxBatches; batch++) {
    const claimed = await deps.rpc.claimOutboundMessages(batchSize, deps.leaseSeconds ?? 60);
    if (claimed.length === 0) break;
    counts.claimed += claimed.length;
    const queue = [...claimed];
    const workers = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let msg = queue.shift(); msg; msg = queue.shift()) {
        try {
          await dispatchOne(deps, msg, counts);
        } catch (err) {
          // Recording failed: the lease expiry hands the message back, nothing is lost.
          console.error(`[sms-dispatch] message ${msg.id}: ${(err as Error)?.message ?? err}`);
        }
      }
    });
    await Promise.all(workers);
  }
  return counts;
}

export function createDispatchHandler(deps: DispatchDeps): Handler {
  return withErrors("sms-dispatch", async (req) => {
    await requireServiceRole(req, deps.credentials);
    requireMethod(req, "POST");
    await req.body?.cancel();
    return json(await drainOutbox(deps));
  });
}
