// Twilio's inbound SMS webhook, raw first: the message is stored once per MessageSid before
// anything else happens (a failure there answers 5xx, so Twilio retries: the number's webhook URL
// carries the retry overrides, see README "Deployment"). Then the database applies it (STOP/START/HELP,
// wrong number, not interested, the ambiguous question; answers go through the outbox), and for a
// reply in an open conversation this runs the conversation engine and applies the turn (the
// database words the next text, in the language of the reply). Once stored, a failure later is
// logged and answered 200: the sweep processes what was not processed, and a Twilio retry would
// only be a duplicate.
import { z } from "zod";
import { emptyTwiml, type Handler, withErrors } from "../_shared/http.ts";
import { readSignedTwilioForm } from "../_shared/twilio-webhook.ts";
import type { ConversationContext } from "../_shared/contracts.ts";
import { decideTurn } from "../_shared/conversation-engine.ts";
import type { InboundResult, LeadloopRpc } from "../_shared/rpc.ts";
import type { TwilioWebhookEnv } from "../_shared/env.ts";

export const inboundFormSchema = z.object({
  MessageSid: z.string().min(10, "MessageSid is required").max(64),
  From: z.string().min(1, "From is required").max(32),
  To: z.string().min(1, "To is required").max(32),
  Body: z.string().default(""),
  OptOutType: z.string().optional(),
});

export interface InboundDeps {
  rpc: LeadloopRpc;
  env: TwilioWebhookEnv;
  now?: () => Date;
}

const openStatuses = new Set(["pending", "awaiting_reply", "active"]);

function applyTurn(rpc: LeadloopRpc, context: ConversationContext, body: string, now: Date) {
  const d = decideTurn(context, body, now);
  return rpc.applyConversationTurn({
    conversationId: context.conversation_id,
    expectedVersion: context.version,
    slots: d.slots,
    ask: d.ask,
    acknowledge: d.acknowledge,
    complete: d.complete,
    completionReason: d.completionReason,
  });
}

/** Runs the engine; on a version conflict re-reads the context and tries once more. */
export async function runConversationTurn(
  rpc: LeadloopRpc,
  conversationId: string,
  context: ConversationContext | null,
  body: string,
  now: Date,
) {
  let ctx = context ?? (await rpc.getConversationContext(conversationId));
  for (let attempt = 0; attempt < 2 && ctx; attempt++) {
    if (!openStatuses.has(ctx.status)) return { applied: false, reason: `conversation is ${ctx.status}` };
    const result = await applyTurn(rpc, ctx, body, now);
    if (result.applied) return { applied: true, reason: null };
    if (attempt === 0) ctx = await rpc.getConversationContext(conversationId);
  }
  return { applied: false, reason: ctx ? "version conflict twice" : "conversation not found" };
}

export function createInboundHandler(deps: InboundDeps): Handler {
  return withErrors("twilio-inbound", async (req) => {
    const form = inboundFormSchema.parse(await readSignedTwilioForm(req, deps.env, "twilio-inbound"));
    // Step one, the only one whose failure Twilio must see: keep the message.
    await deps.rpc.receiveInboundSms({
      messageSid: form.MessageSid,
      from: form.From,
      to: form.To,
      body: form.Body,
      optOutType: form.OptOutType ?? null,
    });
    let result: InboundResult;
    try {
      result = await deps.rpc.processInboundSms(form.MessageSid);
    } catch (err) {
      console.error(`[twilio-inbound] ${form.MessageSid} stored, not processed yet (the sweep retries): ${(err as Error)?.message ?? err}`);
      return emptyTwiml();
    }
    if (result.outcome === "reply" && result.conversation_id) {
      try {
        const turn = await runConversationTurn(
          deps.rpc,
          result.conversation_id,
          result.context ?? null,
          form.Body,
          (deps.now ?? (() => new Date()))(),
        );
        if (!turn.applied) console.warn(`[twilio-inbound] turn not applied for ${result.conversation_id}: ${turn.reason}`);
      } catch (err) {
        // The reply is applied to the conversation; without a turn the idle sweep completes it.
        console.error(`[twilio-inbound] conversation ${result.conversation_id}: ${(err as Error)?.message ?? err}`);
      }
    }
    return emptyTwiml();
  });
}
