import { useEffect, useState, type FormEvent } from "react";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { useMembership } from "../shell/membership.tsx";
import { ErrorBox } from "../ui/States.tsx";
import { useUpdateBusinessSettings } from "./queries.ts";
import { changedSettings, MAX_DAILY_SMS_CAP, settingsFormFrom, validateSettings, type SettingsForm } from "./validation.ts";

export function SettingsPage() {
  useDocumentTitle("Follow-up settings");
  const { business, role } = useMembership();
  const canEdit = role === "owner";
  const [form, setForm] = useState<SettingsForm>(() => settingsFormFrom(business));
  const [errors, setErrors] = useState<Partial<Record<keyof SettingsForm, string>>>({});
  const [saved, setSaved] = useState(false);
  const update = useUpdateBusinessSettings(business.id);

  // A save elsewhere (or the refetch after ours) brings new values: show them.
  useEffect(() => setForm(settingsFormFrom(business)), [business]);

  const set = <K extends keyof SettingsForm>(key: K, value: SettingsForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setSaved(false);
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const result = validateSettings(form);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    const changes = changedSettings(business, result.value);
    if (Object.keys(changes).length === 0) {
      setSaved(true);
      return;
    }
    update.mutate(changes, { onSuccess: () => setSaved(true) });
  };

  const field = (key: keyof SettingsForm, label: string, hint: string, input: React.ReactNode) => (
    <div className="field">
      <label htmlFor={`s-${key}`}>{label}</label>
      {input}
      <small id={`s-${key}-hint`} className="muted">{hint}</small>
      {errors[key] && <small className="field-error" role="alert">{errors[key]}</small>}
    </div>
  );
  const numberInput = (key: "nudge_delay_minutes" | "idle_timeout_minutes" | "max_questions" | "daily_sms_cap", min: number, max: number) => (
    <input id={`s-${key}`} type="number" inputMode="numeric" min={min} max={max} value={form[key]} disabled={!canEdit}
      aria-invalid={errors[key] ? true : undefined} aria-describedby={`s-${key}-hint`}
      onChange={(e) => set(key, e.target.value)} />
  );

  return (
    <section aria-labelledby="settings-title">
      <div className="page-head"><h1 id="settings-title">Follow-up settings</h1></div>
      {!canEdit && <div className="alert alert-info">Only the business owner can change these settings.</div>}
      {business.sending_problem && <div className="alert alert-error">Texting problem: {business.sending_problem}</div>}
      <form className="card settings" onSubmit={onSubmit} noValidate>
        <div className="toggle">
          <input id="s-followup_enabled" type="checkbox" checked={form.followup_enabled} disabled={!canEdit}
            onChange={(e) => set("followup_enabled", e.target.checked)} />
          <label htmlFor="s-followup_enabled">
            <strong>Text new leads back automatically</strong>
            <span className="muted">Only leads who ticked the SMS consent box are texted. You are alerted about every lead either way.</span>
          </label>
        </div>
        <fieldset>
          <legend>Quiet hours <span className="muted">(each lead's local time)</span></legend>
          <div className="grid-2">
            {field("quiet_hours_start", "Texting starts", "Texts to a lead wait until this time where the lead is (08:00 at the earliest).",
              <input id="s-quiet_hours_start" type="time" value={form.quiet_hours_start} disabled={!canEdit}
                aria-describedby="s-quiet_hours_start-hint" onChange={(e) => set("quiet_hours_start", e.target.value)} />)}
            {field("quiet_hours_end", "Texting ends", "After this (21:00 at the latest; 20:00 in FL, OK and MD) texts wait for the next morning.",
              <input id="s-quiet_hours_end" type="time" value={form.quiet_hours_end} disabled={!canEdit}
                aria-invalid={errors.quiet_hours_end ? true : undefined}
                aria-describedby="s-quiet_hours_end-hint" onChange={(e) => set("quiet_hours_end", e.target.value)} />)}
          </div>
        </fieldset>
        <div className="grid-3">
          {field("nudge_delay_minutes", "Nudge after (minutes)", "One reminder if the lead goes quiet. 5–10080.", numberInput("nudge_delay_minutes", 5, 10080))}
          {field("idle_timeout_minutes", "Close after (minutes)", "Wrap up and summarize a quiet conversation. 15–20160.", numberInput("idle_timeout_minutes", 15, 20160))}
          {field("max_questions", "Max questions", "How many questions to ask at most. 1–6.", numberInput("max_questions", 1, 6))}
        </div>
        <div className="grid-3">
          {field("daily_sms_cap", "Texts per day", `Alerts to you and texts to leads together; more are not sent that day. 1–${MAX_DAILY_SMS_CAP.toLocaleString("en-US")}.`,
            numberInput("daily_sms_cap", 1, MAX_DAILY_SMS_CAP))}
        </div>
        {update.error && <ErrorBox error={update.error} />}
        {canEdit && (
          <div className="actions">
            <button type="submit" className="btn btn-primary" disabled={update.isPending}>
              {update.isPending ? "Saving…" : "Save settings"}
            </button>
            <span role="status" aria-live="polite" className="saved">{saved && !update.isPending ? "Saved" : ""}</span>
          </div>
        )}
      </form>
    </section>
  );
}
