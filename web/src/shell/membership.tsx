// The business the signed-in user is looking at, and their role in it, for every page in the shell.
import { createContext, useContext, type ReactNode } from "react";
import type { Membership } from "../lib/types.ts";

const MembershipContext = createContext<Membership | null>(null);

export function MembershipProvider({ membership, children }: { membership: Membership; children: ReactNode }) {
  return <MembershipContext.Provider value={membership}>{children}</MembershipContext.Provider>;
}

export function useMembership(): Membership {
  const membership = useContext(MembershipContext);
  if (!membership) throw new Error("useMembership outside the app shell");
  return membership;
}
