// Asks Auth for a reset mail. The answer is the same whether or not the address has an account, so this
// page cannot be used to find out who has one.
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { AuthCard, AuthLinks } from "./AuthCard.tsx";
import { authRedirect } from "./links.ts";
import { friendlyAuthError } from "./password.ts";

export function ForgotPassword() {
  useDocumentTitle("Reset your password");
  const db = useDb();
  const [email, setEmail] = useState("");
  const request = useMutation({
    mutationFn: async (address: string) => {
      const { error } = await db.auth.resetPasswordForEmail(address, { redirectTo: authRedirect("/auth/reset") });
      if (error) throw new Error(friendlyAuthError(error.message));
      return address;
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const address = email.trim().toLowerCase();
    if (address && !request.isPending) request.mutate(address);
  };
  if (request.isSuccess) {
    return (
      <AuthCard title="Check your email">
        <p role="status">If <strong>{request.data}</strong> has a leadloop account, a link to choose a new password is on its way. It works for an hour.</p>
        <AuthLinks />
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Reset your password" error={request.error?.message} onSubmit={onSubmit}>
      <p className="muted">We'll email you a link to choose a new password.</p>
      <label className="field">
        <span>Email</span>
        <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-primary btn-block" disabled={request.isPending}>
        {request.isPending ? "Sending…" : "Email me a reset link"}
      </button>
      <AuthLinks />
    </AuthCard>
  );
}
