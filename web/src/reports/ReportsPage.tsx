// Reports: what happened to the business's leads over the last 7, 30 or 90 days (lead_stats): the
// totals, leads per day and speed to lead over time as uPlot charts (each with the same numbers as a
// table), and the same numbers per widget and page the form was on.
import { useMemo } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { getRouteApi, Link } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { useMembership } from "../shell/membership.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { type DayStats, type LeadStats, reportQueries } from "./queries.ts";
import { DEFAULT_PERIOD, PERIODS, periodOf } from "./search.ts";
import { type ChartSeries, TimeChart } from "./TimeChart.tsx";

const route = getRouteApi("/app/reports");

export function ReportsPage() {
  const { business } = useMembership();
  const db = useDb();
  const search = route.useSearch();
  const period = periodOf(search);
  const stats = useQuery({ ...reportQueries.stats(db, business.id, period), placeholderData: keepPreviousData });
  useDocumentTitle(`Reports, last ${period.days} days`);

  return (
    <section aria-labelledby="reports-title" className="reports">
      <div className="page-head reports-head">
        <h1 id="reports-title">Reports</h1>
        <nav aria-label="Period" className="segmented">
          {PERIODS.map((days) => (
            // exact: the router marks the active link (aria-current="page"); {} must not match ?days=90 as a subset.
            <Link key={days} to="/reports" search={days === DEFAULT_PERIOD ? {} : { days }} className="btn btn-small btn-touch"
              activeOptions={{ exact: true }}>
              {days} days
            </Link>
          ))}
        </nav>
      </div>
      {stats.isPending && <Loading what="the report" />}
      {stats.error && <ErrorBox error={stats.error} onRetry={() => void stats.refetch()} />}
      {stats.data && <Report stats={stats.data} busy={stats.isPlaceholderData} />}
    </section>
  );
}

function Report({ stats, busy }: { stats: LeadStats; busy: boolean }) {
  const days = useMemo(() => stats.days.map((d) => d.day), [stats]);
  const leadSeries = useMemo<ChartSeries[]>(() => [
    { label: "Leads", color: "#1f6feb", values: stats.days.map((d) => d.leads), bars: true },
  ], [stats]);
  const speedSeries = useMemo<ChartSeries[]>(() => [
    { label: "Median", color: "#12b76a", values: stats.days.map((d) => d.alert_median_seconds) },
    { label: "90th percentile", color: "#f79009", values: stats.days.map((d) => d.alert_p90_seconds) },
  ], [stats]);
  const busiest = stats.days.reduce<DayStats | null>((best, d) => (!best || d.leads > best.leads ? d : best), null);

  return (
    <div className="report" aria-busy={busy}>
      <dl className="tiles">
        <Tile label="Leads" value={String(stats.leads)} note={stats.duplicates ? `plus ${stats.duplicates} duplicates` : undefined} />
        <Tile label="Texted back" value={String(stats.texted)} />
        <Tile label="Replied" value={String(stats.replied)} note={`reply rate ${percent(stats.reply_rate)}`} />
        <Tile label="Completed" value={String(stats.completed)} />
        <Tile label="Opted out" value={String(stats.opted_out)} />
        <Tile label="Speed to lead" value={duration(stats.alert_median_seconds)} note={`median; 90% within ${duration(stats.alert_p90_seconds)}`} />
      </dl>

      <figure className="card chart-card">
        <figcaption>
          <h2>Leads per day</h2>
          <p className="muted small">
            {stats.leads} leads over {stats.days.length} days
            {busiest && busiest.leads > 0 ? `; the busiest day was ${dayLabel(busiest.day)} with ${busiest.leads}` : ""}.
          </p>
        </figcaption>
        <TimeChart days={days} series={leadSeries} unit="leads" />
      </figure>

      <figure className="card chart-card">
        <figcaption>
          <h2>Speed to lead</h2>
          <p className="muted small">Seconds from the form to the owner alert delivered, per day (median and 90th percentile).</p>
        </figcaption>
        <TimeChart days={days} series={speedSeries} unit="seconds" />
      </figure>

      <details className="card">
        <summary>The days as a table</summary>
        <div className="table-scroll" role="region" aria-label="Numbers per day" tabIndex={0}>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Day</th><th scope="col">Leads</th><th scope="col">Texted</th><th scope="col">Replied</th>
                <th scope="col">Completed</th><th scope="col">Opted out</th><th scope="col">Median alert</th><th scope="col">90% alert</th>
              </tr>
            </thead>
            <tbody>
              {[...stats.days].reverse().map((d) => (
                <tr key={d.day}>
                  <th scope="row">{dayLabel(d.day)}</th><td>{d.leads}</td><td>{d.texted}</td><td>{d.replied}</td>
                  <td>{d.completed}</td><td>{d.opted_out}</td><td>{duration(d.alert_median_seconds)}</td><td>{duration(d.alert_p90_seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>

      <section className="card" aria-labelledby="sources-title">
        <h2 id="sources-title">By form and page</h2>
        {stats.sources.length === 0 ? (
          <p className="muted">No leads in this period.</p>
        ) : (
          <div className="table-scroll" role="region" aria-labelledby="sources-title" tabIndex={0}>
            <table className="data-table" data-testid="sources-table">
              <thead>
                <tr>
                  <th scope="col">Form</th><th scope="col">Page</th><th scope="col">Leads</th><th scope="col">Texted</th>
                  <th scope="col">Replied</th><th scope="col">Reply rate</th><th scope="col">Completed</th>
                  <th scope="col">Opted out</th><th scope="col">Median alert</th>
                </tr>
              </thead>
              <tbody>
                {stats.sources.map((s) => (
                  <tr key={`${s.widget_id}|${s.source_page}`}>
                    <th scope="row">{s.widget_name ?? "Form removed"}</th>
                    <td className="page-cell">{s.source_page ?? <span className="muted">unknown</span>}</td>
                    <td>{s.leads}</td><td>{s.texted}</td><td>{s.replied}</td><td>{percent(s.reply_rate)}</td>
                    <td>{s.completed}</td><td>{s.opted_out}</td><td>{duration(s.alert_median_seconds)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <p className="muted small">Days are counted in the business's time zone ({stats.timezone}). Duplicates (the same phone again soon) are not counted as leads.</p>
    </div>
  );
}

function Tile({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div className="tile card">
      <dt>{label}</dt>
      <dd>
        <span className="tile-value">{value}</span>
        {note && <span className="muted small">{note}</span>}
      </dd>
    </div>
  );
}

function percent(rate: number | null): string {
  return rate === null ? "—" : `${Math.round(rate * 100)}%`;
}

function duration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function dayLabel(day: string): string {
  return new Date(`${day}T12:00:00Z`).toLocaleDateString([], { weekday: "short", month: "short", day: "numeric", timeZone: "UTC" });
}
