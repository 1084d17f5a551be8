// The accept page's ?token=: 64 hex characters (invite_member), anything else is no token.
import { z } from "zod";

const joinSearchSchema = z.object({ token: z.string().regex(/^[0-9a-f]{64}$/).optional().catch(undefined) });
export type JoinSearch = z.infer<typeof joinSearchSchema>;

export function parseJoinSearch(search: Record<string, unknown>): JoinSearch {
  return joinSearchSchema.parse(search);
}
