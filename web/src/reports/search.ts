// The reports page's URL state: which period (the last 7, 30 or 90 days). Parsed leniently like every
// page's search: an unknown value shows the default period.
import * as z from "zod/v4/mini";

export const PERIODS = [7, 30, 90] as const;
export type PeriodDays = (typeof PERIODS)[number];
export const DEFAULT_PERIOD: PeriodDays = 30;

const reportsSearchSchema = z.object({
  days: z.catch(z.optional(z.union([z.literal(7), z.literal(30), z.literal(90)])), undefined),
});

export type ReportsSearch = z.infer<typeof reportsSearchSchema>;

export function parseReportsSearch(search: Record<string, unknown>): ReportsSearch {
  const parsed = reportsSearchSchema.parse({ ...search, days: typeof search.days === "string" ? Number(search.days) : search.days });
  return parsed.days === undefined || parsed.days === DEFAULT_PERIOD ? {} : parsed;
}

export interface Period {
  days: PeriodDays;
  /** Midnight (this device's time) `days - 1` days ago, ISO. */
  from: string;
  /** The coming midnight, ISO: today is included whole, and the bounds stay the same all day (one cache key). */
  to: string;
}

export function periodOf(search: ReportsSearch, today = new Date()): Period {
  const days = search.days ?? DEFAULT_PERIOD;
  const end = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1);
  const start = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (days - 1));
  return { days, from: start.toISOString(), to: end.toISOString() };
}
