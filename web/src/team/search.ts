// The accept page's ?token=: 64 hex characters (invite_member), anything else is no token.
// zod/mini: the router parses this, so it is in every page's first load (the full zod is ~13 KB more).
import * as z from "zod/v4/mini";

const joinSearchSchema = z.object({ token: z.catch(z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))), undefined) });
export type JoinSearch = z.infer<typeof joinSearchSchema>;

export function parseJoinSearch(search: Record<string, unknown>): JoinSearch {
  return joinSearchSchema.parse(search);
}
