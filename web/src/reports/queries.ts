// lead_stats for the reports page, checked at the boundary: the page trusts the shape, not the wire.
import { queryOptions } from "@tanstack/react-query";
import * as z from "zod/v4/mini";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import type { Period } from "./search.ts";

const count = z.number();
const maybe = z.nullable(z.number());
const numbers = {
  leads: count,
  texted: count,
  replied: count,
  completed: count,
  opted_out: count,
  reply_rate: maybe,
  alerts_delivered: count,
  alert_median_seconds: maybe,
  alert_p90_seconds: maybe,
};

const leadStatsSchema = z.object({
  ...numbers,
  timezone: z.string(),
  duplicates: count,
  days: z.array(z.object({ day: z.string(), ...numbers })),
  sources: z.array(z.object({
    widget_id: z.nullable(z.string()),
    widget_name: z.nullable(z.string()),
    source_page: z.nullable(z.string()),
    ...numbers,
  })),
});

export type LeadStats = z.infer<typeof leadStatsSchema>;
export type DayStats = LeadStats["days"][number];
export type SourceStats = LeadStats["sources"][number];

export const reportKeys = {
  all: ["reports"] as const,
  stats: (businessId: string, period: Period) => ["reports", businessId, period.from, period.to] as const,
};

export const reportQueries = {
  stats: (db: Db, businessId: string, period: Period) =>
    queryOptions({
      queryKey: reportKeys.stats(businessId, period),
      queryFn: async (): Promise<LeadStats> => {
        const { data, error } = await db.rpc("lead_stats", { p_business_id: businessId, p_from: period.from, p_to: period.to });
        if (error) throw toError(error, "loading the report");
        return leadStatsSchema.parse(data);
      },
      // A report is a summary of the past: refreshed when the owner comes back to it, not on every new lead.
      staleTime: 60_000,
    }),
};
