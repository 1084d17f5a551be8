// The owner summary: what the lead needs, when, where, constraints, what is missing, and
// an SMS of at most two segments with one-tap call/text links. The built-in extractor is
// the default; an OpenAI-compatible LLM can be configured, and any LLM failure falls back
// to the built-in result so a summary is never lost.
import { z } from "zod";
import { extractConversation, type ExtractedSlots, missingSlots, type SlotName } from "./extract.ts";
import { leadSchema, slotsSchema, timezoneSchema, transcriptMessageSchema } from "./contracts.ts";
import { type Locale, toLocale } from "./language.ts";
import { resolveTimingWords } from "./timing.ts";
import { segmentInfo, toGsmWhenPossible } from "./sms-segments.ts";

/** Input of the summarizer (and of its CLI): a claimed summary's lead, thread and settings. */
export const summaryInputSchema = z.object({
  lead: leadSchema,
  messages: z.array(transcriptMessageSchema).default([]),
  locale: z.string().nullish(),
  timezone: timezoneSchema,
  now: z.string().datetime({ offset: true, message: "now must be an ISO date-time" }).nullish(),
  /** Slots the conversation engine already stored (optional hints). */
  slots: slotsSchema,
  completion_reason: z.string().nullish(),
});
export type SummaryInput = z.input<typeof summaryInputSchema>;
type ParsedInput = z.output<typeof summaryInputSchema>;

export const summarySchema = z.object({
  need: z.string().nullable(),
  timing: z.string().nullable(),
  timing_start: z.string().nullable(),
  location: z.string().nullable(),
  constraints: z.array(z.string()),
  missing: z.array(z.enum(["need", "timing", "location"])),
  /** The owner text as shown (its lines joined). */
  text: z.string(),
  /** The owner text's lines: the database makes each one line of the SMS, so lead words cannot add a line. */
  lines: z.array(z.string()),
});
export type Summary = z.infer<typeof summarySchema>;

export interface LlmConfig {
  url: string;
  model: string;
  apiKey?: string | null;
  timeoutMs: number;
}

export interface SummarizeOptions {
  llm?: LlmConfig | null;
  fetch?: typeof fetch;
}

export interface SummarizeResult {
  summary: Summary;
  source: "llm" | "builtin";
  /** Why the LLM result was not used, when an LLM was configured. */
  fallbackReason: string | null;
}

// ---------- owner text ----------

const labels: Record<Locale, Record<string, string>> = {
  en: {
    title: "Lead summary",
    need: "Need",
    timing: "When",
    location: "Where",
    notes: "Notes",
    missing: "Missing",
    call: "Call",
    text: "Text",
    slot_need: "need",
    slot_timing: "timing",
    slot_location: "location",
    call_requested: "Wants a call back",
    not_interested: "Said not interested",
    wrong_number: "Says wrong number",
    no_reply_yet: "No reply yet — from the form:",
  },
  es: {
    title: "Resumen de cliente",
    need: "Necesita",
    timing: "Cuando",
    location: "Donde",
    notes: "Notas",
    missing: "Falta",
    call: "Llamar",
    text: "Mensaje",
    slot_need: "servicio",
    slot_timing: "fecha",
    slot_location: "lugar",
    call_requested: "Pide que lo llamen",
    not_interested: "Dice que ya no le interesa",
    wrong_number: "Dice que es numero equivocado",
    no_reply_yet: "Sin respuesta aún — del formulario:",
  },
};

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return "";
  const cut = text.slice(0, max - 1);
  const at = cut.lastIndexOf(" ");
  return (at > max * 0.5 ? cut.slice(0, at) : cut).replace(/[\s,;:.-]+$/, "") + "…";
}

const maxSegments = 2;

/** The owner text's lines, shortened until the text fits two SMS segments. */
export function composeOwnerLines(
  slots: Omit<Summary, "text" | "lines">,
  lead: { name?: string | null; phone: string },
  locale: Locale,
  completionReason?: string | null,
  /** False when the lead has not texted back: what follows comes from the form alone, and says so. */
  replied = true,
): string[] {
  const l = labels[locale];
  const build = (cap: number) => {
    const limit = (n: number) => Math.max(8, Math.floor(n * cap));
    const lines: string[] = [];
    const who = clip((lead.name ?? "").trim(), limit(30));
    lines.push(who ? `${l.title}: ${who}` : l.title);
    if (!replied) lines.push(l.no_reply_yet);
    else if (completionReason && l[completionReason]) lines.push(l[completionReason]);
    if (slots.need) lines.push(`${l.need}: ${clip(slots.need, limit(90))}`);
    if (slots.timing) lines.push(`${l.timing}: ${clip(slots.timing, limit(40))}`);
    if (slots.location) lines.push(`${l.location}: ${clip(slots.location, limit(60))}`);
    if (slots.constraints.length && cap > 0.35) lines.push(`${l.notes}: ${clip(slots.constraints.join("; "), limit(80))}`);
    if (slots.missing.length) lines.push(`${l.missing}: ${slots.missing.map((s) => l[`slot_${s}`]).join(", ")}`);
    lines.push(`${l.call} tel:${lead.phone}`);
    lines.push(`${l.text} sms:${lead.phone}`);
    // "…" is not GSM-7; three dots keep a clipped English text in the cheaper encoding.
    return lines.map((line) => toGsmWhenPossible(line.replace(/…/g, "...")));
  };
  let cap = 1;
  let lines = build(cap);
  while (segmentInfo(lines.join("\n")).segments > maxSegments && cap > 0.1) {
    cap -= 0.1;
    lines = build(cap);
  }
  return lines;
}

// ---------- built-in ----------

function builtinSlots(input: ParsedInput, now: Date): ExtractedSlots {
  const { slots } = extractConversation({
    lead: input.lead,
    messages: input.messages,
    now,
    timeZone: input.timezone,
    known: input.slots,
  });
  return slots;
}

// ---------- LLM ----------

const llmSlotsSchema = z.object({
  need: z.string().nullish(),
  timing: z.string().nullish(),
  timing_start: z.string().nullish(),
  location: z.string().nullish(),
  constraints: z.array(z.string()).nullish(),
});

const chatCompletionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string() }) })).min(1),
});

export class LlmError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = "LlmError";
  }
}

const systemPrompt = [
  "You extract facts from a small-business lead: a web form message and an SMS conversation.",
  "Reply with one JSON object only, keys: need (what work or service the lead wants, short),",
  "timing (when they want it, in their own words), timing_start (ISO 8601 date-time with offset",
  "for the start of that window, resolved in the given time zone from `now`; null if unknown),",
  "location (street address, ZIP/postcode or city), constraints (array of short strings: pets,",
  "access codes, availability limits, budget, insurance...). Use null for anything not stated.",
  "Never invent facts.",
].join(" ");

function blankToNull(s: string | null | undefined): string | null {
  const t = (s ?? "").trim();
  return t && !/^(?:null|none|unknown|n\/a)$/i.test(t) ? t : null;
}

async function llmSlots(input: ParsedInput, now: Date, cfg: LlmConfig, fetchFn: typeof fetch): Promise<ExtractedSlots> {
  const url = cfg.url.replace(/\/+$/, "") + "/chat/completions";
  const userContent = JSON.stringify({
    now: now.toISOString(),
    timezone: input.timezone,
    form: { name: input.lead.name ?? null, message: input.lead.message ?? null },
    transcript: input.messages.map((m) => ({ from: m.direction === "inbound" ? "lead" : "business", text: m.body })),
  });
  let res: Response;
  try {
    res = await fetchFn(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        ...(cfg.apiKey ? { Authorization: `Bearer ${cfg.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: cfg.model,
        temperature: 0,
        response_format: { type: "json_object" },
        messages: [
          { role: "system", content: systemPrompt },
          { role: "user", content: userContent },
        ],
      }),
      signal: AbortSignal.timeout(cfg.timeoutMs),
    });
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") {
      throw new LlmError("timeout", `LLM did not answer within ${cfg.timeoutMs} ms`);
    }
    throw new LlmError("network", `LLM request failed: ${(err as Error)?.message ?? err}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new LlmError("http", `LLM answered HTTP ${res.status}`);
  }
  let content: string;
  try {
    content = chatCompletionSchema.parse(await res.json()).choices[0].message.content;
  } catch {
    throw new LlmError("invalid_response", "LLM response is not a chat completion");
  }
  let parsed: z.infer<typeof llmSlotsSchema>;
  try {
    // Some models wrap JSON in a code fence even when asked not to.
    const json = content.trim().replace(/^```(?:json)?\s*|\s*```$/g, "");
    parsed = llmSlotsSchema.parse(JSON.parse(json));
  } catch {
    throw new LlmError("invalid_json", "LLM content is not the expected JSON object");
  }
  const timing = blankToNull(parsed.timing);
  let timingStart = blankToNull(parsed.timing_start);
  if (timingStart && (!z.string().datetime({ offset: true }).safeParse(timingStart).success)) timingStart = null;
  if (!timingStart && timing) timingStart = resolveTimingWords(timing, now, input.timezone);
  return {
    need: blankToNull(parsed.need),
    timing,
    timing_start: timingStart ? new Date(timingStart).toISOString() : null,
    location: blankToNull(parsed.location),
    constraints: (parsed.constraints ?? []).map((c) => c.trim()).filter(Boolean).slice(0, 8),
  };
}

// ---------- entry point ----------

function finish(slots: ExtractedSlots, input: ParsedInput): Summary {
  const locale = toLocale(input.locale);
  const missing: SlotName[] = missingSlots(slots);
  const base = {
    need: slots.need,
    timing: slots.timing,
    timing_start: slots.timing_start,
    location: slots.location,
    constraints: slots.constraints,
    missing,
  };
  const replied = input.messages.some((m) => m.direction === "inbound");
  const lines = composeOwnerLines(base, { name: input.lead.name, phone: input.lead.phone }, locale, input.completion_reason, replied);
  return { ...base, text: lines.join("\n"), lines };
}

/** Throws a ZodError for malformed input; never throws because of the LLM. */
export async function summarize(rawInput: SummaryInput, options: SummarizeOptions = {}): Promise<SummarizeResult> {
  const input = summaryInputSchema.parse(rawInput);
  const now = input.now ? new Date(input.now) : new Date();
  if (options.llm?.url) {
    try {
      const slots = await llmSlots(input, now, options.llm, options.fetch ?? fetch);
      return { summary: finish(slots, input), source: "llm", fallbackReason: null };
    } catch (err) {
      const reason = err instanceof LlmError ? `${err.reason}: ${err.message}` : `error: ${(err as Error)?.message ?? err}`;
      return { summary: finish(builtinSlots(input, now), input), source: "builtin", fallbackReason: reason };
    }
  }
  return { summary: finish(builtinSlots(input, now), input), source: "builtin", fallbackReason: null };
}
