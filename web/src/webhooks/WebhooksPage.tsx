// Settings > Webhooks: the owner's endpoints, adding one (its secret shown once), and the delivery log,
// live over realtime (the shell's hook invalidates webhookKeys). Staff are told it is the owner's; RLS
// shows them nothing anyway.
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { useMembership } from "../shell/membership.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { DeliveryLog } from "./DeliveryLog.tsx";
import { EndpointCard } from "./EndpointCard.tsx";
import { EndpointEditor } from "./EndpointEditor.tsx";
import { SecretReveal } from "./SecretReveal.tsx";
import { useCreateEndpoint, webhookQueries } from "./queries.ts";
import "./webhooks.css";

export function WebhooksPage() {
  useDocumentTitle("Webhooks");
  const { business, role } = useMembership();
  return (
    <section aria-labelledby="webhooks-title">
      <Link to="/settings" className="back">‹ Settings</Link>
      <div className="page-head"><h1 id="webhooks-title">Webhooks</h1></div>
      <p className="muted webhook-intro">
        Send new leads, their updates, finished conversations, summaries and opt-outs to your CRM, Zapier or your own server as they
        happen. Every request is signed with the endpoint's secret (Standard Webhooks), retried for 24 hours if your server fails, and
        logged below. <a href="https://www.standardwebhooks.com/" target="_blank" rel="noreferrer">How to verify a request</a>
      </p>
      {role === "owner"
        ? <OwnerWebhooks businessId={business.id} />
        : <div className="alert alert-info">Only the business owner can see and manage webhooks.</div>}
    </section>
  );
}

function OwnerWebhooks({ businessId }: { businessId: string }) {
  const db = useDb();
  const eventTypes = useQuery(webhookQueries.eventTypes(db));
  const endpoints = useQuery(webhookQueries.endpoints(db, businessId));
  const deliveries = useQuery(webhookQueries.deliveries(db, businessId));
  const create = useCreateEndpoint(businessId);
  const [revealed, setRevealed] = useState<{ secret: string; url: string; rotated: boolean } | null>(null);
  const [formKey, setFormKey] = useState(0);

  const failed = eventTypes.error ?? endpoints.error;
  if (failed) return <ErrorBox error={failed} onRetry={() => void Promise.all([eventTypes.refetch(), endpoints.refetch()])} />;
  if (!eventTypes.data || !endpoints.data) return <Loading what="webhooks" />;
  const types = eventTypes.data;

  return (
    <>
      {revealed && <SecretReveal {...revealed} onDone={() => setRevealed(null)} />}
      <h2 className="webhook-section">Endpoints</h2>
      {endpoints.data.length === 0
        ? <p className="muted">No endpoints yet. Add the address of the server that should receive events.</p>
        : (
          <ul className="webhook-endpoints">
            {endpoints.data.map((endpoint) => (
              <EndpointCard key={endpoint.id} businessId={businessId} endpoint={endpoint} eventTypes={types}
                onSecret={(secret, url) => setRevealed({ secret, url, rotated: true })} />
            ))}
          </ul>
        )}
      <section className="card webhook-add" aria-labelledby="add-endpoint-title">
        <h2 id="add-endpoint-title">Add an endpoint</h2>
        <EndpointEditor key={formKey} initial={{ url: "", description: "", events: types.map((t) => t.type) }}
          eventTypes={types} submitLabel="Add endpoint" pending={create.isPending} error={create.error}
          onSubmit={(form) =>
            create.mutate(form, {
              onSuccess: ({ secret }) => {
                setRevealed({ secret, url: form.url.trim(), rotated: false });
                setFormKey((k) => k + 1);
                create.reset();
              },
            })} />
      </section>
      <h2 className="webhook-section">Recent deliveries</h2>
      {deliveries.isPending && <Loading what="deliveries" />}
      {deliveries.error && <ErrorBox error={deliveries.error} onRetry={() => void deliveries.refetch()} />}
      {deliveries.data && <DeliveryLog businessId={businessId} deliveries={deliveries.data} endpoints={endpoints.data} />}
    </>
  );
}
