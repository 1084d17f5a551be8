import { useQuery } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { formatPhone, formatRelative } from "../lib/format.ts";
import { useNow } from "../lib/useNow.ts";
import type { Business } from "../lib/types.ts";
import { Chip } from "../ui/Chip.tsx";
import { Link } from "../ui/Link.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { LEAD_LIST_LIMIT, leadQueries } from "./queries.ts";
import { leadStatusChip } from "./status.ts";

export function LeadsList({ business }: { business: Business }) {
  const db = useDb();
  const leads = useQuery(leadQueries.list(db, business.id));
  const now = useNow();

  return (
    <section aria-labelledby="leads-title">
      <div className="page-head">
        <h1 id="leads-title">Leads</h1>
        {leads.data && <span className="muted">{leads.data.length === LEAD_LIST_LIMIT ? `latest ${LEAD_LIST_LIMIT}` : `${leads.data.length} total`}</span>}
      </div>
      {leads.isPending && <Loading what="leads" />}
      {leads.error && <ErrorBox error={leads.error} onRetry={() => void leads.refetch()} />}
      {leads.data && leads.data.length === 0 && (
        <div className="card empty">
          <h2>No leads yet</h2>
          <p className="muted">When someone fills in your website form, they show up here instantly.</p>
        </div>
      )}
      {leads.data && leads.data.length > 0 && (
        <ul className="lead-list card" aria-label="Leads, newest first" data-testid="lead-list">
          {leads.data.map((lead) => {
            const chip = leadStatusChip(lead);
            return (
              <li key={lead.id} className="lead-row" data-lead-id={lead.id}>
                <Link href={`/leads/${lead.id}`} className="lead-link">
                  <span className="lead-main">
                    <span className="lead-name">{lead.name}</span>
                    <span className="lead-phone">{formatPhone(lead.phone)}</span>
                  </span>
                  <span className="lead-message">{lead.message ?? <em className="muted">No message</em>}</span>
                  <span className="lead-meta">
                    <Chip tone={chip.tone} label={chip.label} title={chip.detail} />
                    <time dateTime={lead.created_at} title={new Date(lead.created_at).toLocaleString()}>
                      {formatRelative(lead.created_at, now)}
                    </time>
                  </span>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
