// The inbox's URL state: the search words, the filters and the page's keyset cursor. Parsed leniently:
// a hand-edited or outdated link (the old ?page=) falls back to the first page of everything instead of
// failing. The filter values come from the database (Postgres enums in the generated types).
import * as z from "zod/v4/mini";
import { Constants } from "../../../functions/_shared/database.types.ts";
import { LEAD_STATUSES, type LeadStatus } from "../lib/types.ts";

export const FOLLOWUP_FILTERS = Constants.public.Enums.inbox_followup;
export const ATTENTION_FILTERS = Constants.public.Enums.inbox_attention;
export type FollowupFilter = (typeof FOLLOWUP_FILTERS)[number];
export type AttentionFilter = (typeof ATTENTION_FILTERS)[number];

/** A position in the newest-first order: the row's created_at exactly as the API gave it, and its id. */
export interface Cursor {
  createdAt: string;
  id: string;
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2}))~([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodeCursor(row: { created_at: string; id: string }): string {
  return `${row.created_at}~${row.id}`;
}

export function decodeCursor(value: string | undefined): Cursor | null {
  const match = value ? CURSOR.exec(value) : null;
  return match ? { createdAt: match[1], id: match[2] } : null;
}

const optional = <T extends z.ZodMiniType>(schema: T) => z.catch(z.optional(schema), undefined);
const cursor = optional(z.string().check(z.regex(CURSOR)));

const leadsSearchSchema = z.object({
  /** Words to find in name, phone, email, message and summary. */
  q: optional(z.string().check(z.minLength(1), z.maxLength(200))),
  /** Pipeline statuses, comma-separated ("new,contacted"); unknown ones are dropped. */
  status: optional(z.string().check(z.maxLength(100))),
  followup: optional(z.enum(FOLLOWUP_FILTERS)),
  attention: optional(z.enum(ATTENTION_FILTERS)),
  /** The page of leads older than this row... */
  before: cursor,
  /** ...or newer than this one (the way back up). */
  after: cursor,
});

export type LeadsSearch = z.infer<typeof leadsSearchSchema>;

export function parseLeadsSearch(search: Record<string, unknown>): LeadsSearch {
  // The router reads JSON-looking values as JSON: a typed ?q=5550101 arrives as a number.
  const q = typeof search.q === "number" ? String(search.q) : search.q;
  const parsed = leadsSearchSchema.parse({ ...search, q });
  const statuses = parseStatuses(parsed.status);
  const result: LeadsSearch = {
    ...parsed,
    q: parsed.q?.trim() || undefined,
    status: statuses.length ? statuses.join(",") : undefined,
  };
  // Both directions at once cannot be honoured: keep the way down.
  if (result.before && result.after) delete result.after;
  return Object.fromEntries(Object.entries(result).filter(([, value]) => value !== undefined)) as LeadsSearch;
}

export function parseStatuses(value: string | undefined): LeadStatus[] {
  const wanted = new Set((value ?? "").split(","));
  return LEAD_STATUSES.filter((status) => wanted.has(status));
}

/** The filters without the page position: what a new search or filter change keeps. */
export function filtersOf(search: LeadsSearch): LeadsSearch {
  const { before: _before, after: _after, ...filters } = search;
  return filters;
}

export function hasFilters(search: LeadsSearch): boolean {
  return Boolean(search.q || search.status || search.followup || search.attention);
}
