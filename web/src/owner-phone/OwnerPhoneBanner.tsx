// Until the owner phone is confirmed, owner alerts are saved but not texted: this says so on every page
// and lets the owner enter the code texted to the phone (or ask for a new one).
import { useQuery } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { useMembership } from "../shell/membership.tsx";
import { ErrorBox } from "../ui/States.tsx";
import { resendMessage } from "./code.ts";
import { CodeField, useCodeEntry } from "./CodeField.tsx";
import { ownerPhoneQueries, useConfirmOwnerPhone, useResendOwnerPhoneCode } from "./queries.ts";

export function OwnerPhoneBanner() {
  const db = useDb();
  const { business, role } = useMembership();
  const waiting = useQuery({ ...ownerPhoneQueries.waitingAlerts(db, business.id), enabled: !business.owner_phone_verified_at });
  const confirm = useConfirmOwnerPhone(business.id);
  const resend = useResendOwnerPhoneCode(business.id);
  const { onSubmit, entry } = useCodeEntry(confirm);

  if (business.owner_phone_verified_at) return null;
  const count = waiting.data ?? 0;
  const held = count > 0 ? ` ${count} lead alert${count === 1 ? " is" : "s are"} saved and waiting.` : "";

  return (
    <section className="card phone-check" aria-labelledby="phone-check-title">
      <h2 id="phone-check-title">Confirm your phone to get lead alerts</h2>
      <p>
        We texted a 6-digit code to {business.owner_phone}. Lead alerts and summaries go to that phone only once it is
        confirmed.{held}
      </p>
      {role === "owner" ? (
        <form className="phone-check-form" onSubmit={onSubmit} noValidate>
          <CodeField id="phone-code" label="Code" entry={entry} />
          <div className="actions">
            <button type="submit" className="btn btn-primary" disabled={confirm.isPending}>
              {confirm.isPending ? "Confirming…" : "Confirm phone"}
            </button>
            <button type="button" className="btn btn-ghost" disabled={resend.isPending} onClick={() => resend.mutate()}>
              Text me a new code
            </button>
            <span role="status" aria-live="polite" className="small">{resend.data ? resendMessage(resend.data) : ""}</span>
          </div>
          {confirm.error && <ErrorBox error={confirm.error} />}
          {resend.error && <ErrorBox error={resend.error} />}
        </form>
      ) : (
        <p className="muted">Only the business owner can confirm the phone.</p>
      )}
    </section>
  );
}
