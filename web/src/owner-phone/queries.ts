// Confirming the owner phone (the database's confirm_owner_phone / resend_owner_phone_code RPCs): owner
// alerts wait until the code texted to the phone is entered here.
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { businessKeys } from "../businesses/queries.ts";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import { resendResultSchema, type ResendResult } from "./code.ts";

export const ownerPhoneKeys = {
  waiting: (businessId: string) => ["owner-phone", "waiting", businessId] as const,
};

export const ownerPhoneQueries = {
  /** Leads whose owner alert waits for the phone to be confirmed. */
  waitingAlerts: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: ownerPhoneKeys.waiting(businessId),
      queryFn: async (): Promise<number> => {
        const { count, error } = await db
          .from("leads")
          .select("id", { count: "exact", head: true })
          .eq("business_id", businessId)
          .eq("owner_alert_status", "awaiting_verification");
        if (error) throw toError(error, "counting waiting alerts");
        return count ?? 0;
      },
    }),
};

/** True when the code confirmed the phone; false for a wrong, expired or used-up code. */
export function useConfirmOwnerPhone(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (code: string): Promise<boolean> => {
      const { data, error } = await db.rpc("confirm_owner_phone", { p_business_id: businessId, p_code: code });
      if (error) throw toError(error, "confirming the phone");
      return data === true;
    },
    onSuccess: (confirmed) => {
      if (!confirmed) return;
      void queryClient.invalidateQueries({ queryKey: businessKeys.all });
      void queryClient.invalidateQueries({ queryKey: ownerPhoneKeys.waiting(businessId) });
    },
  });
}

export function useResendOwnerPhoneCode(businessId: string) {
  const db = useDb();
  return useMutation({
    mutationFn: async (): Promise<ResendResult> => {
      const { data, error } = await db.rpc("resend_owner_phone_code", { p_business_id: businessId });
      if (error) throw toError(error, "sending a new code");
      return resendResultSchema.parse(data);
    },
  });
}
