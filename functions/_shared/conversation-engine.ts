// The conversation engine: given what the database knows about a conversation and the
// lead's new message, decides the next turn. Pure: no I/O, the clock is a parameter.
import { z } from "zod";
import { detectIntent, extractConversation, type Intent, missingSlots, type Slots } from "./extract.ts";
import { detectLocale, type Locale, toLocale } from "./language.ts";
import { type ClosingReason, templates } from "./templates.ts";
import { isValidTimeZone } from "./timezone.ts";

const nullableText = z.string().nullish().transform((v) => (v && v.trim() ? v.trim() : null));

/** The `context` object of get_conversation_context / record_inbound_sms. */
export const conversationContextSchema = z.object({
  conversation_id: z.string().uuid(),
  version: z.number().int(),
  status: z.string(),
  turn_count: z.number().int().nonnegative().default(0),
  question_count: z.number().int().nonnegative(),
  max_questions: z.number().int().nonnegative(),
  locale: z.string().nullish(),
  slots: z
    .object({
      need: nullableText,
      timing: nullableText,
      location: nullableText,
      constraints: z.array(z.string()).nullish().transform((c) => c ?? []),
    })
    .nullish()
    .transform((s) => s ?? { need: null, timing: null, location: null, constraints: [] }),
  lead: z.object({
    name: z.string().nullish(),
    phone: z.string().nullish(),
    email: z.string().nullish(),
    message: z.string().nullish(),
    source_url: z.string().nullish(),
  }),
  business: z.object({
    name: z.string(),
    timezone: z.string().refine(isValidTimeZone, "business.timezone must be an IANA zone"),
    default_locale: z.string().nullish(),
  }),
  transcript: z
    .array(
      z.object({
        direction: z.string(),
        kind: z.string().nullish(),
        body: z.string().nullish().transform((b) => b ?? ""),
        created_at: z.string().nullish(),
      }),
    )
    .default([]),
});
export type ConversationContext = z.output<typeof conversationContextSchema>;

export interface TurnDecision {
  slots: Slots;
  locale: Locale;
  outbound: { body: string; kind: "question" | "closing" } | null;
  complete: boolean;
  completionReason: ClosingReason | null;
}

function firstName(name: string | null | undefined): string | null {
  const first = (name ?? "").trim().split(/\s+/)[0];
  return first && /\p{L}/u.test(first) ? first : null;
}

export function decideTurn(context: ConversationContext, inboundBody: string, now: Date): TurnDecision {
  const currentLocale = toLocale(context.locale ?? context.business.default_locale);
  const locale = detectLocale(inboundBody, currentLocale);
  const t = templates[locale];

  // The context normally already holds the new message; add it when it does not.
  const transcript = [...context.transcript];
  const last = [...transcript].reverse().find((m) => m.direction === "inbound");
  if (!last || last.body.trim() !== inboundBody.trim()) {
    transcript.push({ direction: "inbound", kind: "inbound", body: inboundBody, created_at: now.toISOString() });
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
  const vars = {
    firstName: firstName(context.lead.name),
    business: context.business.name,
    acknowledged: x.filledByLast.length > 0,
  };
  const close = (reason: ClosingReason): TurnDecision => ({
    slots,
    locale,
    outbound: { body: t.closing[reason](vars), kind: "closing" },
    complete: true,
    completionReason: reason,
  });

  const intent: Intent | null = detectIntent(inboundBody);
  if (intent) return close(intent);

  const missing = missingSlots(slots);
  if (missing.length === 0) return close("slots_filled");
  // A slot the lead was already asked about and did not answer is not asked again.
  const askable = missing.filter((s) => !x.asked.has(s));
  if (askable.length === 0 || context.question_count >= context.max_questions) return close("max_questions");
  return {
    slots,
    locale,
    outbound: { body: t.question[askable[0]](vars), kind: "question" },
    complete: false,
    completionReason: null,
  };
}
