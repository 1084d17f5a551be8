// The "email me a sign-in link" rules, pure: where the link sends the browser back to, and which of
// Auth's answers mean "a link may be on its way". GoTrue answers signInWithOtp({ shouldCreateUser: false })
// for an address without an account with 422 otp_disabled ("Signups not allowed for otp"); the page shows
// that exactly like a sent link, so it cannot be used to find out who has an account.
import { friendlyAuthError } from "./password.ts";

/**
 * The sign-in page itself, keeping where the person was going: the link signs the browser in there
 * (supabase-js reads the session from the URL before the route's beforeLoad looks for one), and the
 * route sends a signed-in visitor on to `redirect`.
 */
export function signInLinkRedirect(redirect: string | undefined, origin = window.location.origin): string {
  const url = new URL("/sign-in", origin);
  if (redirect) url.searchParams.set("redirect", redirect);
  return url.toString();
}

export interface AuthFailure {
  message: string;
  code?: string;
  status?: number;
}

/** null when the request counts as sent (a link is on its way if the account exists); otherwise what to show. */
export function signInLinkProblem(error: AuthFailure | null): string | null {
  if (!error) return null;
  if (error.code === "otp_disabled" || /signups not allowed for otp/i.test(error.message)) return null;
  if (error.code === "email_address_invalid" || /validate email|invalid format/i.test(error.message)) {
    return "That doesn't look like an email address.";
  }
  const wait = /after (\d+) seconds/i.exec(error.message);
  if (wait) return `A link was sent to this address moments ago. You can ask for another in ${wait[1]} seconds.`;
  return friendlyAuthError(error.message);
}
