// The database RPCs the functions call (supabase/migrations: delivery, conversation_turns, inbound,
// summaries), behind an interface so handlers are tested with a fake. Names and arguments are checked
// against the generated Database type; every result is validated at the boundary.
import { createClient } from "@supabase/supabase-js";
import { z } from "zod";
import { type ClaimedMessage, claimedMessageSchema, type ConversationContext, conversationContextSchema } from "./contracts.ts";
import type { Database } from "./database.types.ts";
import type { SlotName } from "./extract.ts";
import { RpcError, zodMessage } from "./http.ts";
import type { SupabaseEnv } from "./env.ts";

export const inboundOutcomeSchema = z.enum([
  "duplicate",
  "unknown_number",
  "opted_out",
  "opted_in",
  "help",
  "wrong_number",
  "not_interested",
  "ambiguous",
  "reply",
  "no_conversation",
]);

/** receive_inbound_sms: stored is false for a MessageSid seen before; processed tells whether it was applied. */
export const receivedInboundSchema = z.object({ stored: z.boolean(), processed: z.boolean() });

export const inboundResultSchema = z.object({
  outcome: inboundOutcomeSchema,
  message_id: z.string().uuid().nullish(),
  business_id: z.string().uuid().nullish(),
  conversation_id: z.string().uuid().nullish(),
  matched_rule: z.string().nullish(),
  context: conversationContextSchema.nullish(),
});
export type InboundResult = z.infer<typeof inboundResultSchema>;

export const applyTurnResultSchema = z.object({
  applied: z.boolean(),
  version: z.number().int().nullable(),
  message_id: z.string().uuid().nullish(),
});
// deferred: the SID is not recorded yet (the callback beat mark_message_sent); the database keeps
// the status and applies it when sms-dispatch records the SID.
export const messageStatusResultSchema = z.object({
  found: z.boolean(),
  status: z.string().nullable(),
  deferred: z.boolean().optional().default(false),
});

export interface TurnArgs {
  conversationId: string;
  expectedVersion: number;
  slots: { need: string | null; timing: string | null; location: string | null; constraints: string[] };
  /** The slot the next question asks for (the database words it), or null. */
  ask: SlotName | null;
  acknowledge: boolean;
  complete: boolean;
  completionReason: string | null;
}

export interface InboundSms {
  messageSid: string;
  from: string;
  to: string;
  body: string;
  optOutType: string | null;
}

export interface LeadloopRpc {
  claimOutboundMessages(batchSize: number, leaseSeconds: number): Promise<ClaimedMessage[]>;
  markMessageSent(messageId: string, twilioSid: string): Promise<boolean>;
  /** outcomeUnknown: the request may have reached Twilio; the next attempt looks for it first. */
  markMessageFailed(messageId: string, code: string, message: string, retryable: boolean, outcomeUnknown?: boolean): Promise<string>;
  /** When a queued text is next due or a lease in flight expires (null: nothing waits). */
  nextOutboxDueAt(): Promise<Date | null>;
  /** Stores an inbound SMS raw, once per MessageSid (step one: nothing else can fail with it). */
  receiveInboundSms(sms: InboundSms): Promise<z.infer<typeof receivedInboundSchema>>;
  /** Applies a received SMS once (step two); a repeat answers duplicate. */
  processInboundSms(messageSid: string): Promise<InboundResult>;
  getConversationContext(conversationId: string): Promise<ConversationContext | null>;
  applyConversationTurn(args: TurnArgs): Promise<{ applied: boolean; version: number | null }>;
  recordMessageStatus(
    twilioSid: string,
    status: string,
    errorCode: string | null,
  ): Promise<{ found: boolean; status: string | null; deferred: boolean }>;
  /** Rows are validated one by one by the caller (claimedSummarySchema), so one bad row hides no other. */
  claimDueSummaries(batchSize: number, leaseSeconds: number): Promise<unknown[]>;
  completeConversationSummary(conversationId: string, summary: unknown, ownerLines: string[]): Promise<{ queued: boolean }>;
}

type Functions = Database["public"]["Functions"];
/** Calls one RPC with the arguments the generated type says it takes. */
export type RawRpc = <N extends keyof Functions>(name: N, args: Functions[N]["Args"]) => Promise<unknown>;

function parse<S extends z.ZodTypeAny>(rpc: string, schema: S, data: unknown): z.output<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw new RpcError(rpc, `unexpected result: ${zodMessage(r.error)}`);
  return r.data;
}

/** Builds the typed client on any "call this RPC" function (supabase-js in production, a fake in tests). */
export function typedRpc(call: RawRpc): LeadloopRpc {
  return {
    async claimOutboundMessages(batchSize, leaseSeconds) {
      const data = await call("claim_outbound_messages", { p_batch_size: batchSize, p_lease_seconds: leaseSeconds });
      return parse("claim_outbound_messages", z.array(claimedMessageSchema), data ?? []);
    },
    async markMessageSent(messageId, twilioSid) {
      return parse(
        "mark_message_sent",
        z.boolean(),
        await call("mark_message_sent", { p_message_id: messageId, p_twilio_sid: twilioSid }),
      );
    },
    async markMessageFailed(messageId, code, message, retryable, outcomeUnknown = false) {
      const data = await call("mark_message_failed", {
        p_message_id: messageId,
        p_error_code: code,
        p_error_message: message,
        p_retryable: retryable,
        p_outcome_unknown: outcomeUnknown,
      });
      return parse("mark_message_failed", z.string(), data);
    },
    async nextOutboxDueAt() {
      const data = await call("next_outbox_due_at", {});
      const at = parse("next_outbox_due_at", z.string().nullable(), data ?? null);
      return at === null ? null : new Date(at);
    },
    async receiveInboundSms(a) {
      const data = await call("receive_inbound_sms", {
        p_message_sid: a.messageSid,
        p_from: a.from,
        p_to: a.to,
        p_body: a.body,
        ...(a.optOutType === null ? {} : { p_opt_out_type: a.optOutType }),
      });
      return parse("receive_inbound_sms", receivedInboundSchema, data);
    },
    async processInboundSms(messageSid) {
      const data = await call("process_inbound_sms", { p_message_sid: messageSid });
      return parse("process_inbound_sms", inboundResultSchema, data);
    },
    async getConversationContext(conversationId) {
      const data = await call("get_conversation_context", { p_conversation_id: conversationId });
      return parse("get_conversation_context", conversationContextSchema.nullable(), data ?? null);
    },
    async applyConversationTurn(a) {
      const data = await call("apply_conversation_turn", {
        p_conversation_id: a.conversationId,
        p_expected_version: a.expectedVersion,
        p_slots: a.slots,
        p_asks: a.ask ? [a.ask] : [],
        p_acknowledge: a.acknowledge,
        p_complete: a.complete,
        ...(a.completionReason === null ? {} : { p_completion_reason: a.completionReason }),
      });
      return parse("apply_conversation_turn", applyTurnResultSchema, data);
    },
    async recordMessageStatus(twilioSid, status, errorCode) {
      const data = await call("record_message_status", {
        p_twilio_sid: twilioSid,
        p_status: status,
        ...(errorCode === null ? {} : { p_error_code: errorCode }),
      });
      return parse("record_message_status", messageStatusResultSchema, data);
    },
    async claimDueSummaries(batchSize, leaseSeconds) {
      const data = await call("claim_due_summaries", { p_batch_size: batchSize, p_lease_seconds: leaseSeconds });
      return parse("claim_due_summaries", z.array(z.unknown()), data ?? []);
    },
    async completeConversationSummary(conversationId, summary, ownerLines) {
      const data = await call("complete_conversation_summary", {
        p_conversation_id: conversationId,
        p_summary: summary as Functions["complete_conversation_summary"]["Args"]["p_summary"],
        p_owner_lines: ownerLines,
      });
      return parse("complete_conversation_summary", z.object({ queued: z.boolean() }), data);
    },
  };
}

export function supabaseRpc(env: SupabaseEnv): LeadloopRpc {
  const db = createClient<Database>(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  return typedRpc(async (name, args) => {
    const { data, error } = await db.rpc(name, args);
    if (error) throw new RpcError(name, `${error.code ?? ""} ${error.message}`.trim());
    return data;
  });
}
