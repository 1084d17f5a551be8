// Who is on the team. Owners invite by email (a one-time link, 7 days), withdraw pending invitations and
// remove members (not themselves, so the business keeps an owner); staff see the team. Each member's
// alert phone is shown on their row (AlertPhone.tsx). Staff see and work
// leads; settings, numbers and billing are the owners'.
import { useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { formatDateTime } from "../lib/format.ts";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { useMembership } from "../shell/membership.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { AlertPhone } from "./AlertPhone.tsx";
import { teamQueries, useInviteMember, useRemoveMember, useRevokeInvitation, type TeamMember } from "./queries.ts";
import "./team.css";

const appRoute = getRouteApi("/app");
const ROLE_LABELS: Record<string, string> = { owner: "Owner", staff: "Staff" };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function TeamPage() {
  useDocumentTitle("Team");
  const db = useDb();
  const { business, role } = useMembership();
  const isOwner = role === "owner";
  const members = useQuery(teamQueries.members(db, business.id));
  const invitations = useQuery({ ...teamQueries.invitations(db, business.id), enabled: isOwner });
  const invite = useInviteMember(business.id);
  const revoke = useRevokeInvitation(business.id);
  const [email, setEmail] = useState("");
  const [newRole, setNewRole] = useState("staff");
  const [problem, setProblem] = useState<string | null>(null);
  const [sent, setSent] = useState("");

  const onInvite = (event: FormEvent) => {
    event.preventDefault();
    const address = email.trim();
    if (!EMAIL.test(address)) return setProblem("Enter an email address, like name@example.com");
    setProblem(null);
    invite.mutate({ email: address, role: newRole }, {
      onSuccess: () => {
        setSent(`Invitation sent to ${address.toLowerCase()}`);
        setEmail("");
      },
    });
  };

  return (
    <section aria-labelledby="team-title">
      <div className="page-head"><h1 id="team-title">Team</h1></div>
      <p className="muted">Everyone on the team sees and works the leads. Only owners change settings, numbers and billing, and manage the team.</p>
      <p className="muted">Each member may add an alert phone: once confirmed with the code texted to it, it gets the new-lead alerts (and summaries, if chosen) and can answer them by text. Owners manage anyone's; staff their own.</p>
      <section className="card" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        {members.isPending && <Loading what="the team" />}
        {members.error && <ErrorBox error={members.error} onRetry={() => void members.refetch()} />}
        <ul className="team-list">
          {(members.data ?? []).map((m) => <MemberRow key={m.user_id} member={m} isOwner={isOwner} />)}
        </ul>
      </section>
      {isOwner ? (
        <section className="card" aria-labelledby="invite-title">
          <h2 id="invite-title">Invite someone</h2>
          <form className="invite-form" onSubmit={onInvite} noValidate>
            <div className="field">
              <label htmlFor="invite-email">Email</label>
              <input id="invite-email" type="email" autoComplete="off" value={email} aria-invalid={problem ? true : undefined}
                aria-describedby={problem ? "invite-problem" : undefined} onChange={(e) => { setEmail(e.target.value); setSent(""); }} />
            </div>
            <div className="field">
              <label htmlFor="invite-role">Role</label>
              <select id="invite-role" value={newRole} onChange={(e) => setNewRole(e.target.value)}>
                <option value="staff">Staff: sees and works leads</option>
                <option value="owner">Owner: also settings, numbers, billing, team</option>
              </select>
            </div>
            <div className="actions">
              <button type="submit" className="btn btn-primary" disabled={invite.isPending}>{invite.isPending ? "Sending…" : "Send invitation"}</button>
              <span role="status" aria-live="polite" className="saved">{sent}</span>
            </div>
            {problem && <p id="invite-problem" className="field-error" role="alert">{problem}</p>}
            {invite.error && <ErrorBox error={invite.error} />}
          </form>
          <p className="small muted">They get an email with a link that works once, for 7 days, and only for that address: they sign up or sign in with it, then accept.</p>
          <h3>Pending invitations</h3>
          {invitations.error && <ErrorBox error={invitations.error} onRetry={() => void invitations.refetch()} />}
          {invitations.data?.length === 0 && <p className="muted">None.</p>}
          <ul className="team-list">
            {(invitations.data ?? []).map((i) => (
              <li key={i.id}>
                <div><strong>{i.email}</strong> <span className="muted small">{ROLE_LABELS[i.role] ?? i.role} · expires {formatDateTime(i.expires_at)}</span></div>
                <button type="button" className="btn btn-ghost btn-small" disabled={revoke.isPending} aria-label={`Withdraw the invitation to ${i.email}`}
                  onClick={() => revoke.mutate(i.id)}>Withdraw</button>
              </li>
            ))}
          </ul>
          {revoke.error && <ErrorBox error={revoke.error} />}
        </section>
      ) : (
        <div className="alert alert-info">Only owners invite and remove members.</div>
      )}
    </section>
  );
}

function MemberRow({ member, isOwner }: { member: TeamMember; isOwner: boolean }) {
  const { session } = appRoute.useRouteContext();
  const { business } = useMembership();
  const remove = useRemoveMember(business.id);
  const [confirming, setConfirming] = useState(false);
  const self = member.user_id === session.user.id;
  return (
    <li>
      <div className="member-main">
        <strong>{member.email}</strong>{self && <span className="muted"> (you)</span>}{" "}
        <span className="muted small">{ROLE_LABELS[member.role] ?? member.role} · joined {formatDateTime(member.joined_at)}</span>
        <AlertPhone businessId={business.id} member={member} canEdit={self || isOwner} self={self} />
      </div>
      {isOwner && !self && (confirming ? (
        <span className="actions">
          <button type="button" className="btn btn-primary btn-small" disabled={remove.isPending} onClick={() => remove.mutate(member.user_id)}>
            Remove {member.email}
          </button>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => setConfirming(false)}>Keep</button>
        </span>
      ) : (
        <button type="button" className="btn btn-ghost btn-small" aria-label={`Remove ${member.email} from the team`} onClick={() => setConfirming(true)}>Remove</button>
      ))}
      {remove.error && <ErrorBox error={remove.error} />}
    </li>
  );
}
