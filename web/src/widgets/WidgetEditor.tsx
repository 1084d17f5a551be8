// Name, allowed sites and consent texts of a widget: used to create one (here and in onboarding) and to
// change one. Origins are checked here line by line; the consent texts are checked by the database when
// saved, and its refusal is shown beside the text it is about.
import { useState, type FormEvent } from "react";
import { ErrorBox } from "../ui/States.tsx";
import { consentProblems, defaultConsentText, LOCALES, parseOrigins, type Locale, type OriginsResult } from "./model.ts";
import type { WidgetInput } from "./queries.ts";

export interface WidgetEditorProps {
  idPrefix: string;
  businessName: string;
  initial?: WidgetInput;
  submitLabel: string;
  saving: boolean;
  error: Error | null;
  onSave: (input: WidgetInput) => void;
  onCancel?: () => void;
}

export function WidgetEditor({ idPrefix, businessName, initial, submitLabel, saving, error, onSave, onCancel }: WidgetEditorProps) {
  const [name, setName] = useState(initial?.name ?? "Website form");
  const [origins, setOrigins] = useState((initial?.allowed_origins ?? []).join("\n"));
  const [texts, setTexts] = useState<Record<Locale, string>>(initial?.consent_texts ?? {
    en: defaultConsentText("en", businessName),
    es: defaultConsentText("es", businessName),
  });
  const [originErrors, setOriginErrors] = useState<OriginsResult["errors"]>([]);
  const [nameError, setNameError] = useState<string | null>(null);
  const consent = error ? consentProblems(error.message) : null;
  const id = (field: string) => `${idPrefix}-${field}`;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseOrigins(origins);
    setOriginErrors(parsed.errors);
    const cleanName = name.trim();
    setNameError(cleanName.length < 1 || cleanName.length > 120 ? "Give the widget a name (up to 120 characters)." : null);
    if (parsed.errors.length > 0 || cleanName.length < 1 || cleanName.length > 120) return;
    setOrigins(parsed.origins.join("\n"));
    onSave({ name: cleanName, allowed_origins: parsed.origins, consent_texts: { en: texts.en.trim(), es: texts.es.trim() } });
  };

  return (
    <form className="widget-editor" onSubmit={onSubmit} noValidate>
      <div className="field">
        <label htmlFor={id("name")}>Widget name</label>
        <input id={id("name")} value={name} maxLength={120} aria-invalid={nameError ? true : undefined}
          aria-describedby={nameError ? id("name-error") : undefined} onChange={(e) => setName(e.target.value)} />
        {nameError && <small id={id("name-error")} className="field-error">{nameError}</small>}
      </div>
      <div className="field">
        <label htmlFor={id("origins")}>Websites allowed to show this form</label>
        <textarea id={id("origins")} rows={3} value={origins} spellCheck={false} placeholder="https://www.example.com"
          aria-invalid={originErrors.length > 0 ? true : undefined} aria-describedby={`${id("origins-hint")} ${id("origins-errors")}`}
          onChange={(e) => setOrigins(e.target.value)} />
        <small id={id("origins-hint")} className="muted">One per line: https:// and the host, with a port if it has one, no path (like https://www.example.com).</small>
        <ul id={id("origins-errors")} className="field-error-list">
          {originErrors.map((e) => (
            <li key={`${e.line}-${e.value}`} className="field-error">{e.value ? `Line ${e.line} (${e.value}) ${e.message}.` : `${e.message[0].toUpperCase()}${e.message.slice(1)}.`}</li>
          ))}
        </ul>
      </div>
      {LOCALES.map((locale) => {
        const problems = consent?.filter((c) => c.locale === locale.id || (locale.id === "en" && c.locale === "default")).flatMap((c) => c.problems) ?? [];
        return (
          <div className="field" key={locale.id}>
            <label htmlFor={id(`consent-${locale.id}`)}>Consent text ({locale.label})</label>
            <textarea id={id(`consent-${locale.id}`)} rows={4} value={texts[locale.id]} aria-invalid={problems.length > 0 ? true : undefined}
              aria-describedby={`${id("consent-hint")} ${id(`consent-${locale.id}-problems`)}`}
              onChange={(e) => setTexts((t) => ({ ...t, [locale.id]: e.target.value }))} />
            <ul id={id(`consent-${locale.id}-problems`)} className="field-error-list">
              {problems.map((p) => <li key={p} className="field-error">This text must {p}.</li>)}
            </ul>
          </div>
        );
      })}
      <small id={id("consent-hint")} className="muted">
        Shown next to the consent box. Carriers require it to name your business, say what the texts are about or how often they
        come, say "Msg &amp; data rates may apply", and how to stop (STOP) and get help (HELP).
      </small>
      {error && !consent && <ErrorBox error={error} />}
      {consent && <div className="alert alert-error" role="alert">The consent text is incomplete: see what is missing above.</div>}
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={saving}>{saving ? "Saving…" : submitLabel}</button>
        {onCancel && <button type="button" className="btn btn-ghost" onClick={onCancel}>Cancel</button>}
      </div>
    </form>
  );
}
