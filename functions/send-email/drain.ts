// Drains the email outbox: claims due emails (SKIP LOCKED + lease, so overlapping invocations never send
// one email twice), sends each through the configured provider and records the outcome. A crash mid-batch
// leaves the claimed emails 'sending' until their lease runs out and the sweep puts them back.
import type { Mailer } from "./mailer.ts";
import type { ClaimRow, EmailRpc } from "./rpc.ts";

export interface DrainDeps {
  rpc: EmailRpc;
  mailer: Mailer;
  /** The clock the database decides by; null is its own now(). Tests move it forward. */
  now: string | null;
  batchSize?: number;
  /** Longer than one send may take (MAIL_TIMEOUT_MS per phase), so a slow send is not handed out twice. */
  leaseSeconds?: number;
  /** Parallel sends within a batch. */
  concurrency?: number;
  /** No batch is claimed after this long; the next wake (or the sweep) continues. */
  budgetMs?: number;
}

export interface DrainCounts {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

async function settle(deps: DrainDeps, row: ClaimRow, counts: DrainCounts): Promise<void> {
  if (!row.ok) {
    console.error(`[send-email] unusable outbox row ${row.id ?? "(no id)"}: ${row.problem}`);
    if (row.id) await deps.rpc.markEmailFailed(row.id, `unusable outbox row: ${row.problem}`.slice(0, 1000), false, deps.now);
    counts.failed++;
    return;
  }
  const { email } = row;
  let outcome;
  try {
    outcome = await deps.mailer.send({ id: email.id, to: email.to_address, subject: email.subject, text: email.body_text, html: email.body_html });
  } catch (error) {
    outcome = { ok: false as const, retryable: true, error: `unexpected: ${(error as Error)?.message ?? error}`.slice(0, 1000) };
  }
  if (outcome.ok) {
    if (!(await deps.rpc.markEmailSent(email.id, outcome.providerMessageId, deps.now))) {
      console.warn(`[send-email] email ${email.id} was sent after its lease ran out`);
    }
    counts.sent++;
    return;
  }
  const status = await deps.rpc.markEmailFailed(email.id, outcome.error, outcome.retryable, deps.now);
  if (status === "queued") counts.retried++;
  else counts.failed++;
  console.warn(`[send-email] email ${email.id} attempt ${email.attempt} via ${deps.mailer.provider} failed (${status}): ${outcome.error}`);
}

export async function drainEmails(deps: DrainDeps): Promise<DrainCounts> {
  const counts: DrainCounts = { claimed: 0, sent: 0, retried: 0, failed: 0 };
  const started = Date.now();
  const concurrency = Math.max(1, deps.concurrency ?? 4);
  while (Date.now() - started < (deps.budgetMs ?? 60_000)) {
    const claimed = await deps.rpc.claimEmails(deps.batchSize ?? 20, deps.leaseSeconds ?? 120, deps.now);
    if (claimed.length === 0) break;
    counts.claimed += claimed.length;
    const queue = [...claimed];
    const workers = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        try {
          await settle(deps, row, counts);
        } catch (error) {
          // Recording failed: the lease runs out and the sweep hands the email back; nothing is lost.
          console.error(`[send-email] ${row.ok ? row.email.id : row.id}: ${(error as Error)?.message ?? error}`);
        }
      }
    });
    await Promise.all(workers);
  }
  return counts;
}
