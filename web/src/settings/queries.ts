import { useMutation, useQueryClient } from "@tanstack/react-query";
import { businessKeys } from "../businesses/queries.ts";
import { BUSINESS_COLUMNS } from "../businesses/queries.ts";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import type { Business } from "../lib/types.ts";
import type { SettingsUpdate } from "./validation.ts";

/** Saves changed follow-up settings; RLS lets only owners update, and 0 rows back means refused. */
export function useUpdateBusinessSettings(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (changes: Partial<SettingsUpdate>): Promise<Business> => {
      const { data, error } = await db
        .from("businesses")
        .update(changes)
        .eq("id", businessId)
        .select(BUSINESS_COLUMNS)
        .maybeSingle();
      if (error) throw toError(error, "saving settings");
      if (!data) throw new Error("saving settings: only the business owner can change these settings");
      return data as unknown as Business;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: businessKeys.all }),
  });
}
