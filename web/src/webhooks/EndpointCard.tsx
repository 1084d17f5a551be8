// One endpoint: where it sends, what, whether it is on (and why not), its secret's hint, and the owner's
// controls. Deleting and rotating ask once more in place (no browser dialog).
import { useState } from "react";
import { formatDateTime } from "../lib/format.ts";
import { Chip } from "../ui/Chip.tsx";
import { ErrorBox } from "../ui/States.tsx";
import { EndpointEditor } from "./EndpointEditor.tsx";
import { endpointChip, type WebhookEndpoint, type WebhookEventType } from "./model.ts";
import { useDeleteEndpoint, useRotateSecret, useUpdateEndpoint } from "./queries.ts";

interface Props {
  businessId: string;
  endpoint: WebhookEndpoint;
  eventTypes: WebhookEventType[];
  onSecret: (secret: string, url: string) => void;
}

export function EndpointCard({ businessId, endpoint, eventTypes, onSecret }: Props) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState<"delete" | "rotate" | null>(null);
  // The switch moves at once; the stored value takes over again when the save (and its refetch) ends.
  const [switching, setSwitching] = useState<boolean | null>(null);
  const update = useUpdateEndpoint(businessId);
  const remove = useDeleteEndpoint(businessId);
  const rotate = useRotateSecret(businessId);
  const chip = endpointChip(endpoint);
  const titleId = `endpoint-${endpoint.id}`;
  const failure = update.error ?? remove.error ?? rotate.error;

  if (editing) {
    return (
      <li className="card webhook-endpoint" aria-labelledby={titleId}>
        <h3 id={titleId} className="visually-hidden">Edit {endpoint.url}</h3>
        <EndpointEditor
          initial={{ url: endpoint.url, description: endpoint.description, events: endpoint.events }}
          eventTypes={eventTypes} submitLabel="Save endpoint" pending={update.isPending} error={update.error}
          onSubmit={(changes) => update.mutate({ id: endpoint.id, changes }, { onSuccess: () => setEditing(false) })}
          onCancel={() => {
            update.reset();
            setEditing(false);
          }} />
      </li>
    );
  }

  return (
    <li className="card webhook-endpoint" aria-labelledby={titleId}>
      <div className="webhook-endpoint-head">
        <h3 id={titleId} className="webhook-url">{endpoint.url}</h3>
        <Chip tone={chip.tone} label={chip.label} title={chip.detail} />
      </div>
      {endpoint.description && <p className="muted webhook-description">{endpoint.description}</p>}
      {chip.tone !== "success" && chip.tone !== "neutral" && <p className="small">{chip.detail}</p>}
      <ul className="webhook-event-list" aria-label="Events sent">
        {endpoint.events.map((type) => <li key={type}><code>{type}</code></li>)}
      </ul>
      <p className="small muted">
        Secret <code>{endpoint.secret_hint}</code>
        {endpoint.previous_secret_expires_at && ` · the previous secret also signs until ${formatDateTime(endpoint.previous_secret_expires_at)}`}
        {endpoint.last_success_at && ` · last delivered ${formatDateTime(endpoint.last_success_at)}`}
      </p>
      <div className="toggle webhook-toggle">
        <input id={`${titleId}-enabled`} type="checkbox" checked={switching ?? endpoint.enabled} disabled={update.isPending}
          onChange={(e) => {
            setSwitching(e.target.checked);
            update.mutate({ id: endpoint.id, changes: { enabled: e.target.checked } }, { onSettled: () => setSwitching(null) });
          }} />
        <label htmlFor={`${titleId}-enabled`}>
          <strong>Send events to this endpoint</strong>
          <span className="muted">Turned off, it gets nothing; turning it on again resumes what is still pending.</span>
        </label>
      </div>
      {failure && <ErrorBox error={failure} />}
      {confirming ? (
        <div className="actions" role="group" aria-label={confirming === "delete" ? "Confirm deleting" : "Confirm rotating"}>
          <span>{confirming === "delete" ? "Delete this endpoint and its delivery log?" : "Make a new secret? Update your server within 24 hours."}</span>
          <button type="button" className="btn btn-primary" disabled={remove.isPending || rotate.isPending}
            onClick={() => {
              if (confirming === "delete") remove.mutate(endpoint.id);
              else rotate.mutate(endpoint.id, { onSuccess: (secret) => onSecret(secret, endpoint.url) });
              setConfirming(null);
            }}>
            {confirming === "delete" ? "Delete endpoint" : "Rotate secret"}
          </button>
          <button type="button" className="btn" onClick={() => setConfirming(null)}>Keep it</button>
        </div>
      ) : (
        <div className="actions">
          <button type="button" className="btn" onClick={() => setEditing(true)}>Edit</button>
          <button type="button" className="btn" onClick={() => setConfirming("rotate")}>Rotate secret</button>
          <button type="button" className="btn btn-danger" onClick={() => setConfirming("delete")}>Delete</button>
        </div>
      )}
    </li>
  );
}
