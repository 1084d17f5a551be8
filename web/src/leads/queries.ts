import { queryOptions } from "@tanstack/react-query";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import type { Conversation, Lead, LeadListRow, Message } from "../lib/types.ts";

/** Leads per page of the list (the URL's ?page=). */
export const LEAD_PAGE_SIZE = 50;

export interface LeadPage {
  leads: LeadListRow[];
  /** Whether an older page exists. */
  hasOlder: boolean;
}

export const leadKeys = {
  all: ["leads"] as const,
  lists: () => ["leads", "list"] as const,
  list: (businessId: string) => ["leads", "list", businessId] as const,
  listPage: (businessId: string, page: number) => ["leads", "list", businessId, page] as const,
  details: () => ["leads", "detail"] as const,
  detail: (leadId: string) => ["leads", "detail", leadId] as const,
  conversation: (leadId: string) => ["leads", "detail", leadId, "conversation"] as const,
  messages: (leadId: string) => ["leads", "detail", leadId, "messages"] as const,
};

const LIST_COLUMNS =
  "id, name, phone, email, message, created_at, is_duplicate, followup_status, not_texted_reason, owner_alert_status, phone_status, " +
  "conversation:conversations(id, status, completion_reason, question_count, last_inbound_at)";

/** conversations.lead_id is unique so the embed is an object, but tolerate an array. */
function oneOrNull<T>(value: T | T[] | null | undefined): T | null {
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

export const leadQueries = {
  /** One page of the business's leads, newest first; invalidating leadKeys.list(businessId) refreshes every page. */
  list: (db: Db, businessId: string, page = 1) =>
    queryOptions({
      queryKey: leadKeys.listPage(businessId, page),
      queryFn: async (): Promise<LeadPage> => {
        const from = (page - 1) * LEAD_PAGE_SIZE;
        // One row more than a page says whether there is an older page, without counting them all.
        const { data, error } = await db
          .from("leads")
          .select(LIST_COLUMNS)
          .eq("business_id", businessId)
          .order("created_at", { ascending: false })
          .order("id", { ascending: false })
          .range(from, from + LEAD_PAGE_SIZE);
        if (error) throw toError(error, "loading leads");
        const rows = (data as unknown as (LeadListRow & { conversation: unknown })[]).map((row) => ({
          ...row,
          conversation: oneOrNull(row.conversation as LeadListRow["conversation"] | LeadListRow["conversation"][]),
        }));
        return { leads: rows.slice(0, LEAD_PAGE_SIZE), hasOlder: rows.length > LEAD_PAGE_SIZE };
      },
    }),

  detail: (db: Db, leadId: string) =>
    queryOptions({
      queryKey: leadKeys.detail(leadId),
      queryFn: async (): Promise<Lead | null> => {
        const { data, error } = await db.from("leads").select("*").eq("id", leadId).maybeSingle();
        if (error) throw toError(error, "loading the lead");
        return data as Lead | null;
      },
    }),

  conversation: (db: Db, leadId: string) =>
    queryOptions({
      queryKey: leadKeys.conversation(leadId),
      queryFn: async (): Promise<Conversation | null> => {
        const { data, error } = await db.from("conversations").select("*").eq("lead_id", leadId).maybeSingle();
        if (error) throw toError(error, "loading the conversation");
        return data as Conversation | null;
      },
    }),

  /** Every SMS about this lead: the owner alert, the follow-up thread and the owner summary. */
  messages: (db: Db, leadId: string, conversationId: string | null) =>
    queryOptions({
      queryKey: [...leadKeys.messages(leadId), conversationId] as const,
      queryFn: async (): Promise<Message[]> => {
        let query = db
          .from("messages")
          .select("id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status, status_reason, error_code, error_message, send_after, sent_at, delivered_at, created_at, sent_by_name");
        query = conversationId
          ? query.or(`lead_id.eq.${leadId},conversation_id.eq.${conversationId}`)
          : query.eq("lead_id", leadId);
        const { data, error } = await query.order("created_at", { ascending: true }).limit(500);
        if (error) throw toError(error, "loading messages");
        return data as Message[];
      },
    }),
};
