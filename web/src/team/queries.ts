// The team: members (team_members), pending invitations (owners), and the invite / revoke / remove /
// accept actions (the database's RPCs and RLS decide who may).
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { businessKeys } from "../businesses/queries.ts";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import type { Tables } from "../../../functions/_shared/database.types.ts";

export interface TeamMember {
  user_id: string;
  email: string;
  role: string;
  joined_at: string;
}
export type Invitation = Pick<Tables<"invitations">, "id" | "email" | "role" | "created_at" | "expires_at">;

export const teamKeys = {
  members: (businessId: string) => ["team", "members", businessId] as const,
  invitations: (businessId: string) => ["team", "invitations", businessId] as const,
};

export const teamQueries = {
  members: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: teamKeys.members(businessId),
      queryFn: async (): Promise<TeamMember[]> => {
        const { data, error } = await db.rpc("team_members", { p_business_id: businessId });
        if (error) throw toError(error, "loading the team");
        return data ?? [];
      },
    }),
  /** Pending invitations (RLS: owners only; staff get an empty list). */
  invitations: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: teamKeys.invitations(businessId),
      queryFn: async (): Promise<Invitation[]> => {
        const { data, error } = await db.from("invitations").select("id, email, role, created_at, expires_at")
          .eq("business_id", businessId).is("accepted_at", null).is("revoked_at", null).gt("expires_at", new Date().toISOString())
          .order("created_at", { ascending: false });
        if (error) throw toError(error, "loading invitations");
        return data ?? [];
      },
    }),
};

export function useInviteMember(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ email, role }: { email: string; role: string }): Promise<string> => {
      const { data, error } = await db.rpc("invite_member", { p_business_id: businessId, p_email: email, p_role: role });
      if (error) throw toError(error, "inviting");
      return data;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: teamKeys.invitations(businessId) }),
  });
}

export function useRevokeInvitation(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (invitationId: string): Promise<void> => {
      const { error } = await db.rpc("revoke_invitation", { p_invitation_id: invitationId });
      if (error) throw toError(error, "withdrawing the invitation");
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: teamKeys.invitations(businessId) }),
  });
}

/** RLS lets owners remove anyone but themselves (so a business always keeps an owner). */
export function useRemoveMember(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (userId: string): Promise<void> => {
      const { error, count } = await db.from("business_members").delete({ count: "exact" })
        .eq("business_id", businessId).eq("user_id", userId);
      if (error) throw toError(error, "removing the member");
      if (count === 0) throw new Error("removing the member: only an owner can remove members, and not themselves");
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: teamKeys.members(businessId) }),
  });
}

/** Joins the invitation's business; resolves to its id. */
export function useAcceptInvitation() {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (token: string): Promise<string> => {
      const { data, error } = await db.rpc("accept_invitation", { p_token: token });
      if (error) throw new Error(error.message);
      return data;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: businessKeys.all }),
  });
}
