import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { AuthCard, AuthLinks } from "./AuthCard.tsx";
import { readAuthLink } from "./links.ts";
import { friendlyAuthError } from "./password.ts";
import { SignInLink } from "./SignInLink.tsx";

const signInRoute = getRouteApi("/sign-in");

/**
 * A password, or a link by email. Where the user lands after signing in is the sign-in route's job (its
 * beforeLoad redirects); a sign-in link that failed comes back here with Auth's error in the URL.
 */
export function SignIn() {
  useDocumentTitle("Sign in");
  const db = useDb();
  const { redirect } = signInRoute.useSearch();
  const [mode, setMode] = useState<"password" | "link">("password");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [linkError] = useState(() => {
    const failed = readAuthLink(window.location.href).error;
    return failed ? friendlyAuthError(failed) : null;
  });
  const signIn = useMutation({
    mutationFn: async () => {
      const { error } = await db.auth.signInWithPassword({ email: email.trim(), password });
      if (error) throw new Error(friendlyAuthError(error.message));
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!signIn.isPending) signIn.mutate();
  };
  if (mode === "link") {
    return <SignInLink initialEmail={email} redirect={redirect} onUsePassword={(typed) => { setEmail(typed); setMode("password"); }} />;
  }
  return (
    <AuthCard title="Sign in to your dashboard" error={signIn.error?.message ?? linkError} onSubmit={onSubmit}>
      <label className="field">
        <span>Email</span>
        <input type="email" name="email" autoComplete="username" required value={email}
          onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label className="field">
        <span>Password</span>
        <input type="password" name="password" autoComplete="current-password" required value={password}
          onChange={(e) => setPassword(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-primary btn-block" disabled={signIn.isPending}>
        {signIn.isPending ? "Signing in…" : "Sign in"}
      </button>
      <p className="auth-or small" aria-hidden="true">or</p>
      <button type="button" className="btn btn-block" onClick={() => setMode("link")}>Email me a sign-in link</button>
      <AuthLinks signIn={false} signUp forgot />
    </AuthCard>
  );
}
