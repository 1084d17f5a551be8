// Where the recovery link lands, signed in by it (supabase-js reads the link): choose a new password with
// updateUser. Without a session (the link expired, or was opened elsewhere) the person asks for a new one.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { Loading } from "../ui/States.tsx";
import { AuthCard, PasswordRules } from "./AuthCard.tsx";
import { readAuthLink } from "./links.ts";
import { friendlyAuthError, passwordProblems } from "./password.ts";

export function ResetPassword() {
  useDocumentTitle("Choose a new password");
  const db = useDb();
  const navigate = useNavigate();
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const session = useQuery({
    queryKey: ["auth", "recovery-session"],
    queryFn: async () => (await db.auth.getSession()).data.session,
    staleTime: 0,
    gcTime: 0,
  });
  const update = useMutation({
    mutationFn: async () => {
      const { error } = await db.auth.updateUser({ password });
      if (error) throw new Error(friendlyAuthError(error.message));
    },
    onSuccess: () => void navigate({ to: "/", replace: true }),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const missing = passwordProblems(password);
    if (missing.length > 0) return setProblem(`The password needs: ${missing.join(", ").toLowerCase()}.`);
    setProblem(null);
    if (!update.isPending) update.mutate();
  };

  if (session.isPending) return <main className="signin"><Loading what="your reset link" /></main>;
  if (!session.data) {
    const linkError = readAuthLink(window.location.href).error;
    return (
      <AuthCard title="This reset link did not work" error={linkError ? friendlyAuthError(linkError) : "The link has expired or was already used."}>
        <p className="auth-links small"><Link to="/forgot-password">Send me a new link</Link><Link to="/sign-in">Sign in</Link></p>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Choose a new password" error={problem ?? update.error?.message} onSubmit={onSubmit}>
      <p className="muted">For {session.data.user.email}. Other devices signed in to this account will be signed out.</p>
      <div className="field">
        <label htmlFor="reset-password">New password</label>
        <input id="reset-password" type="password" autoComplete="new-password" value={password} aria-describedby="reset-password-rules"
          onChange={(e) => setPassword(e.target.value)} />
        <PasswordRules password={password} id="reset-password-rules" />
      </div>
      <button type="submit" className="btn btn-primary btn-block" disabled={update.isPending}>
        {update.isPending ? "Saving…" : "Save new password"}
      </button>
    </AuthCard>
  );
}
