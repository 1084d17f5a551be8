// The signed-in frame around every page: navigation (a top bar on desktop, a bottom tab bar on a
// phone), the business being shown, the realtime connection and the account controls.
import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { getRouteApi, Link, Navigate, Outlet, useRouterState } from "@tanstack/react-router";
import { businessQueries } from "../businesses/queries.ts";
import { leadQueries } from "../leads/queries.ts";
import { pickMembership, rememberBusiness } from "../businesses/selection.ts";
import { useDb } from "../lib/supabase.tsx";
import { useRealtimeInvalidation, type LiveState } from "../realtime/useRealtimeInvalidation.ts";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { MembershipProvider } from "./membership.tsx";
import { OwnerPhoneBanner } from "../owner-phone/OwnerPhoneBanner.tsx";

const appRoute = getRouteApi("/app");
// Only owners mid-setup see it: its code stays out of the first load.
const SetupReminder = lazy(() => import("../onboarding/SetupReminder.tsx").then((m) => ({ default: m.SetupReminder })));

export function AppShell() {
  const db = useDb();
  const { session } = appRoute.useRouteContext();
  const memberships = useQuery(businessQueries.memberships(db, session.user.id));
  const [chosenId, setChosenId] = useState<string | null>(null);
  const membership = memberships.data ? pickMembership(memberships.data, chosenId ?? undefined) : null;
  const live = useRealtimeInvalidation(membership?.business.id ?? null);
  const counts = useQuery({ ...leadQueries.counts(db, membership?.business.id ?? ""), enabled: Boolean(membership) });
  const unread = counts.data?.unread_messages ?? 0;
  const pathname = useRouterState({ select: (s) => s.location.pathname });
  const main = useRef<HTMLElement>(null);
  const firstPath = useRef(pathname);

  useEffect(() => {
    if (membership) rememberBusiness(membership.business.id);
  }, [membership]);

  // After a client-side navigation, start a screen reader (and the Tab key) at the new page.
  useEffect(() => {
    if (pathname !== firstPath.current) {
      firstPath.current = "";
      main.current?.focus({ preventScroll: true });
    }
  }, [pathname]);

  const onLeads = pathname === "/" || pathname.startsWith("/leads");
  return (
    <div className="app">
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to="/" className="brand">
            <span className="brand-mark" aria-hidden="true" />leadloop
          </Link>
          <nav aria-label="Main" className="main-nav">
            <Link to="/" className="nav-link" aria-current={onLeads ? "page" : undefined}>
              <NavIcon d="M4 6h16M4 12h16M4 18h10" />Leads
              {unread > 0 && (
                <span className="nav-badge" data-testid="unread-badge">
                  {unread > 99 ? "99+" : unread}<span className="visually-hidden"> unread {unread === 1 ? "text" : "texts"}</span>
                </span>
              )}
            </Link>
            <Link to="/reports" className="nav-link">
              <NavIcon d="M4 20V10M10 20V4M16 20v-7M22 20H2" />Reports
            </Link>
            <Link to="/settings" className="nav-link">
              <NavIcon d="M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6" />
              Settings
            </Link>
            <Link to="/team" className="nav-link">
              <NavIcon d="M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM1 21v-2a6 6 0 0 1 12 0v2M16 3.5a4 4 0 0 1 0 7M23 21v-2a6 6 0 0 0-4-5.6" />
              Team
            </Link>
            <Link to="/widgets" className="nav-link">
              <NavIcon d="M4 5h16v14H4zM8 9h8M8 13h5" />
              Forms
            </Link>
            <Link to="/billing" className="nav-link">
              <NavIcon d="M3 7h18v10H3zM3 11h18M7 15h3" />
              Billing
            </Link>
          </nav>
          <LiveBadge state={live} />
          <div className="account">
            {memberships.data && memberships.data.length > 1 ? (
              <select aria-label="Business" value={membership?.business.id}
                onChange={(e) => setChosenId(e.target.value)}>
                {memberships.data.map((m) => <option key={m.business.id} value={m.business.id}>{m.business.name}</option>)}
              </select>
            ) : membership && <span className="business-name">{membership.business.name}</span>}
            <span className="user" title={session.user.email}>{session.user.email}</span>
            <button type="button" className="btn btn-ghost btn-touch" onClick={() => void db.auth.signOut()}>Sign out</button>
          </div>
        </div>
      </header>
      <main id="main" className="content" ref={main} tabIndex={-1}>
        {memberships.isPending && <Loading what="your business" />}
        {memberships.error && <ErrorBox error={memberships.error} onRetry={() => void memberships.refetch()} />}
        {/* No business yet: set one up (a teammate joins through the owner's invitation instead). */}
        {memberships.data && !membership && <Navigate to="/welcome" replace />}
        {membership && (
          <MembershipProvider membership={membership}>
            <OwnerPhoneBanner />
            <Suspense fallback={null}><SetupReminder /></Suspense>
            <Outlet />
          </MembershipProvider>
        )}
      </main>
    </div>
  );
}

function NavIcon({ d }: { d: string }) {
  return (
    <svg className="nav-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={d} fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

function LiveBadge({ state }: { state: LiveState }) {
  const label = state === "live" ? "Live" : state === "connecting" ? "Connecting…" : "Offline: reconnecting";
  return <span className={`live live-${state}`} role="status" title="Real-time updates">{label}</span>;
}
