// A member's alert phone on the Team page: its number, whether it is confirmed, and what it gets. The member
// (for themself) and owners (for anyone) set or change it, enter the texted code inline, choose what it
// gets and remove it; everyone else sees it read-only. The database decides who may (set_member_alert_phone
// and friends), this only offers what it would allow.
import { useState, type FormEvent } from "react";
import { usePhoneFormat } from "../lib/usePhoneFormat.ts";
import { resendMessage } from "../owner-phone/code.ts";
import { CodeField, useCodeEntry } from "../owner-phone/CodeField.tsx";
import type { ChipTone } from "../leads/status.ts";
import { Chip } from "../ui/Chip.tsx";
import { ErrorBox } from "../ui/States.tsx";
import {
  type TeamMember, useClearAlertPhone, useConfirmAlertPhone, useSetAlertChoices, useSetAlertPhone,
} from "./queries.ts";

const E164 = /^\+[1-9]\d{7,14}$/;
const STATE_LABELS: Record<string, string> = { none: "no alert phone", unverified: "waiting for the code", verified: "confirmed" };
const STATE_TONES: Record<string, ChipTone> = { none: "neutral", unverified: "warning", verified: "success" };

export function AlertPhone({ businessId, member, canEdit, self }: {
  businessId: string; member: TeamMember; canEdit: boolean; self: boolean;
}) {
  const id = `alert-${member.user_id}`;
  const who = self ? "your" : `${member.email}'s`;
  const format = usePhoneFormat(member.alert_phone ? [member.alert_phone] : []);
  const setPhone = useSetAlertPhone(businessId, member.user_id);
  const [editing, setEditing] = useState(false);
  const state = member.alert_phone_state;
  const gets = [member.alert_new_leads && "new-lead alerts", member.alert_summaries && "summaries"].filter(Boolean).join(" and ") || "nothing";

  return (
    <div className="alert-phone">
      <p className="small">
        <span className="muted">Alert phone: </span>
        {member.alert_phone ? <strong>{format(member.alert_phone)}</strong> : null}{" "}
        <Chip tone={STATE_TONES[state] ?? "neutral"} label={STATE_LABELS[state] ?? state} />
        {state === "verified" && <span className="muted"> · gets {gets}</span>}
      </p>
      {canEdit && (editing || state === "none"
        ? <PhoneForm id={id} who={who} current={member.alert_phone} setPhone={setPhone}
            onDone={() => setEditing(false)} onCancel={state === "none" ? undefined : () => setEditing(false)} />
        : (
          <>
            {state === "unverified" && member.alert_phone && (
              <CodeForm id={id} businessId={businessId} member={member} phone={format(member.alert_phone)} setPhone={setPhone} />
            )}
            {state === "verified" && <Choices id={id} businessId={businessId} member={member} who={who} />}
            <Manage businessId={businessId} member={member} who={who} onChange={() => { setPhone.reset(); setEditing(true); }} />
          </>
        ))}
    </div>
  );
}

function PhoneForm({ id, who, current, setPhone, onDone, onCancel }: {
  id: string; who: string; current: string | null; setPhone: ReturnType<typeof useSetAlertPhone>;
  onDone: () => void; onCancel?: () => void;
}) {
  const [phone, setPhoneValue] = useState(current ?? "");
  const [problem, setProblem] = useState<string | null>(null);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const clean = phone.replace(/[\s().-]/g, "");
    if (!E164.test(clean)) return setProblem("Enter a mobile number with its country code, like +1 415 555 0123");
    setProblem(null);
    setPhone.mutate(clean, { onSuccess: onDone });
  };
  return (
    <form className="alert-phone-form" onSubmit={onSubmit} noValidate>
      <div className="field">
        <label htmlFor={`${id}-phone`}>{who === "your" ? "Your" : who} alert phone number</label>
        <input id={`${id}-phone`} type="tel" autoComplete="tel" value={phone} aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-phone-problem` : undefined} onChange={(e) => setPhoneValue(e.target.value)} />
        {problem && <small id={`${id}-phone-problem`} className="field-error" role="alert">{problem}</small>}
      </div>
      <div className="actions">
        <button type="submit" className="btn btn-primary btn-small" disabled={setPhone.isPending}>
          {setPhone.isPending ? "Sending…" : "Text a code"}
        </button>
        {onCancel && <button type="button" className="btn btn-ghost btn-small" onClick={onCancel}>Cancel</button>}
      </div>
      {setPhone.error && <ErrorBox error={setPhone.error} />}
    </form>
  );
}

function CodeForm({ id, businessId, member, phone, setPhone }: {
  id: string; businessId: string; member: TeamMember; phone: string; setPhone: ReturnType<typeof useSetAlertPhone>;
}) {
  const confirm = useConfirmAlertPhone(businessId, member.user_id);
  const { onSubmit, entry } = useCodeEntry(confirm);
  const sent = setPhone.data?.code;
  return (
    <form className="alert-phone-form" onSubmit={onSubmit} noValidate>
      <CodeField id={`${id}-code`} label={`Code texted to ${phone}`} entry={entry} />
      <div className="actions">
        <button type="submit" className="btn btn-primary btn-small" disabled={confirm.isPending}>
          {confirm.isPending ? "Confirming…" : "Confirm"}
        </button>
        <button type="button" className="btn btn-ghost btn-small" disabled={setPhone.isPending}
          onClick={() => member.alert_phone && setPhone.mutate(member.alert_phone)}>Text a new code</button>
        <span role="status" aria-live="polite" className="small">{sent ? resendMessage(sent) : ""}</span>
      </div>
      {confirm.error && <ErrorBox error={confirm.error} />}
      {setPhone.error && <ErrorBox error={setPhone.error} />}
    </form>
  );
}

function Choices({ id, businessId, member, who }: { id: string; businessId: string; member: TeamMember; who: string }) {
  const choose = useSetAlertChoices(businessId, member.user_id);
  // The choice being saved shows at once (the mutation stays pending until the team list is refetched). It is
  // state set in the click's own handler, as on the email choices page: the mutation's pending state arrives
  // a tick later, and the controlled checkbox flipped back in between (CI: "clicking did not change it").
  const [asked, setAsked] = useState<{ newLeads?: boolean; summaries?: boolean } | null>(null);
  const newLeads = asked?.newLeads ?? member.alert_new_leads;
  const summaries = asked?.summaries ?? member.alert_summaries;
  const toggle = (choice: { newLeads?: boolean; summaries?: boolean }) => {
    setAsked(choice);
    choose.mutate(choice, { onSettled: () => setAsked(null) });
  };
  return (
    <fieldset className="alert-phone-choices" disabled={choose.isPending}>
      <legend className="small">What {who} alert phone gets</legend>
      <label htmlFor={`${id}-new-leads`}>
        <input id={`${id}-new-leads`} type="checkbox" checked={newLeads}
          onChange={(e) => toggle({ newLeads: e.target.checked })} /> New-lead alerts
      </label>
      <label htmlFor={`${id}-summaries`}>
        <input id={`${id}-summaries`} type="checkbox" checked={summaries}
          onChange={(e) => toggle({ summaries: e.target.checked })} /> Lead summaries
      </label>
      {choose.error && <ErrorBox error={choose.error} />}
    </fieldset>
  );
}

function Manage({ businessId, member, who, onChange }: { businessId: string; member: TeamMember; who: string; onChange: () => void }) {
  const clear = useClearAlertPhone(businessId, member.user_id);
  return (
    <div className="actions">
      <button type="button" className="btn btn-ghost btn-small" aria-label={`Change number of ${who} alert phone`} onClick={onChange}>Change number</button>
      <button type="button" className="btn btn-ghost btn-small" disabled={clear.isPending} aria-label={`Remove ${who} alert phone`}
        onClick={() => clear.mutate()}>Remove</button>
      {clear.error && <ErrorBox error={clear.error} />}
    </div>
  );
}
