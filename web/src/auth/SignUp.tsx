// Sign-up: email and a password that meets the policy (shown as a checklist), then "check your email".
// The mail carries a link (back to /auth/confirm) and a 6-digit code, so the person can confirm with
// either, on this device or another.
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { AuthCard, PasswordRules } from "./AuthCard.tsx";
import { authRedirect } from "./links.ts";
import { friendlyAuthError, passwordProblems } from "./password.ts";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function SignUp() {
  useDocumentTitle("Create your account");
  const db = useDb();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const signUp = useMutation({
    mutationFn: async (address: string) => {
      const { data, error } = await db.auth.signUp({ email: address, password, options: { emailRedirectTo: authRedirect("/auth/confirm") } });
      if (error) throw new Error(friendlyAuthError(error.message));
      return data;
    },
    onSuccess: (_data, address) => setSentTo(address),
  });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const address = email.trim().toLowerCase();
    if (!EMAIL.test(address)) return setProblem("Enter your email address, like you@example.com.");
    const missing = passwordProblems(password);
    if (missing.length > 0) return setProblem(`The password needs: ${missing.join(", ").toLowerCase()}.`);
    setProblem(null);
    if (!signUp.isPending) signUp.mutate(address);
  };

  if (sentTo) return <CheckYourEmail email={sentTo} />;
  return (
    <AuthCard title="Create your leadloop account" error={problem ?? signUp.error?.message} onSubmit={onSubmit}>
      <label className="field">
        <span>Email</span>
        <input type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <div className="field">
        <label htmlFor="signup-password">Password</label>
        <input id="signup-password" type="password" name="new-password" autoComplete="new-password" required value={password}
          aria-describedby="signup-password-rules" onChange={(e) => setPassword(e.target.value)} />
        <PasswordRules password={password} id="signup-password-rules" />
      </div>
      <button type="submit" className="btn btn-primary btn-block" disabled={signUp.isPending}>
        {signUp.isPending ? "Creating your account…" : "Create account"}
      </button>
      <p className="auth-links small">Already have an account? <Link to="/sign-in">Sign in</Link></p>
    </AuthCard>
  );
}

/** After sign-up: the link in the mail, or its code typed here; and a new mail when the first got lost. */
function CheckYourEmail({ email }: { email: string }) {
  const db = useDb();
  const navigate = useNavigate();
  const [code, setCode] = useState("");
  const verify = useMutation({
    mutationFn: async () => {
      const token = code.trim();
      if (!/^\d{6}$/.test(token)) throw new Error("Enter the 6-digit code from the email.");
      const { error } = await db.auth.verifyOtp({ email, token, type: "signup" });
      if (error) throw new Error(friendlyAuthError(error.message));
    },
    onSuccess: () => void navigate({ to: "/welcome" }),
  });
  const resend = useMutation({
    mutationFn: async () => {
      const { error } = await db.auth.resend({ type: "signup", email, options: { emailRedirectTo: authRedirect("/auth/confirm") } });
      if (error) throw new Error(friendlyAuthError(error.message));
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!verify.isPending) verify.mutate();
  };
  return (
    <AuthCard title="Check your email" error={verify.error?.message ?? resend.error?.message} onSubmit={onSubmit}>
      <p>We sent a confirmation link to <strong>{email}</strong>. Open it to finish signing up, or type the code from the email here.</p>
      <label className="field">
        <span>Code from the email</span>
        <input inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code} onChange={(e) => setCode(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-primary btn-block" disabled={verify.isPending}>
        {verify.isPending ? "Confirming…" : "Confirm email"}
      </button>
      <div className="actions">
        <button type="button" className="btn btn-ghost" disabled={resend.isPending} onClick={() => resend.mutate()}>Send the email again</button>
        <span role="status" className="small">{resend.isSuccess ? "A new email is on its way." : ""}</span>
      </div>
    </AuthCard>
  );
}
