// Settings > Email: each member chooses, per business, whether new leads and summaries also come by email.
// Every email's footer links here. Owners' critical emails are not optional and are explained instead.
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { businessQueries } from "../businesses/queries.ts";
import { useDb } from "../lib/supabase.tsx";
import type { Membership } from "../lib/types.ts";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { type EmailChoice, emailQueries, NO_EMAIL, useSaveEmailChoice } from "./queries.ts";

const appRoute = getRouteApi("/app");

const CHOICES: Array<{ key: keyof EmailChoice; label: string; hint: string }> = [
  { key: "lead_alerts", label: "Email me every new lead", hint: "Who they are, their message and the page, with one-tap call and text links." },
  { key: "summaries", label: "Email me each lead's summary", hint: "What they need, when and where, once the conversation is done." },
];

export function EmailPreferencesPage() {
  useDocumentTitle("Email alerts");
  const db = useDb();
  const { session } = appRoute.useRouteContext();
  const userId = session.user.id;
  const memberships = useQuery(businessQueries.memberships(db, userId));
  const preferences = useQuery(emailQueries.preferences(db, userId));
  const error = memberships.error ?? preferences.error;

  return (
    <section aria-labelledby="email-title">
      <div className="page-head"><h1 id="email-title">Email alerts</h1></div>
      <p className="muted email-intro">
        Texts to your phone stay as they are; these emails come in addition, to <strong>{session.user.email}</strong>.
        Everyone on the team chooses their own.
      </p>
      {!session.user.email_confirmed_at && (
        <div className="alert alert-warning" role="status">
          Your email address is not confirmed yet: nothing is emailed to it until you follow the link we sent you.
        </div>
      )}
      {(memberships.isPending || preferences.isPending) && !error && <Loading what="your email choices" />}
      {error && <ErrorBox error={error} onRetry={() => void Promise.all([memberships.refetch(), preferences.refetch()])} />}
      {memberships.data && preferences.data && memberships.data.map((membership) => (
        <BusinessChoices key={membership.business.id} membership={membership} userId={userId}
          saved={preferences.data[membership.business.id] ?? NO_EMAIL} />
      ))}
    </section>
  );
}

function BusinessChoices({ membership, userId, saved }: { membership: Membership; userId: string; saved: EmailChoice }) {
  const save = useSaveEmailChoice(userId);
  const [done, setDone] = useState(false);
  const id = membership.business.id;
  // While a save is on its way, show what was asked for; after it, what the database holds. The choice is
  // state set in the click's own handler: the mutation's pending state arrives a tick later, and a
  // controlled checkbox would flip back in between.
  const [asked, setAsked] = useState<EmailChoice | null>(null);
  const shown = asked ?? saved;

  const toggle = (key: keyof EmailChoice, value: boolean) => {
    const choice = { ...shown, [key]: value };
    setAsked(choice);
    setDone(false);
    save.mutate({ businessId: id, choice }, { onSuccess: () => setDone(true), onSettled: () => setAsked(null) });
  };

  return (
    <fieldset className="card email-business" aria-describedby={`email-${id}-status`}>
      <legend><strong>{membership.business.name}</strong> <span className="muted">({membership.role === "owner" ? "owner" : "team member"})</span></legend>
      {CHOICES.map(({ key, label, hint }) => (
        <div className="toggle" key={key}>
          <input id={`email-${id}-${key}`} type="checkbox" checked={shown[key]} disabled={save.isPending}
            aria-describedby={`email-${id}-${key}-hint`} onChange={(e) => toggle(key, e.target.checked)} />
          <label htmlFor={`email-${id}-${key}`}>
            <strong>{label}</strong>
            <span id={`email-${id}-${key}-hint`} className="muted">{hint}</span>
          </label>
        </div>
      ))}
      {membership.role === "owner" && (
        <p className="muted email-always">
          As an owner you also always get an email when a text to you cannot be delivered, and for every problem that needs
          you (a payment overdue, a webhook turned off). Those cannot be turned off here.
        </p>
      )}
      {save.error && <ErrorBox error={save.error} />}
      <span id={`email-${id}-status`} role="status" aria-live="polite" className="saved">{done && !save.isPending ? "Saved" : ""}</span>
    </fieldset>
  );
}
