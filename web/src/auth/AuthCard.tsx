// The frame of the signed-out pages (sign in, sign up, confirm, reset): the brand, a title, an alert
// area that screen readers announce, and the page's own content.
import type { ReactNode } from "react";
import { Link } from "@tanstack/react-router";
import { passwordRuleStates } from "./password.ts";

export function AuthCard({ title, error, children, onSubmit }: {
  title: string;
  error?: string | null;
  children: ReactNode;
  onSubmit?: (event: React.FormEvent) => void;
}) {
  const body = (
    <>
      <div className="brand brand-lg"><span className="brand-mark" aria-hidden="true" />leadloop</div>
      <h1 id="auth-title">{title}</h1>
      <div role="alert" aria-live="assertive" className={error ? "alert alert-error" : "visually-hidden"}>{error ?? ""}</div>
      {children}
    </>
  );
  return (
    <main className="signin">
      {onSubmit
        ? <form className="card signin-card" onSubmit={onSubmit} aria-labelledby="auth-title" noValidate>{body}</form>
        : <section className="card signin-card" aria-labelledby="auth-title">{body}</section>}
    </main>
  );
}

/** The password policy as a checklist that ticks itself while the person types. */
export function PasswordRules({ password, id }: { password: string; id: string }) {
  return (
    <ul id={id} className="password-rules small" aria-label="Password requirements">
      {passwordRuleStates(password).map((rule) => (
        <li key={rule.id} className={rule.met ? "rule-met" : "rule-unmet"}>
          <span aria-hidden="true">{rule.met ? "✓" : "•"}</span> {rule.label}
          <span className="visually-hidden">{rule.met ? " (met)" : " (not met yet)"}</span>
        </li>
      ))}
    </ul>
  );
}

export function AuthLinks({ signIn = true, signUp = false, forgot = false }: { signIn?: boolean; signUp?: boolean; forgot?: boolean }) {
  return (
    <p className="auth-links small">
      {signIn && <Link to="/sign-in">Sign in</Link>}
      {signUp && <Link to="/sign-up">Create an account</Link>}
      {forgot && <Link to="/forgot-password">Forgot your password?</Link>}
    </p>
  );
}
