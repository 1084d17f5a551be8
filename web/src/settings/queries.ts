import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { businessKeys } from "../businesses/queries.ts";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import type { Tables } from "../../../functions/_shared/database.types.ts";
import type { BusinessUpdate } from "./business.ts";
import type { SettingsUpdate } from "./validation.ts";
import { templatePreviewSchema, templateRowSchema, type TemplateDraft, type TemplatePreview, type TemplateRow } from "./templates.ts";

export type DoNotTextEntry = Pick<Tables<"opt_outs">, "phone" | "source" | "matched_rule" | "created_at">;
export type DoNotTextEvent = Pick<Tables<"do_not_text_events">, "id" | "phone" | "action" | "source" | "reason" | "actor_email" | "created_at">;

export const settingsKeys = {
  regions: ["settings", "regions"] as const,
  templates: (businessId: string) => ["settings", "templates", businessId] as const,
  preview: (businessId: string, draft: TemplateDraft) => ["settings", "templates", businessId, "preview", draft] as const,
  doNotText: (businessId: string) => ["settings", "do-not-text", businessId] as const,
};

export const settingsQueries = {
  /** The +1 countries the pumping guard knows (texting_regions). */
  regions: (db: Db) =>
    queryOptions({
      queryKey: settingsKeys.regions,
      staleTime: Infinity,
      queryFn: async (): Promise<string[]> => {
        const { data, error } = await db.rpc("texting_regions");
        if (error) throw toError(error, "loading countries");
        return (data ?? []) as string[];
      },
    }),
  templates: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: settingsKeys.templates(businessId),
      queryFn: async (): Promise<TemplateRow[]> => {
        const { data, error } = await db.rpc("sms_template_list", { p_business_id: businessId });
        if (error) throw toError(error, "loading your texts");
        return templateRowSchema.array().parse(data ?? []);
      },
    }),
  /** The draft rendered by the database exactly as it would be sent, with sample lead data. */
  preview: (db: Db, businessId: string, draft: TemplateDraft) =>
    queryOptions({
      queryKey: settingsKeys.preview(businessId, draft),
      staleTime: Infinity,
      queryFn: async (): Promise<TemplatePreview> => {
        const { data, error } = await db.rpc("preview_sms_template", {
          p_business_id: businessId, p_key: draft.key, p_locale: draft.locale, p_body: draft.body,
          p_body_without_name: draft.bodyWithoutName || undefined,
        });
        if (error) throw toError(error, "previewing");
        return templatePreviewSchema.parse(data);
      },
    }),
  doNotText: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: settingsKeys.doNotText(businessId),
      queryFn: async (): Promise<{ entries: DoNotTextEntry[]; events: DoNotTextEvent[] }> => {
        const [entries, events] = await Promise.all([
          db.from("opt_outs").select("phone, source, matched_rule, created_at").eq("business_id", businessId)
            .order("created_at", { ascending: false }).limit(500),
          db.from("do_not_text_events").select("id, phone, action, source, reason, actor_email, created_at").eq("business_id", businessId)
            .order("id", { ascending: false }).limit(50),
        ]);
        if (entries.error) throw toError(entries.error, "loading the do-not-text list");
        if (events.error) throw toError(events.error, "loading the do-not-text history");
        return { entries: entries.data ?? [], events: events.data ?? [] };
      },
    }),
};

/** Saves changed business columns; RLS lets only owners update, so 0 rows changed means refused. */
function useUpdateBusiness(businessId: string, what: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    // The row count (not a read-back) tells a refused update from a saved one; the refetch
    // through the invalidated key then shows what the database stored.
    mutationFn: async (changes: Partial<SettingsUpdate & BusinessUpdate>): Promise<void> => {
      const { error, count } = await db
        .from("businesses")
        .update(changes, { count: "exact" })
        .eq("id", businessId);
      if (error) throw toError(error, `saving ${what}`);
      if (count === 0) throw new Error(`saving ${what}: only the business owner can change these settings`);
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: businessKeys.all }),
  });
}

export const useUpdateBusinessSettings = (businessId: string) => useUpdateBusiness(businessId, "settings");
export const useUpdateBusinessDetails = (businessId: string) => useUpdateBusiness(businessId, "business details");

export function useSaveTemplate(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (draft: TemplateDraft): Promise<void> => {
      const { error } = await db.rpc("set_sms_template", {
        p_business_id: businessId, p_key: draft.key, p_locale: draft.locale, p_body: draft.body,
        p_body_without_name: draft.bodyWithoutName || undefined,
      });
      if (error) throw toError(error, "saving the text");
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.templates(businessId) }),
  });
}

export function useResetTemplate(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ key, locale }: { key: string; locale: string }): Promise<void> => {
      const { error } = await db.rpc("reset_sms_template", { p_business_id: businessId, p_key: key, p_locale: locale });
      if (error) throw toError(error, "going back to leadloop's wording");
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.templates(businessId) }),
  });
}

/** True when added, false when the number was already on the list. */
export function useAddDoNotText(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ phone, reason }: { phone: string; reason: string }): Promise<boolean> => {
      const { data, error } = await db.rpc("add_do_not_text", { p_business_id: businessId, p_phone: phone, p_reason: reason });
      if (error) throw toError(error, "adding the number");
      return data === true;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.doNotText(businessId) }),
  });
}

export function useRemoveDoNotText(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ phone, reason }: { phone: string; reason: string }): Promise<void> => {
      const { error } = await db.rpc("remove_do_not_text", { p_business_id: businessId, p_phone: phone, p_reason: reason });
      if (error) throw toError(error, "removing the number");
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.doNotText(businessId) }),
  });
}
