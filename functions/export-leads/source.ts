// ExportSource over PostgREST as the calling member: RLS limits every read to their businesses.
import { createClient } from "@supabase/supabase-js";
import type { Database } from "../_shared/database.types.ts";
import { RpcError } from "../_shared/http.ts";
import type { Cursor, ExportQuery, ExportSource } from "./handler.ts";
import type { ExportLead } from "./columns.ts";

const LEAD_COLUMNS = "id, created_at, name, phone, email, message, source_url, status, notes, assigned_to, followup_status, " +
  "sms_consent, consent_text, consent_at, ip, user_agent, conversation:conversations(status, completion_reason, slots, summary)";

/** A day given as 2026-12-01 starts at midnight UTC. */
const instant = (value: string) => new Date(value).toISOString();

export function memberExportSource(url: string, anonKey: string, authorization: string): ExportSource {
  const db = createClient<Database>(url, anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Authorization: authorization } },
  });
  return {
    async businessName(businessId) {
      const { data, error } = await db.from("businesses").select("name").eq("id", businessId).maybeSingle();
      if (error) throw new RpcError("businesses", error.message);
      return data?.name ?? null;
    },
    async team(businessId) {
      const { data, error } = await db.rpc("business_team", { p_business_id: businessId });
      if (error) throw new RpcError("business_team", error.message);
      return new Map((data ?? []).map((m) => [m.user_id, m.name ?? m.user_id]));
    },
    async page(query: ExportQuery, after: Cursor | null, size: number) {
      let q = db.from("leads").select(LEAD_COLUMNS).eq("business_id", query.business_id);
      if (query.from) q = q.gte("created_at", instant(query.from));
      if (query.to) q = q.lt("created_at", instant(query.to));
      if (after) q = q.or(`created_at.gt.${after.created_at},and(created_at.eq.${after.created_at},id.gt.${after.id})`);
      const { data, error } = await q.order("created_at").order("id").limit(size);
      if (error) throw new RpcError("leads", error.message);
      return (data as unknown as (ExportLead & { conversation: ExportLead["conversation"] | ExportLead["conversation"][] })[])
        .map((row) => ({ ...row, conversation: Array.isArray(row.conversation) ? row.conversation[0] ?? null : row.conversation }));
    },
  };
}
