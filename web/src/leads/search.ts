// The leads list's URL state. Parsed leniently: a hand-edited or outdated link falls back to the
// defaults instead of failing the page.
import * as z from "zod/v4/mini";

const leadsSearchSchema = z.object({
  /** 1-based page of the newest-first list; absent means the first page. */
  page: z.catch(z.optional(z.int().check(z.minimum(2), z.maximum(10_000))), undefined),
});

export type LeadsSearch = z.infer<typeof leadsSearchSchema>;

export function parseLeadsSearch(search: Record<string, unknown>): LeadsSearch {
  return leadsSearchSchema.parse(search);
}
