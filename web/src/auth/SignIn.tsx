import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { AuthCard, AuthLinks } from "./AuthCard.tsx";
import { friendlyAuthError } from "./password.ts";

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
    <AuthCard title="Sign in to your dashboard" error={signIn.error?.message} onSubmit={onSubmit}>
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
      <AuthLinks signIn={false} signUp forgot />
    </AuthCard>
  );
}
