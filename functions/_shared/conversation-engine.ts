// The conversation engine: given what the database knows about a conversation and the lead's new
// message, decides the next turn: the slots, and either the one slot to ask about next or that the
// conversation is done and why. The database renders the wording (private.sms_copy) in the
// conversation's language and records what the text asks. Pure: no I/O, the clock is a parameter.
import type { ConversationContext } from "./contracts.ts";
import { detectIntent, extractConversation, missingSlots, type SlotName, type Slots } from "./extract.ts";

export type ClosingReason = "slots_filled" | "max_questions" | "call_requested";

export interface TurnDecision {
  slots: Slots;
  /** The slot the next question asks for; null when the turn closes the conversation. */
  ask: SlotName | null;
  /** The lead's last message filled something: the question thanks them first. */
  acknowledge: boolean;
  complete: boolean;
  completionReason: ClosingReason | null;
}

export function decideTurn(context: ConversationContext, inboundBody: string, now: Date): TurnDecision {
  // The context normally already holds the new message; add it when it does not.
  const transcript = [...context.transcript];
  const last = [...transcript].reverse().find((m) => m.direction === "inbound");
  if (!last || last.body.trim() !== inboundBody.trim()) {
    transcript.push({ direction: "inbound", kind: "inbound", body: inboundBody, asks: [], created_at: now.toISOString() });
  }

  const x = extractConversation({
    lead: context.lead,
    messages: transcript,
    now,
    timeZone: context.business.timezone,
    known: context.slots,
  });
  const slots: Slots = {
    need: x.slots.need,
    timing: x.slots.timing,
    location: x.slots.location,
    constraints: x.slots.constraints,
  };
  const close = (reason: ClosingReason): TurnDecision => ({
    slots,
    ask: null,
    acknowledge: false,
    complete: true,
    completionReason: reason,
  });

  // "Wrong number" and "not interested" put the number on the do-not-text list, so the database's
  // keyword rules decide them before the engine runs (process_inbound_sms); the engine only ends a
  // conversation for a lead who asks to be called.
  if (detectIntent(inboundBody) === "call_requested") return close("call_requested");

  const missing = missingSlots(slots);
  if (missing.length === 0) return close("slots_filled");
  // A slot the lead was already asked about and did not answer is not asked again.
  const askable = missing.filter((s) => !x.asked.has(s));
  if (askable.length === 0 || context.question_count >= context.max_questions) return close("max_questions");
  return { slots, ask: askable[0], acknowledge: x.filledByLast.length > 0, complete: false, completionReason: null };
}
