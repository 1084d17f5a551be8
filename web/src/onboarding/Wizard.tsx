// Onboarding: business -> texting number -> owner phone code -> first form -> install snippet. Which step
// shows is derived from the database (model.currentStep), so a reload, another device or coming back
// next week resumes at the first step not done.
import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi, Link, useNavigate } from "@tanstack/react-router";
import { businessQueries } from "../businesses/queries.ts";
import { rememberBusiness } from "../businesses/selection.ts";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { InstallSnippet } from "../widgets/InstallSnippet.tsx";
import { WidgetEditor } from "../widgets/WidgetEditor.tsx";
import { useCreateWidget, widgetQueries } from "../widgets/queries.ts";
import { BusinessStep } from "./BusinessStep.tsx";
import { CodeStep } from "./CodeStep.tsx";
import { currentStep, STEPS, type StepId } from "./model.ts";
import { NumberStep } from "./NumberStep.tsx";
import { onboardingKeys, onboardingQueries, type SetupBusiness } from "./queries.ts";

const welcomeRoute = getRouteApi("/welcome");

export function Wizard() {
  const db = useDb();
  const { session } = welcomeRoute.useRouteContext();
  const search = welcomeRoute.useSearch();
  const memberships = useQuery(businessQueries.memberships(db, session.user.id));
  // Without ?business=, resume the first business this user owns that is not set up yet.
  const unfinished = memberships.data?.find((m) => m.role === "owner" && (!m.business.twilio_number || !m.business.owner_phone_verified_at));
  const businessId = search.business ?? (search.new ? undefined : unfinished?.business.id);
  const progress = useQuery({ ...onboardingQueries.progress(db, businessId ?? ""), enabled: Boolean(businessId) });
  const [codeLater, setCodeLater] = useState(false);

  let step: StepId = currentStep(progress.data ?? null);
  // "Do this later" on the code: on to the form (or the snippet, once there is a form).
  if (step === "code" && codeLater) step = progress.data!.widgets > 0 ? "snippet" : "widget";
  const role = memberships.data?.find((m) => m.business.id === businessId)?.role;
  const notYours = Boolean(businessId) && (progress.data === null || role === "staff");
  const title = STEPS.find((s) => s.id === step)!.title;
  useDocumentTitle(`Set up: ${title}`);
  const loading = memberships.isPending || (businessId && progress.isPending);
  const error = memberships.error ?? progress.error;

  return (
    <main className="onboarding">
      <div className="onboarding-top">
        <div className="brand"><span className="brand-mark" aria-hidden="true" />leadloop</div>
        <button type="button" className="btn btn-ghost btn-touch" onClick={() => void db.auth.signOut()}>Sign out</button>
      </div>
      <div className="card onboarding-card">
        <h1>Set up leadloop</h1>
        <ol className="steps" aria-label="Setup steps">
          {STEPS.map((s, i) => {
            const index = STEPS.findIndex((x) => x.id === step);
            return (
              <li key={s.id} className={i < index ? "step-done" : i === index ? "step-current" : "step-todo"} aria-current={i === index ? "step" : undefined}>
                <span className="step-mark" aria-hidden="true">{i < index ? "✓" : i + 1}</span>
                <span>{s.title}{i < index && <span className="visually-hidden"> (done)</span>}</span>
              </li>
            );
          })}
        </ol>
        {error && <ErrorBox error={error} onRetry={() => { void memberships.refetch(); void progress.refetch(); }} />}
        {loading ? <Loading what="your setup" /> : !error && (
          <section aria-labelledby="step-title" className="onboarding-step">
            <h2 id="step-title">{title}</h2>
            {notYours
              ? <p className="alert alert-error">Only an owner of this business can set it up. <Link to="/welcome" search={{ new: 1 }}>Create your own business</Link></p>
              : <StepPanel step={step} business={progress.data ?? null} onCodeLater={() => setCodeLater(true)} />}
          </section>
        )}
      </div>
    </main>
  );
}

function StepPanel({ step, business, onCodeLater }: { step: StepId; business: SetupBusiness | null; onCodeLater: () => void }) {
  if (step === "business" || !business) return <BusinessStep />;
  if (step === "number") return <NumberStep business={business} />;
  if (step === "code") return <CodeStep business={business} onLater={onCodeLater} />;
  if (step === "widget") return <WidgetStep business={business} />;
  return <SnippetStep business={business} />;
}

function WidgetStep({ business }: { business: SetupBusiness }) {
  const queryClient = useQueryClient();
  const create = useCreateWidget(business.id);
  return (
    <>
      <p className="muted">The form your website shows. Leads who fill it in are texted back at once, and you get an alert.</p>
      <WidgetEditor idPrefix="first-widget" businessName={business.name} submitLabel="Create the form" saving={create.isPending}
        error={create.error}
        onSave={(input) => create.mutate(input, { onSuccess: () => void queryClient.invalidateQueries({ queryKey: onboardingKeys.progress(business.id) }) })} />
    </>
  );
}

function SnippetStep({ business }: { business: SetupBusiness }) {
  const db = useDb();
  const navigate = useNavigate();
  const widgets = useQuery(widgetQueries.list(db, business.id));
  const first = widgets.data?.[0];
  const finish = () => {
    rememberBusiness(business.id);
    void navigate({ to: "/" });
  };
  return (
    <>
      {!business.owner_phone_verified_at && (
        <div className="alert alert-warning">Lead alerts are held until you confirm {business.owner_phone}: enter the code on the dashboard.</div>
      )}
      <p>Put this on every page where the form should appear. New leads show up on your dashboard live.</p>
      {widgets.error && <ErrorBox error={widgets.error} />}
      {first ? <InstallSnippet widgetId={first.id} idPrefix="first-widget" /> : <Loading what="your form" />}
      <div className="actions">
        <button type="button" className="btn btn-primary" onClick={finish}>Go to your dashboard</button>
        <Link to="/widgets" onClick={() => rememberBusiness(business.id)}>Manage forms</Link>
      </div>
    </>
  );
}
