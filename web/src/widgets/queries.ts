// Widgets of a business: read by every member (RLS), created and changed by owners. The database checks
// origins and the consent texts when they are saved; its refusal is shown as it names the problems.
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import type { Tables, TablesUpdate } from "../../../functions/_shared/database.types.ts";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import type { Locale } from "./model.ts";

export type Widget = Pick<Tables<"widgets">, "id" | "business_id" | "name" | "allowed_origins" | "consent_text" | "active" | "created_at"> & {
  consent_texts: Partial<Record<Locale, string>>;
};

const WIDGET_COLUMNS = "id, business_id, name, allowed_origins, consent_text, consent_texts, active, created_at";

export const widgetKeys = {
  all: ["widgets"] as const,
  list: (businessId: string) => ["widgets", "list", businessId] as const,
};

export const widgetQueries = {
  list: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: widgetKeys.list(businessId),
      queryFn: async (): Promise<Widget[]> => {
        const { data, error } = await db.from("widgets").select(WIDGET_COLUMNS).eq("business_id", businessId).order("created_at");
        if (error) throw toError(error, "loading your widgets");
        return (data ?? []) as Widget[];
      },
    }),
};

export interface WidgetInput {
  name: string;
  allowed_origins: string[];
  consent_texts: Record<Locale, string>;
}

/** The English text is also the default (consent_text) a form in any other language falls back to. */
function row(input: WidgetInput) {
  return { name: input.name, allowed_origins: input.allowed_origins, consent_text: input.consent_texts.en, consent_texts: input.consent_texts };
}

export function useCreateWidget(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (input: WidgetInput): Promise<Widget> => {
      const { data, error } = await db.from("widgets").insert({ business_id: businessId, ...row(input) }).select(WIDGET_COLUMNS).single();
      if (error) throw toError(error, "saving the widget");
      return data as Widget;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: widgetKeys.list(businessId) }),
  });
}

export function useUpdateWidget(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, changes }: { id: string; changes: Partial<WidgetInput> & { active?: boolean } }): Promise<void> => {
      const update: TablesUpdate<"widgets"> = changes.consent_texts ? { ...changes, consent_text: changes.consent_texts.en } : { ...changes };
      const { error, count } = await db.from("widgets").update(update, { count: "exact" }).eq("id", id);
      if (error) throw toError(error, "saving the widget");
      if (count === 0) throw new Error("saving the widget: only the business owner can change widgets");
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: widgetKeys.list(businessId) }),
  });
}
