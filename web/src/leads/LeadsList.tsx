// The inbox: the business's leads newest first, searchable and filtered, one keyset page at a time.
// Everything that defines the view (words, filters, the page's cursor) is in the URL, so a link or
// the back button returns to the same place. Realtime invalidation refetches the page on screen: on
// the first page a new lead appears at the top (and is announced); a later page, bounded by its
// cursor, does not move.
import { useEffect, useRef, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { getRouteApi, Link } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { LeadExportButton } from "./LeadExportButton.tsx";
import { formatRelative } from "../lib/format.ts";
import { usePhoneFormat } from "../lib/usePhoneFormat.ts";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { useNow } from "../lib/useNow.ts";
import type { LeadListRow } from "../lib/types.ts";
import { useMembership } from "../shell/membership.tsx";
import { Chip } from "../ui/Chip.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { LeadsFilters } from "./LeadsFilters.tsx";
import { LEAD_STATUS_LABELS } from "./pipeline.ts";
import { leadQueries } from "./queries.ts";
import { filtersOf, hasFilters } from "./search.ts";
import { leadStatusChip } from "./status.ts";
import { readOwnerSummary } from "./summary.ts";

const route = getRouteApi("/app/");

export function LeadsList() {
  const { business } = useMembership();
  const db = useDb();
  const search = route.useSearch();
  // The previous page stays on screen while the next one loads, so paging and typing do not flash.
  const leads = useQuery({ ...leadQueries.list(db, business.id, search), placeholderData: keepPreviousData });
  const counts = useQuery(leadQueries.counts(db, business.id));
  const now = useNow();
  const firstPage = !search.before && !search.after;
  const filtered = hasFilters(search);
  useDocumentTitle(search.q ? `Leads matching “${search.q}”` : firstPage ? "Leads" : "Leads, older page");
  const rows = leads.data?.leads;
  const formatPhone = usePhoneFormat(rows?.map((lead) => lead.phone) ?? []);
  const filters = filtersOf(search);
  const arrived = useArrivals(firstPage && !leads.isPlaceholderData ? rows : undefined, JSON.stringify(filters));

  return (
    <section aria-labelledby="leads-title" className="inbox">
      <div className="page-head">
        <h1 id="leads-title">Leads</h1>
        {counts.data && counts.data.unread > 0 && (
          <Link to="/" search={{ attention: "unread" }} className="head-link">{counts.data.unread} with unread texts</Link>
        )}
        {counts.data && counts.data.open_notifications > 0 && (
          <Link to="/" search={{ attention: "notified" }} className="head-link">
            {counts.data.open_notifications} open {counts.data.open_notifications === 1 ? "notification" : "notifications"}
          </Link>
        )}
        <LeadExportButton businessId={business.id} />
        <Link to="/other-texts" className="btn btn-touch btn-ghost">Other texts</Link>
      </div>
      <LeadsFilters search={search} counts={counts.data} />
      <p className="visually-hidden" role="status" aria-live="polite">
        {arrived.size > 0 ? `${arrived.size} new ${arrived.size === 1 ? "lead" : "leads"} at the top` : ""}
      </p>
      {leads.isPending && <Loading what="leads" />}
      {leads.error && <ErrorBox error={leads.error} onRetry={() => void leads.refetch()} />}
      {rows && rows.length === 0 && (
        <div className="card empty">
          {firstPage && !filtered ? (
            <>
              <h2>No leads yet</h2>
              <p className="muted">When someone fills in your website form, they show up here instantly.</p>
            </>
          ) : (
            <>
              <h2>{firstPage ? "No leads match" : "No leads on this page"}</h2>
              <p className="muted">{filtered ? "Try other words or fewer filters." : "The leads here may have been removed."}</p>
              {filtered && <Link to="/" className="btn btn-touch">Show all leads</Link>}
            </>
          )}
        </div>
      )}
      {rows && rows.length > 0 && (
        <ul className="lead-list card" aria-label={filtered ? "Matching leads, newest first" : "Leads, newest first"}
          data-testid="lead-list" aria-busy={leads.isPlaceholderData}>
          {rows.map((lead) => (
            <LeadRow key={lead.id} lead={lead} phone={formatPhone(lead.phone)} now={now} arrived={arrived.has(lead.id)} />
          ))}
        </ul>
      )}
      {(leads.data?.newer || leads.data?.older) && (
        <nav className="pager" aria-label="Pages of leads">
          {leads.data.newer && (
            <>
              <Link to="/" search={filters} className="btn btn-touch">Newest</Link>
              <Link to="/" search={{ ...filters, after: leads.data.newer }} className="btn btn-touch" rel="prev">← Newer</Link>
            </>
          )}
          {leads.data.older && (
            <Link to="/" search={{ ...filters, before: leads.data.older }} className="btn btn-touch" rel="next">Older →</Link>
          )}
        </nav>
      )}
    </section>
  );
}

function LeadRow({ lead, phone, now, arrived }: { lead: LeadListRow; phone: string; now: Date; arrived: boolean }) {
  const chip = leadStatusChip(lead);
  const pipeline = LEAD_STATUS_LABELS[lead.status];
  const need = readOwnerSummary(lead.conversation?.summary)?.need;
  const unread = lead.unread_count > 0;
  return (
    <li className={`lead-row${unread ? " lead-unread" : ""}${arrived ? " lead-arrived" : ""}`} data-lead-id={lead.id}>
      <Link to="/leads/$leadId" params={{ leadId: lead.id }} className="lead-link">
        <span className="lead-main">
          <span className="lead-name">
            {lead.name}
            {unread && (
              <span className="unread-badge" aria-label={`${lead.unread_count} unread ${lead.unread_count === 1 ? "text" : "texts"}`}>
                {lead.unread_count}
              </span>
            )}
          </span>
          <span className="lead-phone">{phone}</span>
        </span>
        <span className="lead-message">
          {need ?? lead.message ?? <em className="muted">No message</em>}
        </span>
        <span className="lead-meta">
          <Chip tone={pipeline.tone} label={pipeline.label} title="Pipeline status" />
          <Chip tone={chip.tone} label={chip.label} title={chip.detail} />
          <time dateTime={lead.created_at} title={new Date(lead.created_at).toLocaleString()}>
            {formatRelative(lead.created_at, now)}
          </time>
        </span>
      </Link>
    </li>
  );
}

/**
 * Ids of leads that appeared at the top of the first page after it was first shown (live arrivals),
 * so they can be marked and announced. A new search or filter starts over.
 */
function useArrivals(rows: LeadListRow[] | undefined, view: string): Set<string> {
  // The newest lead seen in this view: anything newer arrived while the page was open.
  const seen = useRef<{ view: string; newest: string } | null>(null);
  const [arrived, setArrived] = useState<Set<string>>(new Set());
  useEffect(() => {
    if (!rows) return;
    const newest = rows[0]?.created_at ?? "";
    if (!seen.current || seen.current.view !== view) {
      seen.current = { view, newest };
      setArrived(new Set());
      return;
    }
    const since = seen.current.newest;
    const fresh = rows.filter((row) => Date.parse(row.created_at) > Date.parse(since || "1970-01-01")).map((row) => row.id);
    if (newest && (!since || Date.parse(newest) > Date.parse(since))) seen.current.newest = newest;
    if (fresh.length) setArrived((previous) => new Set([...previous, ...fresh]));
  }, [rows, view]);
  return arrived;
}
