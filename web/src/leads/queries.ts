import { queryOptions } from "@tanstack/react-query";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import type { Conversation, InboxCounts, Lead, LeadListRow, Message } from "../lib/types.ts";
import { decodeCursor, encodeCursor, type LeadsSearch, parseStatuses } from "./search.ts";

/** Leads per page of the inbox. */
export const LEAD_PAGE_SIZE = 50;

export interface LeadPage {
  leads: LeadListRow[];
  /** The page further down (older leads), when there is one. */
  older: string | null;
  /** The page further up (newer leads), when this is not the first page; null for page one. */
  newer: string | null;
}

export const leadKeys = {
  all: ["leads"] as const,
  lists: () => ["leads", "list"] as const,
  list: (businessId: string) => ["leads", "list", businessId] as const,
  listPage: (businessId: string, search: LeadsSearch) => ["leads", "list", businessId, search] as const,
  counts: (businessId: string) => ["leads", "counts", businessId] as const,
  details: () => ["leads", "detail"] as const,
  detail: (leadId: string) => ["leads", "detail", leadId] as const,
  conversation: (leadId: string) => ["leads", "detail", leadId, "conversation"] as const,
  messages: (leadId: string) => ["leads", "detail", leadId, "messages"] as const,
};

const LIST_COLUMNS =
  "id, name, phone, email, message, created_at, is_duplicate, followup_status, not_texted_reason, owner_alert_status, phone_status, " +
  "status, unread_count, last_inbound_at, " +
  "conversation:conversations(id, status, completion_reason, question_count, last_inbound_at, summary)";

/** conversations.lead_id is unique so the embed is an object, but tolerate an array. */
function oneOrNull<T>(value: T | T[] | null | undefined): T | null {
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

export const leadQueries = {
  /**
   * One keyset page of the inbox (search_leads): the newest leads matching the search, or the page
   * before or after a cursor. Invalidating leadKeys.list(businessId) refreshes every page.
   */
  list: (db: Db, businessId: string, search: LeadsSearch = {}) =>
    queryOptions({
      queryKey: leadKeys.listPage(businessId, search),
      queryFn: async (): Promise<LeadPage> => {
        const cursor = decodeCursor(search.after ?? search.before);
        const newer = Boolean(search.after && cursor);
        const statuses = parseStatuses(search.status);
        // One row more than a page says whether the next page exists, without counting them all.
        const { data, error } = await db
          .rpc("search_leads", {
            p_business_id: businessId,
            p_limit: LEAD_PAGE_SIZE + 1,
            p_newer: newer,
            ...(search.q ? { p_query: search.q } : {}),
            ...(statuses.length ? { p_statuses: statuses } : {}),
            ...(search.followup ? { p_followup: search.followup } : {}),
            ...(search.attention ? { p_attention: search.attention } : {}),
            ...(cursor ? { p_cursor_created_at: cursor.createdAt, p_cursor_id: cursor.id } : {}),
          })
          .select(LIST_COLUMNS);
        if (error) throw toError(error, "loading leads");
        const rows = (data as unknown as (LeadListRow & { conversation: unknown })[]).map((row) => ({
          ...row,
          conversation: oneOrNull(row.conversation as LeadListRow["conversation"] | LeadListRow["conversation"][]),
        }));
        const more = rows.length > LEAD_PAGE_SIZE;
        const page = rows.slice(0, LEAD_PAGE_SIZE);
        // The way up comes back oldest first: show it newest first like every page.
        if (newer) page.reverse();
        const first = page[0];
        const last = page[page.length - 1];
        return {
          leads: page,
          older: last && (newer || more) ? encodeCursor(last) : null,
          newer: first && cursor && (!newer || more) ? encodeCursor(first) : null,
        };
      },
    }),

  /** The inbox badges: unread leads and texts, leads per attention filter, open owner notifications. */
  counts: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: leadKeys.counts(businessId),
      queryFn: async (): Promise<InboxCounts> => {
        const { data, error } = await db.rpc("inbox_counts", { p_business_id: businessId });
        if (error) throw toError(error, "loading the inbox counts");
        return data as unknown as InboxCounts;
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
