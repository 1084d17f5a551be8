import { useEffect, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { Session } from "@supabase/supabase-js";
import { SignIn } from "./auth/SignIn.tsx";
import { useSession } from "./auth/useSession.ts";
import { businessQueries } from "./businesses/queries.ts";
import { LeadDetail } from "./leads/LeadDetail.tsx";
import { LeadsList } from "./leads/LeadsList.tsx";
import { useRoute } from "./lib/router.ts";
import { useDb } from "./lib/supabase.tsx";
import { useRealtimeInvalidation, type LiveState } from "./realtime/useRealtimeInvalidation.ts";
import { SettingsPage } from "./settings/SettingsPage.tsx";
import { Link } from "./ui/Link.tsx";
import { ErrorBox, Loading } from "./ui/States.tsx";

export function App() {
  const session = useSession();
  const queryClient = useQueryClient();
  // Nothing one account loaded may show up for the next one on this browser.
  useEffect(() => {
    if (session === null) queryClient.clear();
  }, [session, queryClient]);
  if (session === undefined) return <Loading what="your session" />;
  if (!session) return <SignIn />;
  return <Dashboard session={session} />;
}

const BUSINESS_KEY = "leadloop-dashboard-business";

function Dashboard({ session }: { session: Session }) {
  const db = useDb();
  const route = useRoute();
  const memberships = useQuery(businessQueries.memberships(db, session.user.id));
  const [businessId, setBusinessId] = useState<string | null>(() => localStorage.getItem(BUSINESS_KEY));
  const membership = memberships.data?.find((m) => m.business.id === businessId) ?? memberships.data?.[0] ?? null;
  const live = useRealtimeInvalidation(membership?.business.id ?? null);

  useEffect(() => {
    if (membership) localStorage.setItem(BUSINESS_KEY, membership.business.id);
  }, [membership]);

  return (
    <div className="app">
      <header className="topbar">
        <div className="topbar-inner">
          <Link href="/" className="brand"><span className="brand-mark" aria-hidden="true" />leadloop</Link>
          <nav aria-label="Main">
            <Link href="/" aria-current={route.name === "leads" || route.name === "lead" ? "page" : undefined}>Leads</Link>
            <Link href="/settings" aria-current={route.name === "settings" ? "page" : undefined}>Settings</Link>
          </nav>
          <div className="topbar-right">
            {memberships.data && memberships.data.length > 1 ? (
              <select aria-label="Business" value={membership?.business.id} onChange={(e) => setBusinessId(e.target.value)}>
                {memberships.data.map((m) => <option key={m.business.id} value={m.business.id}>{m.business.name}</option>)}
              </select>
            ) : membership && <span className="business-name">{membership.business.name}</span>}
            <LiveBadge state={live} />
            <span className="user" title={session.user.email}>{session.user.email}</span>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => void db.auth.signOut()}>Sign out</button>
          </div>
        </div>
      </header>
      <main className="content">
        {memberships.isPending && <Loading what="your business" />}
        {memberships.error && <ErrorBox error={memberships.error} onRetry={() => void memberships.refetch()} />}
        {memberships.data && !membership && (
          <div className="card empty">
            <h1>No business yet</h1>
            <p className="muted">Your account is not a member of any business. Ask the owner to add you.</p>
          </div>
        )}
        {membership && route.name === "leads" && <LeadsList business={membership.business} />}
        {membership && route.name === "lead" && <LeadDetail business={membership.business} leadId={route.leadId} />}
        {membership && route.name === "settings" && <SettingsPage membership={membership} />}
        {route.name === "not_found" && (
          <div className="card empty"><h1>Page not found</h1><Link href="/">Back to leads</Link></div>
        )}
      </main>
    </div>
  );
}

function LiveBadge({ state }: { state: LiveState }) {
  const label = state === "live" ? "Live" : state === "connecting" ? "Connecting…" : "Offline: reconnecting";
  return <span className={`live live-${state}`} role="status" title="Real-time updates">{label}</span>;
}
