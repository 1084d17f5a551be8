import { useMutation, useQueryClient } from "@tanstack/react-query";
import { businessKeys } from "../businesses/queries.ts";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import type { SettingsUpdate } from "./validation.ts";

/** Saves changed follow-up settings; RLS lets only owners update, so 0 rows changed means refused. */
export function useUpdateBusinessSettings(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    // The row count (not a read-back) tells a refused update from a saved one; the refetch
    // through the invalidated key then shows what the database stored.
    mutationFn: async (changes: Partial<SettingsUpdate>): Promise<void> => {
      const { error, count } = await db
        .from("businesses")
        .update(changes, { count: "exact" })
        .eq("id", businessId);
      if (error) throw toError(error, "saving settings");
      if (count === 0) throw new Error("saving settings: only the business owner can change these settings");
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: businessKeys.all }),
  });
}
