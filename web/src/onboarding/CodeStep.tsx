// Confirm the owner phone with the code texted to it from the new number (confirm_owner_phone). Until
// then lead alerts are saved and held; they go out the moment the phone is confirmed.
import { useQueryClient } from "@tanstack/react-query";
import { resendMessage } from "../owner-phone/code.ts";
import { CodeField, useCodeEntry } from "../owner-phone/CodeField.tsx";
import { useConfirmOwnerPhone, useResendOwnerPhoneCode } from "../owner-phone/queries.ts";
import { ErrorBox } from "../ui/States.tsx";
import { onboardingKeys, type SetupBusiness } from "./queries.ts";

export function CodeStep({ business, onLater }: { business: SetupBusiness; onLater: () => void }) {
  const queryClient = useQueryClient();
  const confirm = useConfirmOwnerPhone(business.id);
  const resend = useResendOwnerPhoneCode(business.id);
  const { onSubmit, entry } = useCodeEntry(confirm, () => void queryClient.invalidateQueries({ queryKey: onboardingKeys.progress(business.id) }));

  return (
    <form onSubmit={onSubmit} noValidate>
      <p>We texted a 6-digit code to <strong>{business.owner_phone}</strong> from {business.twilio_number}.</p>
      <p className="alert alert-info">Lead alerts are held until this phone is confirmed: they are saved and go out as soon as you enter the code.</p>
      <CodeField id="setup-code" label="Code" entry={entry} />
      <div className="actions wrap">
        <button type="submit" className="btn btn-primary" disabled={confirm.isPending}>{confirm.isPending ? "Confirming…" : "Confirm phone"}</button>
        <button type="button" className="btn btn-ghost" disabled={resend.isPending} onClick={() => resend.mutate()}>Text me a new code</button>
        <button type="button" className="btn btn-ghost" onClick={onLater}>Do this later</button>
      </div>
      <p role="status" aria-live="polite" className="small">{resend.data ? resendMessage(resend.data) : ""}</p>
      {confirm.error && <ErrorBox error={confirm.error} />}
      {resend.error && <ErrorBox error={resend.error} />}
    </form>
  );
}
