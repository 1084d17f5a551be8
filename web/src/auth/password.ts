// The password policy of supabase/config.toml's [auth] (minimum_password_length = 10,
// password_requirements = "lower_upper_letters_digits"), shown to the person choosing a password so they
// meet it the first time. Auth enforces it (weak_password); this only explains it.
export const PASSWORD_RULES = [
  { id: "length", label: "At least 10 characters", test: (p: string) => new TextEncoder().encode(p).length >= 10 },
  { id: "lower", label: "A lower-case letter", test: (p: string) => /[a-z]/.test(p) },
  { id: "upper", label: "An upper-case letter", test: (p: string) => /[A-Z]/.test(p) },
  { id: "digit", label: "A digit", test: (p: string) => /[0-9]/.test(p) },
  // bcrypt reads 72 bytes; Auth refuses longer passwords rather than ignore the rest.
  { id: "max", label: "At most 72 bytes", test: (p: string) => new TextEncoder().encode(p).length <= 72 },
] as const;

export interface RuleState { id: string; label: string; met: boolean }

export function passwordRuleStates(password: string): RuleState[] {
  return PASSWORD_RULES.map((r) => ({ id: r.id, label: r.label, met: r.test(password) }));
}

export function passwordProblems(password: string): string[] {
  return passwordRuleStates(password).filter((r) => !r.met).map((r) => r.label);
}

/** Auth's errors in words a person can act on. */
export function friendlyAuthError(message: string): string {
  if (/invalid login credentials/i.test(message)) return "That email and password don't match an account.";
  if (/email not confirmed/i.test(message)) return "Confirm your email address first, then sign in.";
  if (/rate limit|too many|over_email_send|security purposes/i.test(message)) return "Too many attempts for now: wait a minute and try again.";
  if (/token has expired|link is invalid|otp.*(expired|invalid)|invalid.*otp/i.test(message)) return "That code or link has expired or was already used. Ask for a new one.";
  if (/same.?password|different from the old/i.test(message)) return "Choose a password different from your current one.";
  if (/fetch|network/i.test(message)) return "Can't reach the server. Check your connection and try again.";
  return message;
}
