import { LeadExportButton } from "./LeadExportButton.tsx";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { getRouteApi, Link } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { formatRelative } from "../lib/format.ts";
import { usePhoneFormat } from "../lib/usePhoneFormat.ts";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { useNow } from "../lib/useNow.ts";
import { useMembership } from "../shell/membership.tsx";
import { Chip } from "../ui/Chip.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { LEAD_PAGE_SIZE, leadQueries } from "./queries.ts";
import { leadStatusChip } from "./status.ts";

const route = getRouteApi("/app/");

export function LeadsList() {
  const { business } = useMembership();
  const db = useDb();
  const page = route.useSearch({ select: (s) => s.page ?? 1 });
  // The previous page stays on screen while the next one loads, so paging does not flash.
  const leads = useQuery({ ...leadQueries.list(db, business.id, page), placeholderData: keepPreviousData });
  const now = useNow();
  useDocumentTitle(page === 1 ? "Leads" : `Leads, page ${page}`);
  const rows = leads.data?.leads;
  const formatPhone = usePhoneFormat(rows?.map((lead) => lead.phone) ?? []);
  const first = (page - 1) * LEAD_PAGE_SIZE + 1;

  return (
    <section aria-labelledby="leads-title">
      <div className="page-head">
        <h1 id="leads-title">Leads</h1>
        <LeadExportButton businessId={business.id} />
        <Link to="/other-texts" className="btn btn-touch btn-ghost">Other texts</Link>
        {rows && rows.length > 0 && (page > 1 || leads.data?.hasOlder) && (
          <span className="muted">{first}–{first + rows.length - 1}, newest first</span>
        )}
      </div>
      {leads.isPending && <Loading what="leads" />}
      {leads.error && <ErrorBox error={leads.error} onRetry={() => void leads.refetch()} />}
      {rows && rows.length === 0 && page === 1 && (
        <div className="card empty">
          <h2>No leads yet</h2>
          <p className="muted">When someone fills in your website form, they show up here instantly.</p>
        </div>
      )}
      {rows && rows.length === 0 && page > 1 && (
        <div className="card empty">
          <h2>No leads on this page</h2>
          <Link to="/" className="btn btn-touch">Newest leads</Link>
        </div>
      )}
      {rows && rows.length > 0 && (
        <ul className="lead-list card" aria-label="Leads, newest first" data-testid="lead-list" aria-busy={leads.isPlaceholderData}>
          {rows.map((lead) => {
            const chip = leadStatusChip(lead);
            return (
              <li key={lead.id} className="lead-row" data-lead-id={lead.id}>
                <Link to="/leads/$leadId" params={{ leadId: lead.id }} className="lead-link">
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
      {(page > 1 || leads.data?.hasOlder) && (
        <nav className="pager" aria-label="Pages of leads">
          {page > 1 && (
            <Link to="/" search={page === 2 ? {} : { page: page - 1 }} className="btn btn-touch" rel="prev">← Newer</Link>
          )}
          {leads.data?.hasOlder && (
            <Link to="/" search={{ page: page + 1 }} className="btn btn-touch" rel="next">Older →</Link>
          )}
        </nav>
      )}
    </section>
  );
}
