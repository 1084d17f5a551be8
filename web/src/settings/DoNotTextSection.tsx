// The do-not-text list: numbers leadloop never texts for this business. Any member adds one (with a
// reason); owners remove what a member added (with a reason); a number whose owner texted STOP, replied
// "wrong number", or whose carrier refused texts comes off only when the lead texts START. Every change
// is in the history below: who, when, why.
import { useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { formatDateTime } from "../lib/format.ts";
import { useDb } from "../lib/supabase.tsx";
import { usePhoneFormat } from "../lib/usePhoneFormat.ts";
import { useMembership } from "../shell/membership.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { toE164 } from "./business.ts";
import { settingsQueries, useAddDoNotText, useRemoveDoNotText, type DoNotTextEntry } from "./queries.ts";

const SOURCE_LABELS: Record<string, string> = {
  owner: "Added by your team",
  keyword: "The lead texted STOP",
  reply: "The lead said wrong number / not interested",
  carrier: "The carrier refused texts",
};

export function DoNotTextSection() {
  const db = useDb();
  const { business } = useMembership();
  const list = useQuery(settingsQueries.doNotText(db, business.id));
  const add = useAddDoNotText(business.id);
  const [phone, setPhone] = useState("");
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState("");
  const entries = list.data?.entries ?? [];
  const events = list.data?.events ?? [];
  const format = usePhoneFormat([...entries.map((e) => e.phone), ...events.map((e) => e.phone)]);

  const onAdd = (event: FormEvent) => {
    event.preventDefault();
    const e164 = toE164(phone);
    if (!e164) return setProblem("Enter a phone number, like (415) 555-0123");
    if (reason.trim().length < 3) return setProblem("Say why (at least 3 characters)");
    setProblem(null);
    add.mutate({ phone: e164, reason: reason.trim() }, {
      onSuccess: (added) => {
        setDone(added ? `${format(e164)} will not be texted` : `${format(e164)} was already on the list`);
        setPhone("");
        setReason("");
      },
    });
  };

  return (
    <section className="card settings" aria-labelledby="dnt-title">
      <h2 id="dnt-title">Do-not-text list</h2>
      <p className="muted">
        leadloop never texts these numbers for {business.name}: new leads from them are not texted, and adding a number ends its
        conversation at once. You still get the alert for their leads.
      </p>
      <form className="dnt-add" onSubmit={onAdd} noValidate aria-label="Add a number to the do-not-text list">
        <div className="field">
          <label htmlFor="dnt-phone">Phone number</label>
          <input id="dnt-phone" type="tel" value={phone} onChange={(e) => setPhone(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="dnt-reason">Reason</label>
          <input id="dnt-reason" value={reason} maxLength={300} onChange={(e) => setReason(e.target.value)} />
        </div>
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={add.isPending}>Add number</button>
          <span role="status" aria-live="polite" className="saved">{done}</span>
        </div>
        {problem && <p className="field-error" role="alert">{problem}</p>}
        {add.error && <ErrorBox error={add.error} />}
      </form>
      {list.isPending && <Loading what="the list" />}
      {list.error && <ErrorBox error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && entries.length === 0 && <p className="muted">No numbers on the list.</p>}
      {entries.length > 0 && (
        <ul className="dnt-list" aria-label="Numbers not texted">
          {entries.map((entry) => <DoNotTextItem key={entry.phone} entry={entry} display={format(entry.phone)} />)}
        </ul>
      )}
      {events.length > 0 && (
        <details className="dnt-history">
          <summary>History (who, when, why)</summary>
          <ul>
            {events.map((e) => (
              <li key={e.id}>
                <strong>{format(e.phone)}</strong> {e.action} {formatDateTime(e.created_at)} by {e.actor_email ?? (e.source === "owner" ? "a former member" : "the lead or carrier")}: {e.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function DoNotTextItem({ entry, display }: { entry: DoNotTextEntry; display: string }) {
  const { business, role } = useMembership();
  const remove = useRemoveDoNotText(business.id);
  const [removing, setRemoving] = useState(false);
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const byLead = entry.source !== "owner";
  const id = entry.phone.replace(/\D/g, "");

  const onRemove = (event: FormEvent) => {
    event.preventDefault();
    if (reason.trim().length < 3) return setProblem("Say why (at least 3 characters)");
    setProblem(null);
    remove.mutate({ phone: entry.phone, reason: reason.trim() });
  };

  return (
    <li className="dnt-item">
      <div>
        <strong>{display}</strong> <span className="muted small">{SOURCE_LABELS[entry.source] ?? entry.source} · {formatDateTime(entry.created_at)}</span>
        {byLead && <p className="small muted">Only the lead can undo this, by texting START to your number.</p>}
      </div>
      {role === "owner" && !byLead && !removing && (
        <button type="button" className="btn btn-ghost btn-small" onClick={() => setRemoving(true)} aria-label={`Remove ${display}`}>Remove</button>
      )}
      {removing && (
        <form className="dnt-remove" onSubmit={onRemove} noValidate>
          <div className="field">
            <label htmlFor={`dnt-remove-${id}`}>Why may {display} be texted again?</label>
            <input id={`dnt-remove-${id}`} value={reason} maxLength={300} onChange={(e) => setReason(e.target.value)} />
          </div>
          <div className="actions">
            <button type="submit" className="btn btn-primary btn-small" disabled={remove.isPending}>Remove from list</button>
            <button type="button" className="btn btn-ghost btn-small" onClick={() => setRemoving(false)}>Cancel</button>
          </div>
          {problem && <p className="field-error" role="alert">{problem}</p>}
          {remove.error && <ErrorBox error={remove.error} />}
        </form>
      )}
    </li>
  );
}
