// Auth's email templates: GoTrue's default subjects, short default bodies in the same shape (a heading, one
// sentence, the link), and the subset of Go's html/template that Supabase's docs use in custom templates:
// `{{ .Field }}` and `{{ .Data.key }}`, HTML-escaped. Anything else is refused when config.toml is read,
// so a template that would render differently on Supabase never reaches an inbox.

export const TEMPLATE_NAMES = ["invite", "confirmation", "recovery", "magic_link", "email_change", "reauthentication"] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** Fields GoTrue hands every template (some are empty for some kinds, as in GoTrue). */
export interface TemplateData {
  SiteURL: string;
  ConfirmationURL: string;
  Email: string;
  NewEmail: string;
  Token: string;
  TokenHash: string;
  RedirectTo: string;
  SendingTo: string;
  Data: Record<string, unknown>;
}

export const DEFAULT_TEMPLATES: Record<TemplateName, { subject: string; content: string }> = {
  invite: {
    subject: "You've been invited",
    content: `<h2>You've been invited</h2>\n\n<p>Someone invited you to create an account. Use the link below to accept.</p>\n<p><a href="{{ .ConfirmationURL }}">Accept invitation</a></p>`,
  },
  confirmation: {
    subject: "Confirm your email address",
    content: `<h2>Confirm your email address</h2>\n\n<p>Use the link below to confirm this address and finish signing up.</p>\n<p><a href="{{ .ConfirmationURL }}">Confirm email address</a></p>\n`,
  },
  recovery: {
    subject: "Reset your password",
    content: `<h2>Reset your password</h2>\n\n<p>Someone asked to reset the password of this account. Use the link below to choose a new one.</p>\n<p><a href="{{ .ConfirmationURL }}">Reset password</a></p>\n<p>If it wasn't you, ignore this email.</p>`,
  },
  magic_link: {
    subject: "Your sign-in link",
    content: `<h2>Your sign-in link</h2>\n\n<p>Use the link below to sign in. It works once and expires soon.</p>\n<p><a href="{{ .ConfirmationURL }}">Sign in</a></p>`,
  },
  email_change: {
    subject: "Confirm your new email address",
    content: `<h2>Confirm your new email address</h2>\n\n<p>Use the link below to confirm {{ .NewEmail }} as the new address of your account.</p>\n<p><a href="{{ .ConfirmationURL }}">Confirm new email address</a></p>\n<p>If you didn't ask for this change, ignore this email.</p>`,
  },
  reauthentication: {
    subject: "{{ .Token }} is your verification code",
    content: `<h2>Your verification code</h2>\n\n<p>Enter this code to confirm it's you. It expires soon.</p>\n<p>{{ .Token }}</p>`,
  },
};

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/gs;
const FIELD = /^\.(SiteURL|ConfirmationURL|Email|NewEmail|Token|TokenHash|RedirectTo|SendingTo)$|^\.Data\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** Throws, naming `where`, when a template uses anything beyond plain field references. */
export function checkTemplate(text: string, where: string): void {
  for (const m of text.matchAll(ACTION)) {
    if (!FIELD.test(m[1])) throw new Error(`${where}: unsupported template action {{ ${m[1]} }} (only {{ .Field }} and {{ .Data.key }})`);
  }
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"'+]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;", "+": "&#43;" })[ch]!);
}

/** Renders a checked template; values are escaped as html/template does in text and attribute context. */
export function renderTemplate(text: string, data: TemplateData): string {
  return text.replace(ACTION, (_all, action: string) => {
    const m = FIELD.exec(action);
    if (!m) throw new Error(`unsupported template action {{ ${action} }}`);
    const value = m[1] ? data[m[1] as keyof Omit<TemplateData, "Data">] : data.Data?.[m[2]];
    return escapeHtml(value === undefined || value === null ? "" : String(value));
  });
}
