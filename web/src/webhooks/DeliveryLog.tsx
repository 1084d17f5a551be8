// The newest deliveries: what was sent where, how it went (status code, latency, the answer's start, the
// attempts) and a Resend button that sends the same webhook-id again.
import { formatDateTime, formatRelative } from "../lib/format.ts";
import { useNow } from "../lib/useNow.ts";
import { Chip } from "../ui/Chip.tsx";
import { ErrorBox } from "../ui/States.tsx";
import { deliveryChip, hostOf, type WebhookDelivery, type WebhookEndpoint } from "./model.ts";
import { useResendDelivery } from "./queries.ts";

export function DeliveryLog({ businessId, deliveries, endpoints }: { businessId: string; deliveries: WebhookDelivery[]; endpoints: WebhookEndpoint[] }) {
  const now = useNow();
  const resend = useResendDelivery(businessId);
  const byId = new Map(endpoints.map((e) => [e.id, e]));
  if (deliveries.length === 0) {
    return <p className="muted">Nothing sent yet. Deliveries appear here as soon as events happen.</p>;
  }
  return (
    <>
      {resend.error && <ErrorBox error={resend.error} />}
      <ul className="card webhook-log">
        {deliveries.map((d) => {
          const endpoint = byId.get(d.endpoint_id);
          const chip = deliveryChip(d, endpoint?.enabled ?? false);
          const busy = resend.isPending && resend.variables === d.id;
          return (
            <li key={d.id} className="webhook-log-row">
              <div className="webhook-log-main">
                <code className="webhook-log-type">{d.event_type}</code>
                <span className="muted small webhook-url">to {endpoint ? hostOf(endpoint.url) : "a deleted endpoint"}</span>
              </div>
              <div className="webhook-log-meta">
                <Chip tone={chip.tone} label={chip.label} title={chip.detail} />
                <time dateTime={d.created_at} title={formatDateTime(d.created_at)}>{formatRelative(d.created_at, now)}</time>
                <button type="button" className="btn btn-small" disabled={busy || !endpoint?.enabled || d.status === "sending"}
                  aria-label={`Resend ${d.event_type} to ${endpoint ? hostOf(endpoint.url) : "deleted endpoint"}`}
                  title={endpoint?.enabled ? "Send it again now, with the same webhook-id" : "Turn the endpoint on to resend"}
                  onClick={() => resend.mutate(d.id)}>
                  {busy ? "Resending…" : "Resend"}
                </button>
              </div>
              <details className="webhook-log-details">
                <summary>Details</summary>
                <dl className="rows">
                  <div className="row"><dt>Status</dt><dd>{chip.detail}</dd></div>
                  <div className="row"><dt>Attempts</dt><dd>{d.attempts}{d.resent_at && ` (resent ${formatDateTime(d.resent_at)})`}</dd></div>
                  <div className="row"><dt>Response</dt><dd>{d.response_status ?? "—"}{d.latency_ms !== null && ` in ${d.latency_ms} ms`}</dd></div>
                  {d.error && <div className="row"><dt>Error</dt><dd>{d.error}</dd></div>}
                  {d.response_excerpt && <div className="row"><dt>Answer</dt><dd><pre className="pre small">{d.response_excerpt}</pre></dd></div>}
                  <div className="row"><dt>webhook-id</dt><dd><code>{d.webhook_id}</code></dd></div>
                </dl>
              </details>
            </li>
          );
        })}
      </ul>
    </>
  );
}
