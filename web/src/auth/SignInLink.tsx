// "Email me a sign-in link": the address, then a "check your inbox" state that also takes the code from
// the same mail (for a link opened on another device). Following the link, or a right code, signs this
// browser in; the sign-in route then sends the person on (see signInLink.ts for where the link lands).
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { useDb } from "../lib/supabase.tsx";
import { codeSchema } from "../owner-phone/code.ts";
import { AuthCard } from "./AuthCard.tsx";
import { friendlyAuthError } from "./password.ts";
import { signInLinkProblem, signInLinkRedirect } from "./signInLink.ts";

export function SignInLink({ initialEmail, redirect, onUsePassword }: {
  initialEmail: string;
  redirect: string | undefined;
  onUsePassword: (email: string) => void;
}) {
  const db = useDb();
  const [email, setEmail] = useState(initialEmail);
  const [code, setCode] = useState("");
  const [emailProblem, setEmailProblem] = useState<string | null>(null);
  const [codeProblem, setCodeProblem] = useState<string | null>(null);
  const send = useMutation({
    mutationFn: async (address: string) => {
      const { error } = await db.auth.signInWithOtp({
        email: address,
        options: { shouldCreateUser: false, emailRedirectTo: signInLinkRedirect(redirect) },
      });
      const problem = signInLinkProblem(error);
      if (problem) throw new Error(problem);
      return address;
    },
  });
  const verify = useMutation({
    mutationFn: async ({ address, token }: { address: string; token: string }) => {
      const { error } = await db.auth.verifyOtp({ email: address, token, type: "email" });
      if (error) throw new Error(friendlyAuthError(error.message));
    },
  });

  const onSend = (event: FormEvent) => {
    event.preventDefault();
    const address = email.trim().toLowerCase();
    setEmailProblem(address ? null : "Enter the email address of your account.");
    if (address && !send.isPending) send.mutate(address);
  };
  const onCode = (event: FormEvent) => {
    event.preventDefault();
    const parsed = codeSchema.safeParse(code);
    if (!parsed.success) return setCodeProblem("Enter the 6-digit code from the email.");
    setCodeProblem(null);
    if (send.data && !verify.isPending) verify.mutate({ address: send.data, token: parsed.data });
  };

  if (send.isSuccess) {
    return (
      <AuthCard title="Check your inbox" error={codeProblem ?? verify.error?.message} onSubmit={onCode}>
        <p role="status">
          If <strong>{send.data}</strong> has a leadloop account, a sign-in link is on its way. Open it on this
          device; it works once, for an hour.
        </p>
        <label className="field">
          <span>Or enter the 6-digit code from the email</span>
          <input name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={8} value={code}
            onChange={(e) => setCode(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary btn-block" disabled={verify.isPending}>
          {verify.isPending ? "Checking…" : "Sign in with the code"}
        </button>
        <p className="auth-links small">
          <button type="button" className="btn-text" onClick={() => send.reset()}>Use a different email</button>
          <button type="button" className="btn-text" onClick={() => onUsePassword(send.data)}>Sign in with a password</button>
        </p>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Sign in with an email link" error={emailProblem ?? send.error?.message} onSubmit={onSend}>
      <p className="muted">We'll email you a link that signs you in, no password needed.</p>
      <label className="field">
        <span>Email</span>
        <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-primary btn-block" disabled={send.isPending}>
        {send.isPending ? "Sending…" : "Email me a sign-in link"}
      </button>
      <p className="auth-links small">
        <button type="button" className="btn-text" onClick={() => onUsePassword(email)}>Sign in with a password</button>
      </p>
    </AuthCard>
  );
}
