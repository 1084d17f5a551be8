// Where the confirmation (and magic) link lands. supabase-js signs in from an implicit link's fragment
// (#access_token=...) by itself, and from a PKCE link (?code=) when this browser holds the verifier;
// otherwise this page redeems what the link carries: a PKCE code or a token_hash. Signed in, the person
// goes on to set up the business.
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { AuthCard } from "./AuthCard.tsx";
import { readAuthLink } from "./links.ts";
import { friendlyAuthError } from "./password.ts";

type EmailOtpType = "signup" | "invite" | "magiclink" | "recovery" | "email_change" | "email";
const OTP_TYPES: readonly string[] = ["signup", "invite", "magiclink", "recovery", "email_change", "email"];

export function Confirm() {
  useDocumentTitle("Confirming your email");
  const db = useDb();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const link = readAuthLink(window.location.href);
    void (async () => {
      const next = link.type === "recovery" ? "/auth/reset" : "/welcome";
      if (link.error) return setError(friendlyAuthError(link.error));
      const { data } = await db.auth.getSession();
      if (data.session) return navigate({ to: next, replace: true });
      if (link.code) {
        const { error: failed } = await db.auth.exchangeCodeForSession(link.code);
        if (failed) {
          return setError(/verifier/i.test(failed.message)
            ? "Open the link in the browser you signed up in, or sign in with your email and password."
            : friendlyAuthError(failed.message));
        }
        return navigate({ to: next, replace: true });
      }
      if (link.tokenHash && link.type && OTP_TYPES.includes(link.type)) {
        const { error: failed } = await db.auth.verifyOtp({ token_hash: link.tokenHash, type: link.type as EmailOtpType });
        if (failed) return setError(friendlyAuthError(failed.message));
        return navigate({ to: next, replace: true });
      }
      setError("This link has expired or was already used. Sign in, or sign up again to get a new one.");
    })().catch((err: Error) => setError(friendlyAuthError(err.message)));
  }, [db, navigate]);

  return (
    <AuthCard title={error ? "That link did not work" : "Confirming your email…"} error={error}>
      {error
        ? <p className="auth-links small"><Link to="/sign-in">Sign in</Link><Link to="/sign-up">Sign up</Link></p>
        : <p className="muted" role="status">One moment while we sign you in.</p>}
    </AuthCard>
  );
}
