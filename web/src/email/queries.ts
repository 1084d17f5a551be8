// The signed-in member's own email choices (public.email_preferences; RLS returns and accepts only their rows).
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import type { EmailPreference } from "../lib/types.ts";

export const emailKeys = {
  all: ["email"] as const,
  preferences: (userId: string) => ["email", "preferences", userId] as const,
};

export type EmailChoice = Pick<EmailPreference, "lead_alerts" | "summaries">;

/** No row is both off, as the database decides. */
export const NO_EMAIL: EmailChoice = { lead_alerts: false, summaries: false };

export const emailQueries = {
  /** The user's choices per business they belong to, by business id. */
  preferences: (db: Db, userId: string) =>
    queryOptions({
      queryKey: emailKeys.preferences(userId),
      queryFn: async (): Promise<Record<string, EmailChoice>> => {
        const { data, error } = await db.from("email_preferences").select("business_id, lead_alerts, summaries").eq("user_id", userId);
        if (error) throw toError(error, "loading your email choices");
        return Object.fromEntries(data.map((row) => [row.business_id, { lead_alerts: row.lead_alerts, summaries: row.summaries }]));
      },
    }),
};

/** Saves one business's choices (both columns, so a second tab's stale view cannot half-apply). */
export function useSaveEmailChoice(userId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ businessId, choice }: { businessId: string; choice: EmailChoice }): Promise<void> => {
      const { error } = await db.from("email_preferences")
        .upsert({ business_id: businessId, user_id: userId, ...choice }, { onConflict: "business_id,user_id" });
      if (error) throw toError(error, "saving your email choices");
    },
    // The saved choice is shown at once: between the save and the refetch the page would otherwise show
    // the old one again for a moment (a fast save made the checkbox flip back under the click).
    onSuccess: (_nothing, { businessId, choice }) => {
      queryClient.setQueryData(emailKeys.preferences(userId), (old: Record<string, EmailChoice> | undefined) => ({ ...old, [businessId]: choice }));
      return queryClient.invalidateQueries({ queryKey: emailKeys.preferences(userId) });
    },
  });
}
