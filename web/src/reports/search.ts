// The reports page's URL state: which period (the last 7, 30 or 90 days). Parsed leniently like every
// page's search: anything but one of the periods shows the default period. (Three numbers need no
// schema library; this module is part of every page's first load through the router.)
export const PERIODS = [7, 30, 90] as const;
export type PeriodDays = (typeof PERIODS)[number];
export const DEFAULT_PERIOD: PeriodDays = 30;

export interface ReportsSearch {
  days?: PeriodDays;
}

export function parseReportsSearch(search: Record<string, unknown>): ReportsSearch {
  const raw = search.days;
  const days = PERIODS.find((period) => period !== DEFAULT_PERIOD && (raw === period || raw === String(period)));
  return days ? { days } : {};
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
