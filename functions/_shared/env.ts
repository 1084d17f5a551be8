// Settings, read once per process and validated, so a misconfigured deployment fails
// with a message naming the variable instead of a confusing runtime error later.
import { z } from "zod";
import { ConfigError, zodMessage } from "./http.ts";

const url = z.string().url();
const positiveInt = z.coerce.number().int().positive();

export const supabaseEnvSchema = z.object({
  SUPABASE_URL: url,
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1),
  /** JSON {name: "sb_secret_..."}, set by the platform when the project has secret keys. */
  SUPABASE_SECRET_KEYS: z.string().optional(),
});

export const twilioEnvSchema = z.object({
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-zA-Z]{32}$/, "must look like AC followed by 32 characters"),
  TWILIO_AUTH_TOKEN: z.string().min(1),
  TWILIO_API_BASE_URL: url.default("https://api.twilio.com"),
  /** Public base URL of the functions: signatures and StatusCallback are built from it. */
  TWILIO_WEBHOOK_BASE_URL: url,
  TWILIO_REQUEST_TIMEOUT_MS: positiveInt.default(10_000),
});

export const twilioWebhookEnvSchema = twilioEnvSchema.pick({ TWILIO_AUTH_TOKEN: true, TWILIO_WEBHOOK_BASE_URL: true });

export const summarizerEnvSchema = z.object({
  SUMMARIZER_LLM_URL: z.union([url, z.literal("")]).default(""),
  SUMMARIZER_LLM_MODEL: z.string().default(""),
  SUMMARIZER_LLM_API_KEY: z.string().default(""),
  SUMMARIZER_LLM_TIMEOUT_MS: positiveInt.default(8_000),
}).refine((e) => !e.SUMMARIZER_LLM_URL || e.SUMMARIZER_LLM_MODEL, {
  message: "SUMMARIZER_LLM_MODEL is required when SUMMARIZER_LLM_URL is set",
  path: ["SUMMARIZER_LLM_MODEL"],
});

export const stripeEnvSchema = z.object({
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/, "must be a Stripe secret or restricted key (sk_... or rk_...)"),
  /** Where Stripe's API lives; the local stack points it at its emulator (host, port and protocol are taken from it). */
  STRIPE_API_BASE_URL: url.default("https://api.stripe.com"),
  STRIPE_REQUEST_TIMEOUT_MS: positiveInt.default(10_000),
});

/** billing-checkout and billing-portal: the owner's own client (anon key + their JWT), the service client, Stripe. */
export const billingEnvSchema = stripeEnvSchema.merge(supabaseEnvSchema).extend({
  SUPABASE_ANON_KEY: z.string().min(1),
  /** The dashboard's public URL: Checkout and the portal send the owner back to <DASHBOARD_URL>/billing. */
  DASHBOARD_URL: url,
});

export const stripeWebhookEnvSchema = stripeEnvSchema.merge(supabaseEnvSchema).extend({
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=_-]+$/, "must be the endpoint's signing secret (whsec_...)"),
});

/**
 * send-email: one mail provider, SMTP (MAIL_SMTP_URL, smtp:// or smtps://) or Resend's HTTP API
 * (RESEND_API_KEY), and the sender every email shows (MAIL_FROM: "Name <address>" or an address).
 */
export const mailEnvSchema = supabaseEnvSchema.extend({
  MAIL_SMTP_URL: z.string().regex(/^smtps?:\/\//, "must be an smtp:// or smtps:// URL").optional(),
  RESEND_API_KEY: z.string().min(1).optional(),
  RESEND_API_URL: url.default("https://api.resend.com"),
  MAIL_FROM: z.string().min(3).max(320),
  /** How long one send may wait on the provider (SMTP: per connection phase and socket inactivity). */
  MAIL_TIMEOUT_MS: positiveInt.default(20_000),
}).refine((e) => Boolean(e.MAIL_SMTP_URL) !== Boolean(e.RESEND_API_KEY), {
  message: "set exactly one mail provider: MAIL_SMTP_URL or RESEND_API_KEY",
  path: ["MAIL_SMTP_URL"],
});

type EnvSource = Record<string, string | undefined>;

function readProcessEnv(): EnvSource {
  // Empty strings mean "unset", as in .env files.
  const out: EnvSource = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) if (v !== "") out[k] = v;
  return out;
}

const cache = new Map<z.ZodTypeAny, unknown>();

export function loadEnv<S extends z.ZodTypeAny>(schema: S, source?: EnvSource): z.output<S> {
  if (!source && cache.has(schema)) return cache.get(schema) as z.output<S>;
  const parsed = schema.safeParse(source ?? readProcessEnv());
  if (!parsed.success) throw new ConfigError(`invalid settings: ${zodMessage(parsed.error)}`);
  if (!source) cache.set(schema, parsed.data);
  return parsed.data;
}

export type SupabaseEnv = z.output<typeof supabaseEnvSchema>;
export type TwilioEnv = z.output<typeof twilioEnvSchema>;
export type TwilioWebhookEnv = z.output<typeof twilioWebhookEnvSchema>;
export type SummarizerEnv = z.output<typeof summarizerEnvSchema>;
export type StripeEnv = z.output<typeof stripeEnvSchema>;
export type BillingEnv = z.output<typeof billingEnvSchema>;
export type StripeWebhookEnv = z.output<typeof stripeWebhookEnvSchema>;
export type MailEnv = z.output<typeof mailEnvSchema>;

export function llmConfigFrom(env: SummarizerEnv) {
  if (!env.SUMMARIZER_LLM_URL) return null;
  return {
    url: env.SUMMARIZER_LLM_URL,
    model: env.SUMMARIZER_LLM_MODEL,
    apiKey: env.SUMMARIZER_LLM_API_KEY || null,
    timeoutMs: env.SUMMARIZER_LLM_TIMEOUT_MS,
  };
}
