// The URL, description and events of an endpoint: one form for adding one and for changing it. The
// database owns the URL policy; its refusal is shown next to the field it is about.
import { useId, useState, type FormEvent } from "react";
import { ErrorBox } from "../ui/States.tsx";
import { checkEndpointForm, type EndpointForm, type EndpointFormErrors, fieldErrorFrom, type WebhookEventType } from "./model.ts";

interface Props {
  initial: EndpointForm;
  eventTypes: WebhookEventType[];
  submitLabel: string;
  pending: boolean;
  error: Error | null;
  onSubmit: (form: EndpointForm) => void;
  onCancel?: () => void;
}

export function EndpointEditor({ initial, eventTypes, submitLabel, pending, error, onSubmit, onCancel }: Props) {
  const id = useId();
  const [form, setForm] = useState<EndpointForm>(initial);
  const [checked, setChecked] = useState<EndpointFormErrors>({});
  const serverFieldErrors = error ? fieldErrorFrom(error.message) : null;
  const errors = { ...serverFieldErrors, ...checked };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = checkEndpointForm(form);
    setChecked(found);
    if (Object.keys(found).length === 0) onSubmit(form);
  };
  const toggleEvent = (type: string, on: boolean) =>
    setForm((f) => ({ ...f, events: on ? [...f.events, type] : f.events.filter((t) => t !== type) }));

  return (
    <form className="webhook-editor" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={`${id}-url`}>Endpoint URL</label>
        <input id={`${id}-url`} type="url" inputMode="url" autoComplete="off" spellCheck={false} placeholder="https://example.com/webhooks/leadloop"
          value={form.url} aria-invalid={errors.url ? true : undefined} aria-describedby={`${id}-url-hint`}
          onChange={(e) => setForm((f) => ({ ...f, url: e.target.value }))} />
        <small id={`${id}-url-hint`} className="muted">Must start with https://. Your server answers 2xx within 15 seconds.</small>
        {errors.url && <small className="field-error" role="alert">{errors.url}</small>}
      </div>
      <div className="field">
        <label htmlFor={`${id}-description`}>Description <span className="muted">(optional)</span></label>
        <input id={`${id}-description`} maxLength={200} placeholder="CRM, Zapier, …" value={form.description}
          aria-invalid={errors.description ? true : undefined}
          onChange={(e) => setForm((f) => ({ ...f, description: e.target.value }))} />
        {errors.description && <small className="field-error" role="alert">{errors.description}</small>}
      </div>
      <fieldset className="webhook-events" aria-describedby={errors.events ? `${id}-events-error` : undefined}>
        <legend>Events to send</legend>
        {eventTypes.map((t) => (
          <div className="webhook-event" key={t.type}>
            <input id={`${id}-${t.type}`} type="checkbox" checked={form.events.includes(t.type)}
              onChange={(e) => toggleEvent(t.type, e.target.checked)} aria-describedby={`${id}-${t.type}-hint`} />
            <label htmlFor={`${id}-${t.type}`}>
              <code>{t.type}</code>
              <small id={`${id}-${t.type}-hint`} className="muted">{t.description}</small>
            </label>
          </div>
        ))}
        {errors.events && <small id={`${id}-events-error`} className="field-error" role="alert">{errors.events}</small>}
      </fieldset>
      {error && !serverFieldErrors && <ErrorBox error={error} />}
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={pending}>{pending ? "Saving…" : submitLabel}</button>
        {onCancel && <button type="button" className="btn" onClick={onCancel}>Cancel</button>}
      </div>
    </form>
  );
}
