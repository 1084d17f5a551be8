// Sends claimed webhook deliveries: each is checked against the target policy (target.ts), signed per the
// Standard Webhooks spec with the standardwebhooks library (one v1 signature per active secret, so a receiver
// mid-rotation verifies with either), POSTed without following redirects, bounded in time and in how much of
// the answer is read, and its outcome recorded. The database decides retries, backoff and turning endpoints off.
import { Webhook } from "standardwebhooks";
import type { Attempt, AttemptResult, ClaimedDelivery, WebhookRpc } from "./rpc.ts";
import { type PinnedFetch, pinnedFetch } from "./pinned-fetch.ts";
import { checkTarget, denoResolveDns, type ResolveDns, TargetRefused } from "./target.ts";

export const USER_AGENT = "leadloop-webhooks/1";
/** What is read of an answer at most; the rest is never downloaded. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** What the delivery log keeps of it. */
export const EXCERPT_CHARS = 1000;

export interface DeliverDeps {
  rpc: WebhookRpc;
  /** Connects only to the addresses the target check approved (pinned-fetch.ts); tests pass a fake fetch. */
  fetch?: PinnedFetch;
  resolveDns?: ResolveDns;
  /** Wall clock (ms) for the signature timestamp and latency: receivers compare webhook-timestamp with theirs. */
  clock?: () => number;
  /** Moves the database's schedule (claims and backoff), never the signature; ISO time or null for the database's now(). */
  now?: string | null;
  timeoutMs?: number;
  batchSize?: number;
  /** Parallel requests within a batch. */
  concurrency?: number;
  /** Bounds one invocation in batches and in time (no batch starts after budgetMs); the next wake or the minute sweep continues. */
  maxBatches?: number;
  budgetMs?: number;
}

export interface DeliverCounts {
  claimed: number;
  succeeded: number;
  retried: number;
  failed: number;
  endpoints_disabled: number;
}

/** The webhook-signature header: "v1,<sig>" for each secret, space-separated (the spec's multi-signature form). */
export function signatures(delivery: ClaimedDelivery, timestamp: Date): string {
  return delivery.secrets.map((secret) => new Webhook(secret).sign(delivery.webhook_id, timestamp, delivery.payload)).join(" ");
}

/** Reads at most `limit` bytes of the body, then lets the rest go. */
async function readCapped(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value.subarray(0, limit - size));
      size += Math.min(value.length, limit - size);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** The start of an answer as text for the log: no control characters but newlines and tabs. */
export function excerpt(bytes: Uint8Array): string {
  // deno-lint-ignore no-control-regex
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "").slice(0, EXCERPT_CHARS);
}

function describeFailure(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (err instanceof TargetRefused) return err.message;
  if (timedOut) return `timeout: no complete answer within ${Math.round(timeoutMs / 1000)} s`;
  const message = err instanceof Error ? err.message : String(err);
  return `connection failed: ${message}`.slice(0, 500);
}

/** One attempt, start to end; never throws for anything the receiver or the network does. */
export async function attemptDelivery(deps: DeliverDeps, delivery: ClaimedDelivery): Promise<Attempt> {
  const clock = deps.clock ?? Date.now;
  const timeoutMs = deps.timeoutMs ?? 15_000;
  const started = clock();
  const base = { deliveryId: delivery.delivery_id, attempt: delivery.attempt };
  const failed = (error: string, responseStatus: number | null = null, responseExcerpt: string | null = null): Attempt => ({
    ...base, responseStatus, responseExcerpt, error, latencyMs: Math.max(0, Math.round(clock() - started)),
  });
  if (delivery.secrets.length === 0) return failed("the endpoint has no signing secret: rotate it in the dashboard");

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  // The resolver takes no signal: the timeout ends the wait for it as well.
  const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(new Error("aborted"))));
  aborted.catch(() => undefined);
  try {
    const addresses = await Promise.race([checkTarget(delivery.url, delivery.allow_loopback, deps.resolveDns ?? denoResolveDns), aborted]);
    const signedAt = new Date(clock());
    const res = await (deps.fetch ?? pinnedFetch)(delivery.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": String(Math.floor(signedAt.getTime() / 1000)),
        "webhook-signature": signatures(delivery, signedAt),
      },
      body: delivery.payload,
      signal: controller.signal,
    }, addresses);
    const text = excerpt(await readCapped(res.body, MAX_RESPONSE_BYTES));
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get("location");
      return failed(`redirects are not followed${location ? ` (Location: ${location.slice(0, 200)})` : ""}`, res.status, text);
    }
    return { ...base, responseStatus: res.status, responseExcerpt: text, error: null, latencyMs: Math.max(0, Math.round(clock() - started)) };
  } catch (err) {
    return failed(describeFailure(err, timedOut, timeoutMs));
  } finally {
    clearTimeout(timer);
  }
}

function count(counts: DeliverCounts, result: AttemptResult): void {
  if (!result.recorded) return; // a re-claimed lease: the other worker counts it
  if (result.status === "succeeded") counts.succeeded++;
  else if (result.status === "pending") counts.retried++;
  else if (result.status === "failed") counts.failed++;
  if (result.endpoint_disabled) counts.endpoints_disabled++;
}

/** How long a batch may hold its deliveries: every request of it timing out, one after another per worker. */
export function leaseSeconds(batchSize: number, concurrency: number, timeoutMs: number): number {
  return Math.min(900, Math.ceil(batchSize / concurrency) * Math.ceil(timeoutMs / 1000) + 30);
}

export async function deliverDue(deps: DeliverDeps): Promise<DeliverCounts> {
  const counts: DeliverCounts = { claimed: 0, succeeded: 0, retried: 0, failed: 0, endpoints_disabled: 0 };
  const batchSize = deps.batchSize ?? 10;
  const concurrency = Math.max(1, deps.concurrency ?? 5);
  const maxBatches = deps.maxBatches ?? 200;
  const clock = deps.clock ?? Date.now;
  const deadline = clock() + (deps.budgetMs ?? 60_000);
  const now = deps.now ?? null;
  const lease = leaseSeconds(batchSize, concurrency, deps.timeoutMs ?? 15_000);
  for (let batch = 0; batch < maxBatches && clock() < deadline; batch++) {
    const rows = await deps.rpc.claim(batchSize, lease, now);
    if (rows.length === 0) break;
    counts.claimed += rows.length;
    const queue = [...rows];
    const workers = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        const id = row.ok ? row.delivery.delivery_id : row.deliveryId;
        try {
          const attempt = row.ok
            ? await attemptDelivery(deps, row.delivery)
            : { deliveryId: row.deliveryId, attempt: row.attempt, responseStatus: null, responseExcerpt: null, latencyMs: 0, error: `internal: unreadable delivery (${row.problem})`.slice(0, 500) };
          count(counts, await deps.rpc.record(attempt, now));
        } catch (err) {
          // Recording failed: the lease runs out and the delivery is claimed again; nothing is lost.
          console.error(`[webhook-deliver] delivery ${id}: ${(err as Error)?.message ?? err}`);
        }
      }
    });
    await Promise.all(workers);
  }
  return counts;
}
