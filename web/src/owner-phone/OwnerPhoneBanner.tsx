// Until the owner phone is confirmed, owner alerts are saved but not texted: this says so on every page
// and lets the owner enter the code texted to the phone (or ask for a new one).
import { useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { useMembership } from "../shell/membership.tsx";
import { ErrorBox } from "../ui/States.tsx";
import { codeSchema, resendMessage } from "./code.ts";
import { ownerPhoneQueries, useConfirmOwnerPhone, useResendOwnerPhoneCode } from "./queries.ts";

export function OwnerPhoneBanner() {
  const db = useDb();
  const { business, role } = useMembership();
  const waiting = useQuery({ ...ownerPhoneQueries.waitingAlerts(db, business.id), enabled: !business.owner_phone_verified_at });
  const confirm = useConfirmOwnerPhone(business.id);
  const resend = useResendOwnerPhoneCode(business.id);
  const [code, setCode] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  if (business.owner_phone_verified_at) return null;
  const count = waiting.data ?? 0;
  const held = count > 0 ? ` ${count} lead alert${count === 1 ? " is" : "s are"} saved and waiting.` : "";

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = codeSchema.safeParse(code);
    if (!parsed.success) {
      setProblem(parsed.error.issues[0].message);
      return;
    }
    setProblem(null);
    confirm.mutate(parsed.data, {
      onSuccess: (ok) => setProblem(ok ? null : "That code is wrong or has expired. Check the text, or ask for a new code."),
    });
  };

  return (
    <section className="card phone-check" aria-labelledby="phone-check-title">
      <h2 id="phone-check-title">Confirm your phone to get lead alerts</h2>
      <p>
        We texted a 6-digit code to {business.owner_phone}. Lead alerts and summaries go to that phone only once it is
        confirmed.{held}
      </p>
      {role === "owner" ? (
        <form className="phone-check-form" onSubmit={onSubmit} noValidate>
          <div className="field">
            <label htmlFor="phone-code">Code</label>
            <input id="phone-code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code}
              aria-invalid={problem ? true : undefined} aria-describedby={problem ? "phone-code-problem" : undefined}
              onChange={(e) => setCode(e.target.value)} />
            {problem && <small id="phone-code-problem" className="field-error" role="alert">{problem}</small>}
          </div>
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
