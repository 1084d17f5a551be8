// In the dashboard, an owner whose business has no number or no form yet is pointed back to the wizard.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { useMembership } from "../shell/membership.tsx";
import { currentStep, STEPS } from "./model.ts";
import { onboardingQueries } from "./queries.ts";

export function SetupReminder() {
  const db = useDb();
  const { business, role } = useMembership();
  const progress = useQuery({ ...onboardingQueries.progress(db, business.id), enabled: role === "owner" });
  if (!progress.data) return null;
  const step = currentStep(progress.data);
  // The code step has its own banner on every page (OwnerPhoneBanner).
  if (step === "snippet" || step === "code") return null;
  return (
    <div className="alert alert-info">
      <span>Setup is not finished: next is {STEPS.find((s) => s.id === step)!.title.toLowerCase()}.</span>
      <Link className="btn btn-small" to="/welcome" search={{ business: business.id }}>Continue setup</Link>
    </div>
  );
}
