// The inbox's search box and filters. Each change navigates to the first page of the new view (a
// cursor belongs to the view it was taken in); typing replaces the history entry instead of adding
// one per keystroke.
import { useEffect, useId, useState } from "react";
import { Link, useNavigate } from "@tanstack/react-router";
import { LEAD_STATUSES, type InboxCounts, type LeadStatus } from "../lib/types.ts";
import { LEAD_STATUS_LABELS } from "./pipeline.ts";
import {
  ATTENTION_FILTERS,
  type AttentionFilter,
  filtersOf,
  FOLLOWUP_FILTERS,
  type FollowupFilter,
  hasFilters,
  type LeadsSearch,
  parseStatuses,
} from "./search.ts";

const FOLLOWUP_LABELS: Record<FollowupFilter, string> = {
  texting: "Texting, waiting for a reply",
  replied: "Replied, answering",
  completed: "Completed",
  no_reply: "No reply",
  opted_out: "Opted out",
  failed: "Text failed",
  not_texted: "Not texted",
  duplicate: "Duplicate",
};

const ATTENTION_LABELS: Record<AttentionFilter, string> = {
  unread: "Unread texts",
  failed_delivery: "Failed delivery",
  dead_letter: "Given up after retries",
  notified: "Open notifications",
};

const TYPING_DELAY_MS = 350;

export function LeadsFilters({ search, counts }: { search: LeadsSearch; counts: InboxCounts | undefined }) {
  const navigate = useNavigate();
  const id = useId();
  const [typed, setTyped] = useState(search.q ?? "");
  const statuses = parseStatuses(search.status);

  const show = (change: Partial<LeadsSearch>, replace = false) =>
    void navigate({ to: "/", search: { ...filtersOf(search), ...change }, replace });

  // Follow the URL when it changes from elsewhere (back button, "Show all leads").
  useEffect(() => setTyped(search.q ?? ""), [search.q]);

  // Search as the owner types, once they pause.
  useEffect(() => {
    const q = typed.trim() || undefined;
    if (q === search.q) return;
    const timer = setTimeout(() => show({ q }, true), TYPING_DELAY_MS);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only the typed words start a search
  }, [typed]);

  const toggleStatus = (status: LeadStatus) => {
    const next = statuses.includes(status) ? statuses.filter((s) => s !== status) : [...statuses, status];
    show({ status: next.length ? LEAD_STATUSES.filter((s) => next.includes(s)).join(",") : undefined });
  };

  return (
    <div className="inbox-filters card">
      <form role="search" className="inbox-search"
        onSubmit={(event) => {
          event.preventDefault();
          show({ q: typed.trim() || undefined });
        }}>
        <label htmlFor={`${id}-q`} className="visually-hidden">Search leads</label>
        <input id={`${id}-q`} type="search" value={typed} maxLength={200} autoComplete="off"
          placeholder="Name, phone, words from the message or summary"
          onChange={(event) => setTyped(event.target.value)} />
        <button type="submit" className="btn btn-touch">Search</button>
      </form>
      <fieldset className="status-filter">
        <legend className="visually-hidden">Pipeline status</legend>
        {LEAD_STATUSES.map((status) => (
          <button key={status} type="button" className="btn btn-small btn-toggle" aria-pressed={statuses.includes(status)}
            onClick={() => toggleStatus(status)}>
            {LEAD_STATUS_LABELS[status].label}
          </button>
        ))}
      </fieldset>
      <div className="inbox-selects">
        <label className="select-field">
          <span>Follow-up</span>
          <select value={search.followup ?? ""}
            onChange={(event) => show({ followup: (event.target.value || undefined) as FollowupFilter | undefined })}>
            <option value="">Any</option>
            {FOLLOWUP_FILTERS.map((value) => <option key={value} value={value}>{FOLLOWUP_LABELS[value]}</option>)}
          </select>
        </label>
        <label className="select-field">
          <span>Needs attention</span>
          <select value={search.attention ?? ""}
            onChange={(event) => show({ attention: (event.target.value || undefined) as AttentionFilter | undefined })}>
            <option value="">Everything</option>
            {ATTENTION_FILTERS.map((value) => (
              <option key={value} value={value}>
                {ATTENTION_LABELS[value]}{counts ? ` (${counts[value]})` : ""}
              </option>
            ))}
          </select>
        </label>
        {hasFilters(search) && (
          <Link to="/" className="btn btn-ghost btn-touch clear-filters" onClick={() => setTyped("")}>Clear</Link>
        )}
      </div>
    </div>
  );
}
