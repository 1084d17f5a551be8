// The shapes the database hands the functions, validated once at the boundary and shared by the
// conversation engine, the RPC client and the summarizer. Where a shape mirrors a table, its fields
// are checked against the generated Row type (`satisfies Columns<...>`): a renamed or retyped column
// fails `deno check` here instead of at run time.
import { z } from "zod";
import type { Tables } from "./database.types.ts";
import { isValidTimeZone } from "./timezone.ts";

/**
 * Zod fields for some columns of a table: only names the table has, each accepting what fits the
 * column (null or absent allowed, for callers such as the summarizer CLI that may leave it out).
 */
type Columns<Row> = { [K in keyof Row]?: z.ZodType<Row[K] | null | undefined, z.ZodTypeDef, unknown> };

export const localeSchema = z.enum(["en", "es"]);
export type Locale = z.infer<typeof localeSchema>;

/** What a text may ask for (messages.asks): the three slots the engine asks about, and constraints. */
export const askSchema = z.enum(["need", "timing", "location", "constraints"]);

const nullableText = z.string().nullish().transform((v) => (v && v.trim() ? v.trim() : null));

/** conversations.slots: what the engine has learnt so far. */
export const slotsSchema = z
  .object({
    need: nullableText,
    timing: nullableText,
    location: nullableText,
    constraints: z.array(z.string()).nullish().transform((c) => c ?? []),
  })
  .nullish()
  .transform((s) => s ?? { need: null, timing: null, location: null, constraints: [] });

/** One text of a conversation's thread (private.transcript), oldest first. */
export const transcriptMessageSchema = z.object({
  direction: z.string(),
  kind: z.string().nullish(),
  body: z.string().nullish().transform((b) => b ?? ""),
  asks: z.array(askSchema).nullish().transform((a) => a ?? []),
  created_at: z.string().nullish(),
} satisfies Columns<Tables<"messages">>);
export type TranscriptEntry = z.output<typeof transcriptMessageSchema>;

/** What the engine and the summarizer know of a lead (private.lead_json). */
export const leadSchema = z.object({
  name: z.string().nullish(),
  phone: z.string().min(1, "lead.phone is required"),
  email: z.string().nullish(),
  message: z.string().nullish(),
  source_url: z.string().nullish(),
  created_at: z.string().nullish(),
} satisfies Columns<Tables<"leads">>);

export const timezoneSchema = z.string().refine(isValidTimeZone, "timezone must be an IANA zone such as America/Chicago");

/** get_conversation_context, and the `context` of process_inbound_sms. */
export const conversationContextSchema = z.object({
  conversation_id: z.string().uuid(),
  ...({
    version: z.number().int(),
    status: z.string(),
    turn_count: z.number().int().nonnegative().default(0),
    question_count: z.number().int().nonnegative(),
  } satisfies Columns<Tables<"conversations">>),
  max_questions: z.number().int().nonnegative(),
  /** The language of the lead's latest text: the database renders the next text in it. */
  locale: localeSchema,
  slots: slotsSchema,
  lead: leadSchema,
  business: z.object({
    name: z.string(),
    timezone: timezoneSchema,
    default_locale: localeSchema.nullish(),
  } satisfies Columns<Tables<"businesses">>),
  transcript: z.array(transcriptMessageSchema).default([]),
});
export type ConversationContext = z.output<typeof conversationContextSchema>;

/** A row of claim_outbound_messages: a leased text for sms-dispatch to send. */
export const claimedMessageSchema = z.object({
  id: z.string().uuid(),
  business_id: z.string().uuid(),
  lead_id: z.string().uuid().nullable(),
  conversation_id: z.string().uuid().nullable(),
  kind: z.string(),
  to_phone: z.string(),
  from_phone: z.string(),
  body: z.string(),
  attempts: z.number().int(),
  /** An earlier attempt whose outcome is unknown began then: look for it in Twilio before sending again. */
  unknown_attempt_at: z.string().nullish().transform((v) => v ?? null),
} satisfies Columns<Tables<"messages">>);
export type ClaimedMessage = z.output<typeof claimedMessageSchema>;

/** A row of claim_due_summaries: a leased conversation for summarize, with its whole thread. */
export const claimedSummarySchema = z.object({
  conversation_id: z.string().uuid(),
  locale: localeSchema.nullish(),
  now: z.string(),
  slots: slotsSchema,
  completion_reason: z.string().nullish(),
  business: z.object({
    name: z.string(),
    timezone: timezoneSchema,
    owner_phone: z.string().nullish(),
    /** The owner's language (labels of the owner text). */
    default_locale: localeSchema.nullish(),
  } satisfies Columns<Tables<"businesses">>),
  lead: leadSchema,
  messages: z.array(transcriptMessageSchema),
});
export type ClaimedSummary = z.output<typeof claimedSummarySchema>;
