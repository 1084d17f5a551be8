// Drains the outbox: claims due messages (SKIP LOCKED + lease, so overlapping invocations
// never send one message twice), sends each through Twilio and records the outcome.
// A crash mid-batch leaves the claimed messages 'sending' until their lease expires; the next
// claim (or the sweep) puts them back, marked as of unknown outcome, and this function looks
// them up in Twilio's message list before sending them again, so none is lost or sent twice.
//
// Retries are woken at their own time, not by the minute sweep: after a drain the function asks
// when the outbox is next due (a retry's backoff, a lease in flight) and, when that is within a
// minute, waits for it in the background and drains again. On the platform the wait is kept alive
// with EdgeRuntime.waitUntil; a long-lived Deno process (the local runner) simply keeps running it.
import { type Handler, json, requireMethod, withErrors } from "../_shared/http.ts";
import type { ClaimedMessage } from "../_shared/contracts.ts";
import type { LeadloopRpc } from "../_shared/rpc.ts";
import type { TwilioEnv } from "../_shared/env.ts";
import { requireServiceRole, type ServiceCredentials } from "../_shared/service-auth.ts";
import { findSentMessage, sendSms } from "../_shared/twilio-client.ts";

export interface DispatchDeps {
  rpc: LeadloopRpc;
  /** Who may call it: the service role only. */
  credentials: ServiceCredentials;
  twilio: TwilioEnv;
  fetch?: typeof fetch;
  leaseSeconds?: number;
  /** Messages one claim takes (per worker). */
  batchSize?: number;
  /** Bounds the claims of one drain; the next wake continues. */
  maxBatches?: number;
  /** Parallel Twilio requests (workers). */
  concurrency?: number;
  /** Retries due within this long are waited for here; later ones are left to the minute sweep. */
  retryHorizonMs?: number;
  /** How long one invocation keeps waking itself for retries (under the platform's wall-clock limit). */
  keepAliveMs?: number;
  /** Keeps a promise alive after the response (the platform's EdgeRuntime.waitUntil). */
  waitUntil?: (work: Promise<unknown>) => void;
  now?: () => number;
}

export interface DispatchCounts {
  claimed: number;
  sent: number;
  reconciled: number;
  retried: number;
  failed: number;
}

async function dispatchOne(deps: DispatchDeps, msg: ClaimedMessage, counts: DispatchCounts): Promise<void> {
  const fetchFn = deps.fetch ?? fetch;
  if (msg.unknown_attempt_at) {
    // An earlier attempt may have reached Twilio: find it before sending anything.
    let sid: string | null;
    try {
      sid = await findSentMessage(
        deps.twilio,
        { to: msg.to_phone, from: msg.from_phone, body: msg.body, since: new Date(msg.unknown_attempt_at) },
        fetchFn,
      );
    } catch (err) {
      await deps.rpc.markMessageFailed(msg.id, "reconcile_failed", `could not look up the earlier attempt: ${(err as Error)?.message ?? err}`, true, true);
      counts.retried++;
      return;
    }
    if (sid) {
      await deps.rpc.markMessageSent(msg.id, sid);
      counts.reconciled++;
      return;
    }
  }
  const outcome = await sendSms(deps.twilio, { to: msg.to_phone, from: msg.from_phone, body: msg.body }, fetchFn);
  if (outcome.kind === "sent") {
    const recorded = await deps.rpc.markMessageSent(msg.id, outcome.sid);
    if (!recorded) console.warn(`[sms-dispatch] message ${msg.id} was already settled when its send (sid ${outcome.sid}) was recorded`);
    counts.sent++;
    return;
  }
  const status = await deps.rpc.markMessageFailed(msg.id, outcome.code, outcome.message, outcome.retryable, outcome.outcomeUnknown);
  if (status === "queued") counts.retried++;
  else counts.failed++;
}

/**
 * Workers that each claim a few messages at a time and send them, until a claim comes back empty; a
 * new worker joins whenever a claim comes back full, up to `concurrency`. Workers do not wait for each
 * other: a send held by a slow Twilio (up to the request timeout) holds one worker, never the messages
 * behind it, and every lease covers one or two attempts.
 */
export async function drainOutbox(deps: DispatchDeps): Promise<DispatchCounts> {
  const counts: DispatchCounts = { claimed: 0, sent: 0, reconciled: 0, retried: 0, failed: 0 };
  const concurrency = Math.max(1, deps.concurrency ?? 20);
  const claimSize = Math.max(1, deps.batchSize ?? 2);
  let claimsLeft = deps.maxBatches ?? 250;
  let drained = false;
  // A claim that fails (the database unreachable) ends the drain: every worker stops at its next claim,
  // and the first error is thrown once all have stopped, so none is left rejecting unawaited (which
  // would take the whole function process down) and the claimed messages' leases hand them back.
  let claimError: unknown = null;
  const workers: Promise<void>[] = [];
  const claim = async (): Promise<ClaimedMessage[]> => {
    if (drained || claimsLeft <= 0) return [];
    claimsLeft--;
    const claimed = await deps.rpc.claimOutboundMessages(claimSize, deps.leaseSeconds ?? 30);
    if (claimed.length === 0) drained = true;
    counts.claimed += claimed.length;
    // A full claim says more is waiting: another worker joins, up to the concurrency.
    if (claimed.length === claimSize && workers.length < concurrency) workers.push(worker());
    return claimed;
  };
  async function worker(): Promise<void> {
    try {
      await work();
    } catch (err) {
      claimError ??= err;
      drained = true;
    }
  }
  async function work(): Promise<void> {
    for (let batch = await claim(); batch.length > 0; batch = await claim()) {
      for (const msg of batch) {
        try {
          await dispatchOne(deps, msg, counts);
        } catch (err) {
          // Recording failed: the lease expiry hands the message back (outcome unknown), nothing is lost.
          console.error(`[sms-dispatch] message ${msg.id}: ${(err as Error)?.message ?? err}`);
        }
      }
    }
  }
  workers.push(worker());
  // Workers join while others run: wait until every worker there was when the wait began has finished
  // and none joined meanwhile.
  for (let waitedFor = 0; waitedFor < workers.length;) {
    waitedFor = workers.length;
    await Promise.all(workers.slice(0, waitedFor));
  }
  if (claimError) throw claimError;
  return counts;
}

function addCounts(total: DispatchCounts, more: DispatchCounts): DispatchCounts {
  for (const key of Object.keys(total) as (keyof DispatchCounts)[]) total[key] += more[key];
  return total;
}

/**
 * One drain at a time per process. Every wake used to start a drain of its own, each with up to
 * `concurrency` workers: under a stream of wakes (a busy intake) the function held hundreds of
 * connections to the API, overflowed the gateway's accept queue, and the resets failed its RPCs. A wake
 * that arrives while a drain runs now asks it for one more pass instead, which claims after the wake's
 * transaction committed, and answers with the counts of the passes it waited for.
 */
export function createSingleDrain(deps: DispatchDeps): () => Promise<DispatchCounts> {
  let running: Promise<DispatchCounts> | null = null;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      const total: DispatchCounts = { claimed: 0, sent: 0, reconciled: 0, retried: 0, failed: 0 };
      let error: unknown = null;
      do {
        again = false;
        try {
          addCounts(total, await drainOutbox(deps));
          error = null;
        } catch (err) {
          error = err;
        }
      } while (again);
      if (error) throw error;
      return total;
    })().finally(() => {
      running = null;
    });
    return running;
  };
}

interface EdgeRuntimeGlobal {
  EdgeRuntime?: { waitUntil?: (promise: Promise<unknown>) => void };
}

/** The platform's way to keep working after the response; without it the promise simply runs on. */
export function platformWaitUntil(work: Promise<unknown>): void {
  const runtime = (globalThis as EdgeRuntimeGlobal).EdgeRuntime;
  if (typeof runtime?.waitUntil === "function") runtime.waitUntil(work);
}

/**
 * One retry keeper per process: after each drain it asks when the outbox is next due and, when that is
 * within the horizon, sleeps until then and drains again, until nothing is due soon or its time is up.
 * A new invocation wakes a sleeping keeper so that it looks again (a new retry may be due sooner).
 */
export function createRetryKeeper(deps: DispatchDeps, drain: () => Promise<DispatchCounts> = () => drainOutbox(deps)) {
  const now = deps.now ?? Date.now;
  const horizon = deps.retryHorizonMs ?? 60_000;
  let running: Promise<void> | null = null;
  let poke: (() => void) | null = null;
  let until = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, Math.min(ms, until - now())));
      poke = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      poke = null;
    });

  async function loop(): Promise<void> {
    while (now() < until) {
      const next = await deps.rpc.nextOutboxDueAt();
      if (!next) return;
      const wait = next.getTime() - now();
      if (wait > horizon) return; // the minute sweep wakes a later one
      if (wait > 0) await sleep(wait + 25);
      if (now() >= until) return;
      const counts = await drain();
      // Due but not claimable (held by another worker's claim): look again in a moment, not at once.
      if (counts.claimed === 0) await sleep(1000);
    }
  }

  return {
    /** Keeps retries coming for keepAliveMs from now; returns the running keeper (for waitUntil and tests). */
    keepAlive(): Promise<void> {
      until = Math.max(until, now() + (deps.keepAliveMs ?? 120_000));
      if (running) {
        poke?.();
        return running;
      }
      running = loop()
        .catch((err) => console.error(`[sms-dispatch] retry keeper: ${(err as Error)?.message ?? err}`))
        .finally(() => {
          running = null;
        });
      return running;
    },
  };
}

export function createDispatchHandler(deps: DispatchDeps): Handler {
  const drain = createSingleDrain(deps);
  const keeper = createRetryKeeper(deps, drain);
  const waitUntil = deps.waitUntil ?? platformWaitUntil;
  return withErrors("sms-dispatch", async (req) => {
    await requireServiceRole(req, deps.credentials);
    requireMethod(req, "POST");
    await req.body?.cancel();
    const counts = await drain();
    waitUntil(keeper.keepAlive());
    return json(counts);
  });
}
