// The team: members (team_members, with their alert phones), pending invitations (owners), and the
// invite / revoke / remove / accept and alert phone actions (the database's RPCs and RLS decide who may).
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import * as z from "zod/v4/mini";
import { resendResultSchema } from "../owner-phone/code.ts";
import { businessKeys } from "../businesses/queries.ts";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import type { Database, Tables } from "../../../functions/_shared/database.types.ts";

export type TeamMember = Database["public"]["Functions"]["team_members"]["Returns"][number];
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

// ---------- alert phones (set_member_alert_phone and friends; the member themself or an owner) ----------

/** What set_member_alert_phone answers: the phone's state and, when a code was asked for, how that went. */
export const alertPhoneResultSchema = z.object({
  alert_phone: z.nullable(z.string()),
  state: z.enum(["none", "unverified", "verified"]),
  code: z.nullable(resendResultSchema),
});
export type AlertPhoneResult = z.infer<typeof alertPhoneResultSchema>;

/** Every alert phone change refreshes the team list, which shows each phone's state. */
function useAlertPhoneMutation<Input, Output>(businessId: string, call: (db: Db, input: Input) => Promise<Output>) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: Input) => call(db, input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: teamKeys.members(businessId) }),
  });
}

export function useSetAlertPhone(businessId: string, userId: string) {
  return useAlertPhoneMutation(businessId, async (db, phone: string): Promise<AlertPhoneResult> => {
    const { data, error } = await db.rpc("set_member_alert_phone", { p_business_id: businessId, p_user_id: userId, p_phone: phone });
    if (error) throw toError(error, "saving the alert phone");
    return alertPhoneResultSchema.parse(data);
  });
}

/** Resolves to whether the code confirmed the phone. */
export function useConfirmAlertPhone(businessId: string, userId: string) {
  return useAlertPhoneMutation(businessId, async (db, code: string): Promise<boolean> => {
    const { data, error } = await db.rpc("confirm_member_alert_phone", { p_business_id: businessId, p_user_id: userId, p_code: code });
    if (error) throw toError(error, "confirming the alert phone");
    return data;
  });
}

export function useClearAlertPhone(businessId: string, userId: string) {
  return useAlertPhoneMutation(businessId, async (db, _: void): Promise<void> => {
    const { error } = await db.rpc("clear_member_alert_phone", { p_business_id: businessId, p_user_id: userId });
    if (error) throw toError(error, "removing the alert phone");
  });
}

export function useSetAlertChoices(businessId: string, userId: string) {
  return useAlertPhoneMutation(businessId, async (db, choices: { newLeads?: boolean; summaries?: boolean }): Promise<void> => {
      const { error } = await db.rpc("set_member_alert_choices", {
        p_business_id: businessId, p_user_id: userId, p_new_leads: choices.newLeads, p_summaries: choices.summaries,
      });
      if (error) throw toError(error, "saving what the phone gets");
    });
}
