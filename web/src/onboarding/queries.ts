// What the wizard reads (the business's progress, straight from the database so it resumes anywhere)
// and does: create_business, and the twilio-numbers function (search, buy, list the account's numbers,
// connect) as the owner.
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { businessKeys } from "../businesses/queries.ts";
import type { Db } from "../lib/db.ts";
import { functionError, toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import { widgetKeys } from "../widgets/queries.ts";
import type { Progress } from "./model.ts";

export interface SetupBusiness extends Progress {
  id: string;
  name: string;
  owner_phone: string;
}

export const onboardingKeys = {
  progress: (businessId: string) => ["onboarding", "progress", businessId] as const,
  numbers: (businessId: string, areaCode: string) => ["onboarding", "numbers", businessId, areaCode] as const,
  ownedNumbers: (businessId: string) => ["onboarding", "owned-numbers", businessId] as const,
};

export const onboardingQueries = {
  progress: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: onboardingKeys.progress(businessId),
      queryFn: async (): Promise<SetupBusiness | null> => {
        const { data, error } = await db.from("businesses")
          .select("id, name, owner_phone, twilio_number, owner_phone_verified_at, widgets(count)")
          .eq("id", businessId).maybeSingle();
        if (error) throw toError(error, "loading your business");
        if (!data) return null;
        const { widgets, ...business } = data as typeof data & { widgets: { count: number }[] };
        return { ...business, widgets: widgets[0]?.count ?? 0 };
      },
    }),
};

export function useCreateBusiness() {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (args: { p_name: string; p_owner_phone: string; p_timezone: string; p_locale: "en" | "es" }): Promise<string> => {
      const { data, error } = await db.rpc("create_business", args);
      if (error) throw new Error(error.message);
      return data;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: businessKeys.all }),
  });
}

export interface AvailableNumber {
  phone_number: string;
  friendly_name: string;
  locality: string | null;
  region: string | null;
}

export const numberQueries = {
  search: (db: Db, businessId: string, areaCode: string) =>
    queryOptions({
      queryKey: onboardingKeys.numbers(businessId, areaCode),
      queryFn: async (): Promise<AvailableNumber[]> => {
        const query = new URLSearchParams({ business_id: businessId, ...(areaCode ? { area_code: areaCode } : {}) });
        const { data, error } = await db.functions.invoke<{ numbers: AvailableNumber[] }>(`twilio-numbers?${query}`, { method: "GET" });
        if (error) throw await functionError(error, "searching numbers");
        return data?.numbers ?? [];
      },
      staleTime: 30_000,
      retry: false,
    }),
};

/** A number the Twilio account already has that this business may connect (no other business's). */
export interface AccountNumber {
  phone_number: string;
  phone_number_sid: string;
  friendly_name: string;
}

export const ownedNumberQueries = {
  list: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: onboardingKeys.ownedNumbers(businessId),
      queryFn: async (): Promise<{ numbers: AccountNumber[]; complete: boolean }> => {
        const query = new URLSearchParams({ business_id: businessId, owned: "true" });
        const { data, error } = await db.functions.invoke<{ numbers: AccountNumber[]; complete: boolean }>(`twilio-numbers?${query}`, { method: "GET" });
        if (error) throw await functionError(error, "listing the account's numbers");
        return { numbers: data?.numbers ?? [], complete: data?.complete ?? true };
      },
      staleTime: 30_000,
      retry: false,
    }),
};

/** Buys a number ({phone_number}) or connects one the account owns ({phone_number_sid}). */
export function useGetNumber(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (choice: { phone_number: string } | { phone_number_sid: string }): Promise<{ phone_number: string }> => {
      const { data, error } = await db.functions.invoke<{ phone_number: string }>("twilio-numbers", { method: "POST", body: { business_id: businessId, ...choice } });
      if (error) throw await functionError(error, "phone_number" in choice ? "buying the number" : "connecting the number");
      return data!;
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: onboardingKeys.progress(businessId) });
      void queryClient.invalidateQueries({ queryKey: businessKeys.all });
      void queryClient.invalidateQueries({ queryKey: widgetKeys.all });
      void queryClient.invalidateQueries({ queryKey: onboardingKeys.ownedNumbers(businessId) });
    },
  });
}
