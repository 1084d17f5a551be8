// The lead page's pipeline card: status, assignee and notes (saved under RLS), and the history of every
// change the database recorded (lead_events: who, when, from, to).
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { formatDateTime } from "../lib/format.ts";
import { useDb } from "../lib/supabase.tsx";
import { LEAD_STATUSES, type Lead, type LeadStatus } from "../lib/types.ts";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { type LeadEvent, leadDetailQueries, type TeamMember, useUpdatePipeline } from "./LeadDetailQueries.ts";

export const LEAD_STATUS_LABELS: Record<LeadStatus, string> = {
  new: "New", contacted: "Contacted", booked: "Booked", won: "Won", lost: "Lost", spam: "Spam",
};

export function PipelineCard({ lead }: { lead: Lead }) {
  const db = useDb();
  const team = useQuery(leadDetailQueries.team(db, lead.business_id));
  const update = useUpdatePipeline(lead.id);
  const [confirmSpam, setConfirmSpam] = useState(false);
  const [notes, setNotes] = useState(lead.notes ?? "");
  // A change from elsewhere (another member, realtime) replaces the field unless it is being edited.
  const [editing, setEditing] = useState(false);
  useEffect(() => { if (!editing) setNotes(lead.notes ?? ""); }, [lead.notes, editing]);
  const ids = { status: useId(), assignee: useId(), notes: useId() };
  const notesChanged = notes.trim() !== (lead.notes ?? "").trim();

  return (
    <section className="card" aria-labelledby="pipeline-title">
      <h2 id="pipeline-title">Pipeline</h2>
      <div className="field">
        <label htmlFor={ids.status}>Status</label>
        <select
          id={ids.status}
          value={confirmSpam ? "spam" : lead.status}
          disabled={update.isPending}
          onChange={(e) => {
            const status = e.target.value as LeadStatus;
            if (status === "spam") setConfirmSpam(true);
            else { setConfirmSpam(false); update.mutate({ status }); }
          }}
        >
          {LEAD_STATUSES.map((s) => <option key={s} value={s}>{LEAD_STATUS_LABELS[s]}</option>)}
        </select>
      </div>
      {confirmSpam && (
        <div className="alert alert-warning" role="alert">
          <span>Spam adds {lead.phone} to your do-not-text list and stops the conversation.</span>
          <span className="actions">
            <button type="button" className="btn btn-primary" onClick={() => { setConfirmSpam(false); update.mutate({ status: "spam" }); }}>Mark as spam</button>
            <button type="button" className="btn" onClick={() => setConfirmSpam(false)}>Cancel</button>
          </span>
        </div>
      )}
      <div className="field">
        <label htmlFor={ids.assignee}>Assigned to</label>
        <select
          id={ids.assignee}
          value={lead.assigned_to ?? ""}
          disabled={update.isPending || !team.data}
          onChange={(e) => update.mutate({ assigned_to: e.target.value || null })}
        >
          <option value="">Nobody</option>
          {team.data?.map((m) => <option key={m.user_id} value={m.user_id}>{m.name ?? "a member"}{m.role === "owner" ? " (owner)" : ""}</option>)}
        </select>
      </div>
      <form
        className="field"
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate({ notes: notes.trim() === "" ? null : notes.trim() }, { onSuccess: () => setEditing(false) });
        }}
      >
        <label htmlFor={ids.notes}>Notes</label>
        <textarea
          id={ids.notes}
          rows={3}
          maxLength={4000}
          value={notes}
          onFocus={() => setEditing(true)}
          onChange={(e) => setNotes(e.target.value)}
        />
        <span className="actions">
          <button type="submit" className="btn btn-small" disabled={!notesChanged || update.isPending}>Save notes</button>
        </span>
      </form>
      {update.error && <p className="field-error" role="alert">{update.error.message}</p>}
      {team.error && <ErrorBox error={team.error} onRetry={() => void team.refetch()} />}
      <History leadId={lead.id} team={team.data ?? []} />
    </section>
  );
}

function History({ leadId, team }: { leadId: string; team: TeamMember[] }) {
  const db = useDb();
  const history = useQuery(leadDetailQueries.history(db, leadId));
  if (history.isPending) return <Loading what="history" />;
  if (history.error) return <ErrorBox error={history.error} onRetry={() => void history.refetch()} />;
  return (
    <>
      <h3 className="small muted">History</h3>
      {history.data.length === 0 ? <p className="muted small">No changes yet.</p> : (
        <ol className="history" data-testid="lead-history">
          {history.data.map((event) => (
            <li key={event.id}>
              <span>{describeEvent(event, team)}</span>
              <time className="small muted" dateTime={event.created_at}> {formatDateTime(event.created_at)}</time>
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

/** "Sam changed the status from New to Contacted", "Sam assigned it to Alex", "by text", ... */
export function describeEvent(event: LeadEvent, team: TeamMember[]): string {
  const who = event.actor_name ?? (event.via === "system" ? "leadloop" : "A former member");
  const by = event.via === "sms" ? " (by text)" : "";
  const member = (id: string | null) => (id ? team.find((m) => m.user_id === id)?.name ?? "a former member" : "nobody");
  const label = (value: string | null) => LEAD_STATUS_LABELS[value as LeadStatus] ?? value ?? "—";
  switch (event.field) {
    case "status":
      return `${who}${by} changed the status from ${label(event.from_value)} to ${label(event.to_value)}`;
    case "assigned_to":
      return event.to_value ? `${who}${by} assigned it to ${member(event.to_value)}` : `${who}${by} unassigned ${member(event.from_value)}`;
    default:
      return event.to_value ? `${who}${by} edited the notes: “${event.to_value}”` : `${who}${by} cleared the notes`;
  }
}
