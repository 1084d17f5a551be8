import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";

function friendlyAuthError(message: string): string {
  if (/invalid login credentials/i.test(message)) return "That email and password don't match an account.";
  if (/email not confirmed/i.test(message)) return "Confirm your email address first, then sign in.";
  if (/fetch|network/i.test(message)) return "Can't reach the server. Check your connection and try again.";
  return message;
}

/** Where the user lands after signing in is the sign-in route's job (its beforeLoad redirects). */
export function SignIn() {
  useDocumentTitle("Sign in");
  const db = useDb();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
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
  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={onSubmit} aria-labelledby="signin-title">
        <div className="brand brand-lg"><span className="brand-mark" aria-hidden="true" />leadloop</div>
        <h1 id="signin-title">Sign in to your dashboard</h1>
        <div role="alert" aria-live="assertive" className={signIn.error ? "alert alert-error" : "visually-hidden"}>
          {signIn.error?.message ?? ""}
        </div>
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
      </form>
    </main>
  );
}
