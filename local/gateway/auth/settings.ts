// config.toml's [auth] sections as GoTrue receives them from the Supabase CLI (GOTRUE_* variables): one reader,
// with the CLI's defaults for what the file leaves out, so the local Auth and production share one source.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { parse } from "smol-toml";
import { projectRoot, type InstanceConfig } from "../../config.ts";
import { checkTemplate, type TemplateName, TEMPLATE_NAMES } from "./templates.ts";

export interface AuthSettings {
  siteUrl: string;
  /** Globs as GoTrue compiles them (`*` within a host label or path segment, `**` across them). */
  additionalRedirectUrls: string[];
  jwtExpirySeconds: number;
  refreshTokenReuseIntervalSeconds: number;
  enableSignup: boolean;
  password: { minLength: number; requiredCharacters: string[] };
  email: {
    enableSignup: boolean;
    /** Off means GoTrue's autoconfirm (GOTRUE_MAILER_AUTOCONFIRM). */
    confirmations: boolean;
    /** Email changes are confirmed from the old address too (GOTRUE_MAILER_SECURE_EMAIL_CHANGE_ENABLED). */
    doubleConfirmChanges: boolean;
    /** A password change from a session older than 24 h needs a /reauthenticate nonce. */
    securePasswordChange: boolean;
    maxFrequencySeconds: number;
    otpLength: number;
    otpExpirySeconds: number;
    /** Subject and HTML per template; missing entries use GoTrue's defaults. */
    templates: Partial<Record<TemplateName, { subject?: string; content?: string }>>;
    sender: { address: string; name: string };
  };
  /** Per IP address and 5 minutes (token buckets), except emailSentPerHour which is project-wide. */
  rateLimit: { emailSentPerHour: number; tokenRefresh: number; signInSignUps: number; tokenVerifications: number };
  /** Where Auth's SMTP client delivers (the instance's mail catcher locally). */
  smtp: { host: string; port: number };
}

// The CLI's `password_requirements` values and the character sets GoTrue receives for them.
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";
const SYMBOLS = "!@#$%^&*()_+-=[]{};'\\:\"|<>?,./`~";
export const PASSWORD_REQUIREMENTS: Record<string, string[]> = {
  "": [],
  letters_digits: [LOWER + UPPER, DIGITS],
  lower_upper_letters_digits: [LOWER, UPPER, DIGITS],
  lower_upper_letters_digits_symbols: [LOWER, UPPER, DIGITS, SYMBOLS],
};

/** Go's time.ParseDuration for the forms config.toml uses ("60s", "1m30s", "1h", "500ms"); "0" is zero. */
export function parseGoDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const part = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let seconds = 0;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = part.exec(trimmed))) {
    seconds += Number(match[1]) * units[match[2]];
    consumed = part.lastIndex;
  }
  if (trimmed === "" || consumed !== trimmed.length) throw new Error(`invalid duration "${text}"`);
  return seconds;
}

type Table = Record<string, unknown>;
const table = (v: unknown): Table => (v && typeof v === "object" && !Array.isArray(v) ? (v as Table) : {});
function pick<T>(t: Table, key: string, type: "string" | "number" | "boolean", fallback: T): T {
  const v = t[key];
  if (v === undefined) return fallback;
  if (typeof v !== type) throw new Error(`config.toml: auth setting "${key}" must be a ${type}`);
  return v as T;
}

/**
 * config.toml is written for the default dev instance (API on [api].port). Another instance runs every
 * service shifted by the same amount, so loopback URLs on the dev ports (the dashboard on 54323) follow it.
 */
function shiftLoopbackUrl(url: string, apiPort: number, shift: number): string {
  if (shift === 0) return url;
  const m = /^(https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\])):(\d+)(.*)$/.exec(url);
  if (!m) return url;
  const port = Number(m[2]);
  if (port < apiPort - 1 || port > apiPort + 18) return url;
  return `${m[1]}:${port + shift}${m[3]}`;
}

export function loadAuthSettings(config: InstanceConfig, configPath = join(projectRoot, "supabase", "config.toml")): AuthSettings {
  const toml = parse(readFileSync(configPath, "utf8")) as Table;
  const api = table(toml.api);
  const auth = table(toml.auth);
  const email = table(auth.email);
  const rate = table(auth.rate_limit);
  const smtpTable = table(email.smtp);
  const apiPort = pick(api, "port", "number", 54321);
  const shift = config.ports.gateway - apiPort;

  const requirement = pick(auth, "password_requirements", "string", "");
  const requiredCharacters = PASSWORD_REQUIREMENTS[requirement];
  if (!requiredCharacters) throw new Error(`config.toml: unknown password_requirements "${requirement}"`);

  const templates: AuthSettings["email"]["templates"] = {};
  const templateTables = table(email.template);
  for (const [name, raw] of Object.entries(templateTables)) {
    if (!(TEMPLATE_NAMES as readonly string[]).includes(name)) throw new Error(`config.toml: unknown email template "${name}"`);
    const t = table(raw);
    const subject = pick<string | undefined>(t, "subject", "string", undefined);
    const contentPath = pick<string | undefined>(t, "content_path", "string", undefined);
    // As the CLI does, template paths are relative to the repository (the folder holding supabase/).
    const content = contentPath ? readFileSync(isAbsolute(contentPath) ? contentPath : join(dirname(dirname(configPath)), contentPath), "utf8") : undefined;
    if (subject !== undefined) checkTemplate(subject, `[auth.email.template.${name}] subject`);
    if (content !== undefined) checkTemplate(content, `[auth.email.template.${name}] ${contentPath}`);
    templates[name as TemplateName] = { subject, content };
  }

  return {
    siteUrl: shiftLoopbackUrl(pick(auth, "site_url", "string", "http://127.0.0.1:3000"), apiPort, shift),
    additionalRedirectUrls: (Array.isArray(auth.additional_redirect_urls) ? auth.additional_redirect_urls : []).map((u) =>
      shiftLoopbackUrl(String(u), apiPort, shift),
    ),
    jwtExpirySeconds: pick(auth, "jwt_expiry", "number", 3600),
    refreshTokenReuseIntervalSeconds: pick(auth, "refresh_token_reuse_interval", "number", 10),
    enableSignup: pick(auth, "enable_signup", "boolean", true),
    password: { minLength: pick(auth, "minimum_password_length", "number", 6), requiredCharacters },
    email: {
      enableSignup: pick(email, "enable_signup", "boolean", true),
      confirmations: pick(email, "enable_confirmations", "boolean", false),
      doubleConfirmChanges: pick(email, "double_confirm_changes", "boolean", true),
      securePasswordChange: pick(email, "secure_password_change", "boolean", false),
      maxFrequencySeconds: parseGoDuration(pick(email, "max_frequency", "string", "1s")),
      otpLength: pick(email, "otp_length", "number", 6),
      otpExpirySeconds: pick(email, "otp_expiry", "number", 3600),
      templates,
      sender: {
        address: pick(smtpTable, "admin_email", "string", "admin@email.com"),
        name: pick(smtpTable, "sender_name", "string", "Supabase Auth"),
      },
    },
    rateLimit: {
      emailSentPerHour: pick(rate, "email_sent", "number", 2),
      tokenRefresh: pick(rate, "token_refresh", "number", 150),
      signInSignUps: pick(rate, "sign_in_sign_ups", "number", 30),
      tokenVerifications: pick(rate, "token_verifications", "number", 30),
    },
    // Locally the mail always goes to the instance's catcher, as the CLI's does when [auth.email.smtp] is off.
    smtp: { host: "127.0.0.1", port: config.ports.smtp },
  };
}
