import { queryOptions } from "@tanstack/react-query";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import type { Business, Membership } from "../lib/types.ts";

export const BUSINESS_COLUMNS =
  "id, name, owner_phone, timezone, twilio_number, followup_enabled, nudge_delay_minutes, idle_timeout_minutes, max_questions, quiet_hours_start, quiet_hours_end, sending_problem, " +
  "owner_phone_verified_at, daily_sms_cap, default_locale, opt_out_confirmation_by, allowed_nanp_regions";

export const businessKeys = {
  all: ["businesses"] as const,
  memberships: (userId: string) => ["businesses", "memberships", userId] as const,
};

export const businessQueries = {
  /** Businesses the signed-in user belongs to, with their role (RLS returns only theirs). */
  memberships: (db: Db, userId: string) =>
    queryOptions({
      queryKey: businessKeys.memberships(userId),
      queryFn: async (): Promise<Membership[]> => {
        const { data, error } = await db
          .from("business_members")
          .select(`role, business:businesses(${BUSINESS_COLUMNS})`)
          .eq("user_id", userId)
          .order("created_at", { ascending: true });
        if (error) throw toError(error, "loading your businesses");
        return (data ?? [])
          .filter((row) => row.business)
          .map((row) => ({ role: row.role as Membership["role"], business: row.business as unknown as Business }));
      },
    }),
};
