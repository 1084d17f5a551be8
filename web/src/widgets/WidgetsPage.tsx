// The business's website forms: create, rename, change sites and consent texts, switch off and on, and
// the snippet to install each one. Staff see them; only owners change them (RLS says the same).
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Chip } from "../ui/Chip.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { useMembership } from "../shell/membership.tsx";
import { InstallSnippet } from "./InstallSnippet.tsx";
import { TestLead } from "./TestLead.tsx";
import { WidgetEditor } from "./WidgetEditor.tsx";
import { defaultConsentText, type Locale } from "./model.ts";
import { useCreateWidget, useUpdateWidget, widgetQueries, type Widget } from "./queries.ts";

export function WidgetsPage() {
  useDocumentTitle("Website forms");
  const db = useDb();
  const { business, role } = useMembership();
  const canEdit = role === "owner";
  const widgets = useQuery(widgetQueries.list(db, business.id));
  const create = useCreateWidget(business.id);
  const [adding, setAdding] = useState(false);

  return (
    <section aria-labelledby="widgets-title" className="stack">
      <div className="page-head">
        <h1 id="widgets-title">Website forms</h1>
        {canEdit && !adding && <button type="button" className="btn btn-primary" onClick={() => { create.reset(); setAdding(true); }}>New form</button>}
      </div>
      {!canEdit && <div className="alert alert-info">Only the business owner can change the forms.</div>}
      {adding && (
        <div className="card">
          <h2>New form</h2>
          <WidgetEditor idPrefix="new-widget" businessName={business.name} submitLabel="Create form" saving={create.isPending}
            error={create.error} onCancel={() => setAdding(false)}
            onSave={(input) => create.mutate(input, { onSuccess: () => setAdding(false) })} />
        </div>
      )}
      {widgets.isPending && <Loading what="your forms" />}
      {widgets.error && <ErrorBox error={widgets.error} onRetry={() => void widgets.refetch()} />}
      {widgets.data?.length === 0 && !adding && (
        <div className="card empty"><h2>No form yet</h2><p className="muted">Create a form to put on your website; leads it collects are texted back at once.</p></div>
      )}
      {widgets.data?.map((w) => <WidgetCard key={w.id} widget={w} businessName={business.name} canEdit={canEdit} />)}
    </section>
  );
}

function consentTextsOf(widget: Widget, businessName: string): Record<Locale, string> {
  return {
    en: widget.consent_texts.en ?? widget.consent_text,
    es: widget.consent_texts.es ?? defaultConsentText("es", businessName),
  };
}

function WidgetCard({ widget, businessName, canEdit }: { widget: Widget; businessName: string; canEdit: boolean }) {
  const update = useUpdateWidget(widget.business_id);
  const [editing, setEditing] = useState(false);
  const titleId = `widget-${widget.id}-title`;
  return (
    <article className="card widget-card" aria-labelledby={titleId}>
      <div className="widget-head">
        <h2 id={titleId}>{widget.name}</h2>
        {widget.active ? <Chip tone="success" label="Active" /> : <Chip tone="muted" label="Off" />}
      </div>
      <p className="small muted">Allowed on {widget.allowed_origins.join(", ")}</p>
      {editing ? (
        <WidgetEditor idPrefix={`w-${widget.id}`} businessName={businessName} submitLabel="Save changes" saving={update.isPending}
          error={update.error} onCancel={() => setEditing(false)}
          initial={{ name: widget.name, allowed_origins: widget.allowed_origins, consent_texts: consentTextsOf(widget, businessName) }}
          onSave={(changes) => update.mutate({ id: widget.id, changes }, { onSuccess: () => setEditing(false) })} />
      ) : (
        <>
          {widget.active ? <InstallSnippet widgetId={widget.id} idPrefix={`w-${widget.id}`} />
            : <p className="muted">This form is off: sites that embed it show nothing and nothing can be submitted.</p>}
          {canEdit && widget.active && <TestLead widgetId={widget.id} />}
          {canEdit && (
            <div className="actions">
              <button type="button" className="btn btn-ghost" onClick={() => { update.reset(); setEditing(true); }}>Edit</button>
              <button type="button" className="btn btn-ghost" disabled={update.isPending}
                onClick={() => update.mutate({ id: widget.id, changes: { active: !widget.active } })}>
                {widget.active ? "Turn off" : "Turn on"}
              </button>
            </div>
          )}
          {update.error && <ErrorBox error={update.error} />}
        </>
      )}
    </article>
  );
}
