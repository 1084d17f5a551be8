// The link in an invitation email lands here (signed in first: the route sends strangers to sign-in and
// back). Joining is a deliberate click, so a mail scanner that follows the link joins nobody.
import { useNavigate, getRouteApi } from "@tanstack/react-router";
import { rememberBusiness } from "../businesses/selection.ts";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { useDb } from "../lib/supabase.tsx";
import { useAcceptInvitation } from "./queries.ts";
import "./team.css";

const joinRoute = getRouteApi("/join");

export function AcceptInvitation() {
  useDocumentTitle("Join a team");
  const db = useDb();
  const { token } = joinRoute.useSearch();
  const { session } = joinRoute.useRouteContext();
  const accept = useAcceptInvitation();
  const navigate = useNavigate();

  const onAccept = () => {
    if (!token) return;
    accept.mutate(token, {
      onSuccess: (businessId) => {
        rememberBusiness(businessId);
        void navigate({ to: "/" });
      },
    });
  };

  return (
    <main id="main" className="accept-page">
      <section className="card" aria-labelledby="join-title">
        <h1 id="join-title">Join the team</h1>
        {!token ? (
          <p className="field-error" role="alert">This invitation link is incomplete: open the whole link from the email.</p>
        ) : (
          <>
            <p>You are signed in as <strong>{session.user.email}</strong>. The invitation must be for this address.</p>
            <div className="actions">
              <button type="button" className="btn btn-primary" disabled={accept.isPending} onClick={onAccept}>
                {accept.isPending ? "Joining…" : "Accept invitation"}
              </button>
              <button type="button" className="btn btn-ghost" onClick={() => void db.auth.signOut().then(() => navigate({ to: "/sign-in", search: { redirect: `/join?token=${token}` } }))}>
                Use another account
              </button>
            </div>
            {accept.error && <p className="field-error" role="alert">{accept.error.message}</p>}
          </>
        )}
      </section>
    </main>
  );
}
