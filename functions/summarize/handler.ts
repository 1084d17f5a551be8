// Takes due summaries, summarizes each (LLM when configured, built-in otherwise or on any
// LLM failure) and completes it; the database queues exactly one owner summary per
// conversation. One bad conversation does not stop the batch: its lease expires and it
// is tried again later.
import { type Handler, json, requireMethod, withErrors, zodMessage } from "../_shared/http.ts";
import { claimedSummarySchema } from "../_shared/contracts.ts";
import type { LeadloopRpc } from "../_shared/rpc.ts";
import { type LlmConfig, summarize } from "../_shared/summarizer.ts";
import { requireServiceRole, type ServiceCredentials } from "../_shared/service-auth.ts";

export interface SummarizeDeps {
  rpc: LeadloopRpc;
  /** Who may call it: the service role only. */
  credentials: ServiceCredentials;
  llm: LlmConfig | null;
  fetch?: typeof fetch;
  batchSize?: number;
  leaseSeconds?: number;
  maxBatches?: number;
}

export interface SummarizeCounts {
  claimed: number;
  completed: number;
  fallbacks: number;
  failed: number;
}

export async function summarizeDue(deps: SummarizeDeps): Promise<SummarizeCounts> {
  const counts: SummarizeCounts = { claimed: 0, completed: 0, fallbacks: 0, failed: 0 };
  for (let batch = 0; batch < (deps.maxBatches ?? 10); batch++) {
    const rows = await deps.rpc.claimDueSummaries(deps.batchSize ?? 10, deps.leaseSeconds ?? 120);
    if (rows.length === 0) break;
    counts.claimed += rows.length;
    for (const raw of rows) {
      const row = claimedSummarySchema.safeParse(raw);
      if (!row.success) {
        counts.failed++;
        console.error(`[summarize] malformed due summary: ${zodMessage(row.error)}`);
        continue;
      }
      const due = row.data;
      try {
        const result = await summarize(
          {
            lead: due.lead,
            messages: due.messages,
            // The summary is read by the owner: their language when known, else the conversation's.
            locale: due.business.default_locale ?? due.locale,
            timezone: due.business.timezone,
            now: new Date(due.now).toISOString(),
            slots: due.slots,
            completion_reason: due.completion_reason,
          },
          { llm: deps.llm, fetch: deps.fetch },
        );
        if (result.fallbackReason) {
          counts.fallbacks++;
          console.warn(`[summarize] ${due.conversation_id}: LLM not used (${result.fallbackReason}), built-in summary instead`);
        }
        const { lines, ...stored } = result.summary;
        await deps.rpc.completeConversationSummary(
          due.conversation_id,
          { ...stored, source: result.source, fallback_reason: result.fallbackReason },
          lines,
        );
        counts.completed++;
      } catch (err) {
        counts.failed++;
        console.error(`[summarize] ${due.conversation_id}: ${(err as Error)?.message ?? err}`);
      }
    }
  }
  return counts;
}

export function createSummarizeHandler(deps: SummarizeDeps): Handler {
  return withErrors("summarize", async (req) => {
    await requireServiceRole(req, deps.credentials);
    requireMethod(req, "POST");
    await req.body?.cancel();
    return json(await summarizeDue(deps));
  });
}
