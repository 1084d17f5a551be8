// The lead page's own reads and writes: the pipeline (status, assignee, notes) under RLS, its history,
// the team, and the takeover (owner replies, pausing and resuming the bot). Keys sit under
// leadKeys.detail(leadId), so the realtime hook's invalidation of a changed lead refreshes them too.
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import type { Tables } from "../../../functions/_shared/database.types.ts";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import type { LeadStatus } from "../lib/types.ts";
import { leadKeys } from "./queries.ts";

export type LeadEvent = Pick<Tables<"lead_events">, "id" | "actor_name" | "via" | "field" | "from_value" | "to_value" | "created_at">;
export interface TeamMember { user_id: string; role: string; name: string | null }
export interface ReplyWindow {
  can_send: boolean;
  /** Why the lead cannot be texted (opted_out, no_sending_number, invalid_phone, premium_rate, ...). */
  refusal: string | null;
  send_at: string | null;
  deferred: boolean;
  /** Why a deferred reply waits: quiet_hours (the lead's local time) or state_limit (FL/OK/MD texts per 24 h). */
  wait_reason: "quiet_hours" | "state_limit" | null;
  /** The lead's time zone. */
  timezone: string;
}
export interface PipelineChange { status?: LeadStatus; assigned_to?: string | null; notes?: string | null }

export const leadDetailKeys = {
  history: (leadId: string) => [...leadKeys.detail(leadId), "history"] as const,
  replyWindow: (leadId: string) => [...leadKeys.detail(leadId), "reply-window"] as const,
  team: (businessId: string) => ["team", businessId] as const,
};

export const leadDetailQueries = {
  history: (db: Db, leadId: string) =>
    queryOptions({
      queryKey: leadDetailKeys.history(leadId),
      queryFn: async (): Promise<LeadEvent[]> => {
        const { data, error } = await db
          .from("lead_events")
          .select("id, actor_name, via, field, from_value, to_value, created_at")
          .eq("lead_id", leadId)
          .order("id", { ascending: false })
          .limit(200);
        if (error) throw toError(error, "loading the history");
        return data;
      },
    }),

  team: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: leadDetailKeys.team(businessId),
      queryFn: async (): Promise<TeamMember[]> => {
        const { data, error } = await db.rpc("business_team", { p_business_id: businessId });
        if (error) throw toError(error, "loading the team");
        return data as TeamMember[];
      },
      staleTime: 60_000,
    }),

  replyWindow: (db: Db, leadId: string) =>
    queryOptions({
      queryKey: leadDetailKeys.replyWindow(leadId),
      queryFn: async (): Promise<ReplyWindow> => {
        const { data, error } = await db.rpc("owner_reply_window", { p_lead_id: leadId });
        if (error) throw toError(error, "checking when a reply can go");
        return data as unknown as ReplyWindow;
      },
      // Quiet hours start and end while the page is open.
      refetchInterval: 60_000,
    }),
};

/** Saves status, assignee or notes; RLS refuses other leads, so 0 rows changed means refused. */
export function useUpdatePipeline(leadId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (change: PipelineChange): Promise<void> => {
      const { error, count } = await db.from("leads").update(change, { count: "exact" }).eq("id", leadId);
      if (error) throw toError(error, "saving the lead");
      if (count === 0) throw new Error("saving the lead: this lead is not in your business");
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: leadKeys.detail(leadId) }),
  });
}

/** A PostgREST error from send_owner_reply, with the reason the database gave (its hint). */
function replyError(error: { message: string; code?: string; hint?: string | null }): Error {
  if (error.code === "55000") return new Error(`This lead cannot be texted: ${REFUSALS[error.hint ?? ""] ?? error.hint ?? error.message}.`);
  return toError(error, "sending the reply");
}

export const REFUSALS: Record<string, string> = {
  opted_out: "they opted out (STOP) or are on your do-not-text list",
  no_sending_number: "your business has no texting number yet",
  invalid_phone: "the number is not a valid mobile number",
  no_consent: "they did not agree to texts on the form and have not texted you",
  premium_rate: "the number is a premium-rate number",
  non_geographic: "the number is toll-free or non-geographic",
  fictional_number: "the number is a fictional 555 number",
  country_not_allowed: "your settings do not allow texting that country",
};

export function useSendOwnerReply(leadId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (body: string): Promise<string> => {
      const { data, error } = await db.rpc("send_owner_reply", { p_lead_id: leadId, p_body: body });
      if (error) throw replyError(error);
      return data;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: leadKeys.detail(leadId) }),
  });
}

export function useResumeBot(leadId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (): Promise<boolean> => {
      const { data, error } = await db.rpc("resume_bot", { p_lead_id: leadId });
      if (error) throw toError(error, "handing the conversation back");
      return data;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: leadKeys.detail(leadId) }),
  });
}
