// The owner's own wording of the lead alert, the first text to a lead and the reminder, per language,
// with a live preview the database renders exactly as it would send it (sample lead data) and the
// segment count carriers bill. Owners edit, save and reset; staff read.
import { useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { useMembership } from "../shell/membership.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { LOCALES } from "./business.ts";
import { settingsQueries, useResetTemplate, useSaveTemplate } from "./queries.ts";
import { describeSegments, draftFrom, usesFirstName, type TemplateDraft, type TemplateRow } from "./templates.ts";

export function TemplatesSection() {
  const db = useDb();
  const { business } = useMembership();
  const list = useQuery(settingsQueries.templates(db, business.id));
  const [selected, setSelected] = useState({ key: "text_back", locale: business.default_locale });
  const rows = list.data ?? [];
  const keys = [...new Map(rows.map((r) => [r.key, r.label])).entries()];
  const row = rows.find((r) => r.key === selected.key && r.locale === selected.locale);

  return (
    <section className="card settings" aria-labelledby="templates-title">
      <h2 id="templates-title">Your texts</h2>
      <p className="muted">Reword what leadloop texts for you. Placeholders in braces, like {"{business}"}, are filled in for each lead.</p>
      {list.isPending && <Loading what="your texts" />}
      {list.error && <ErrorBox error={list.error} onRetry={() => void list.refetch()} />}
      {rows.length > 0 && (
        <div className="grid-2">
          <div className="field">
            <label htmlFor="t-key">Text</label>
            <select id="t-key" value={selected.key} onChange={(e) => setSelected((s) => ({ ...s, key: e.target.value }))}>
              {keys.map(([key, label]) => <option key={key} value={key}>{label}</option>)}
            </select>
          </div>
          <div className="field">
            <label htmlFor="t-locale">Language</label>
            <select id="t-locale" value={selected.locale} onChange={(e) => setSelected((s) => ({ ...s, locale: e.target.value }))}>
              {LOCALES.map((l) => <option key={l.value} value={l.value}>{l.label}</option>)}
            </select>
          </div>
        </div>
      )}
      {row && <TemplateEditor key={`${row.key}:${row.locale}`} row={row} />}
    </section>
  );
}

/** Waits until typing pauses, so the preview asks the database once per pause, not per keystroke. */
function useSettled<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function TemplateEditor({ row }: { row: TemplateRow }) {
  const db = useDb();
  const { business, role } = useMembership();
  const canEdit = role === "owner";
  const [draft, setDraft] = useState<TemplateDraft>(() => draftFrom(row));
  const [saved, setSaved] = useState("");
  const settled = useSettled(draft);
  const preview = useQuery({ ...settingsQueries.preview(db, business.id, settled), placeholderData: (previous) => previous });
  const save = useSaveTemplate(business.id);
  const reset = useResetTemplate(business.id);
  const withName = usesFirstName(draft.body);
  const edited = row.body !== null;
  const problem = preview.data?.problem ?? null;

  const change = (patch: Partial<TemplateDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setSaved("");
  };
  const onSave = () => save.mutate(draft, { onSuccess: () => setSaved("Saved: texts from now on use it") });
  const onReset = () => reset.mutate({ key: row.key, locale: row.locale }, {
    onSuccess: () => {
      setDraft(draftFrom({ ...row, body: null, body_without_name: null }));
      setSaved("Back to leadloop's wording");
    },
  });

  return (
    <div className="template-editor">
      <p className="small">
        {edited ? "Your wording." : "leadloop's wording."} You can use{" "}
        {row.placeholders.map((p) => <code key={p}>{`{${p}}`} </code>)}
        {row.required.length > 0 && <>and must keep {row.required.map((p) => <code key={p}>{`{${p}}`} </code>)}</>}
        {row.needs_opt_out && <>. Texts to leads must keep “Reply STOP to opt out”.</>}
      </p>
      <div className="field">
        <label htmlFor="t-body">Wording</label>
        <textarea id="t-body" rows={row.audience === "owner" ? 6 : 3} value={draft.body} readOnly={!canEdit}
          aria-describedby="t-preview" onChange={(e) => change({ body: e.target.value })} />
      </div>
      {withName && (
        <div className="field">
          <label htmlFor="t-body-without-name">When the lead's first name is unknown</label>
          <textarea id="t-body-without-name" rows={3} value={draft.bodyWithoutName} readOnly={!canEdit}
            onChange={(e) => change({ bodyWithoutName: e.target.value })} />
        </div>
      )}
      <div id="t-preview" className="template-preview" aria-live="polite">
        <h3>Preview <span className="muted small">(a sample lead, exactly as it would be sent)</span></h3>
        {preview.error && <ErrorBox error={preview.error} />}
        {problem && <p className="field-error" role="alert">Can't use this yet: {problem}</p>}
        {!problem && preview.data?.text && <PreviewBubble text={preview.data.text} />}
        {!problem && withName && preview.data?.text_without_name && <PreviewBubble text={preview.data.text_without_name} label="Without a first name" />}
      </div>
      {save.error && <ErrorBox error={save.error} />}
      {reset.error && <ErrorBox error={reset.error} />}
      {canEdit && (
        <div className="actions">
          <button type="button" className="btn btn-primary" disabled={save.isPending || problem !== null || settled !== draft} onClick={onSave}>
            {save.isPending ? "Saving…" : "Save text"}
          </button>
          <button type="button" className="btn btn-ghost" disabled={!edited || reset.isPending} onClick={onReset}>Reset to default</button>
          <span role="status" aria-live="polite" className="saved">{saved}</span>
        </div>
      )}
    </div>
  );
}

function PreviewBubble({ text, label }: { text: string; label?: string }) {
  const { info, label: segments } = describeSegments(text);
  return (
    <figure className="sms-preview">
      {label && <figcaption className="small muted">{label}</figcaption>}
      <p className="sms-bubble">{text}</p>
      <p className={`small ${info.segments > 2 ? "field-error" : "muted"}`} data-testid="segments">
        {segments}{info.encoding === "UCS-2" ? " (an accent or emoji outside GSM-7 makes every segment shorter)" : ""}
      </p>
    </figure>
  );
}
