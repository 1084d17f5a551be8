// Talks to the project's REST API with the public (anon or publishable) key. Only two calls
// exist: read the widget's public config, and insert a lead without reading anything back.
import type { TablesInsert } from "../../functions/_shared/database.types.ts";
import { MESSAGES, type Locale, type Messages } from "./i18n.ts";
import type { FieldErrors, FieldKey, FieldSpec, LeadInsert } from "./validation.ts";

export interface WidgetConfig {
  widgetId: string;
  businessName: string;
  /** The consent text in the visitor's language when the owner wrote one, else the widget's own. */
  consentText: string;
  fields: FieldSpec[];
  defaultCountry: string | null;
}

const FIELD_KEYS: readonly FieldKey[] = ["name", "phone", "email", "message"];
const REQUIRED_BY_DEFAULT: Record<FieldKey, boolean> = { name: true, phone: true, email: false, message: false };
export const DEFAULT_FIELDS: readonly FieldSpec[] = FIELD_KEYS.map((key) => ({ key, label: null, required: REQUIRED_BY_DEFAULT[key] }));

export interface RestError {
  message?: string;
  code?: string;
  details?: string | null;
  hint?: string | null;
}

export interface RestResponse {
  status: number;
  data: unknown;
  error: RestError | null;
}

/**
 * PostgREST over fetch, with the headers supabase-js sends for a signed-out client (the key is both
 * apikey and bearer). Two POSTs do not need a query builder; this keeps the script small.
 * A dropped connection or a timeout comes back as status 0, never as a throw, and is never retried.
 */
export function createRestClient(supabaseUrl: string, supabaseKey: string, fetchImpl?: typeof fetch) {
  const base = `${supabaseUrl.replace(/\/+$/, "")}/rest/v1`;
  const send = fetchImpl ?? ((input, init) => fetch(input, init));
  return async function post(path: string, body: unknown, signal?: AbortSignal): Promise<RestResponse> {
    let response: Response;
    let text: string;
    try {
      response = await send(`${base}/${path}`, {
        method: "POST",
        headers: { apikey: supabaseKey, Authorization: `Bearer ${supabaseKey}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (error) {
      return { status: 0, data: null, error: { message: String(error), code: "" } };
    }
    let json: unknown = null;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok) {
      return json === undefined
        ? { status: response.status, data: null, error: { message: "the response is not JSON" } }
        : { status: response.status, data: json, error: null };
    }
    const error = json && typeof json === "object" && !Array.isArray(json) ? (json as RestError) : { message: text };
    return { status: response.status, data: null, error };
  };
}

export type RestClient = ReturnType<typeof createRestClient>;

/** An owner's label: one string, or one per language ({"en": "Cell", "es": "Celular"}). */
function labelIn(value: unknown, locale: Locale): string | null {
  const text = value && typeof value === "object" ? (value as Record<string, unknown>)[locale] : value;
  return typeof text === "string" && text.trim() ? text.trim() : null;
}

/**
 * Reads `fields` leniently: the column is owner-editable JSON, so a list of names, a list of
 * {key|name, label, required} objects or a {key: {label, required}} map are all accepted.
 * Unknown keys are dropped; name and phone are always shown and required (the leads table needs both).
 */
export function normalizeFields(raw: unknown, locale: Locale = "en"): FieldSpec[] {
  const byKey = new Map<FieldKey, FieldSpec>();
  const add = (key: unknown, spec: Record<string, unknown> | null) => {
    if (typeof key !== "string" || !FIELD_KEYS.includes(key as FieldKey)) return;
    const k = key as FieldKey;
    if (spec && (spec.enabled === false || spec.visible === false || spec.show === false)) return;
    byKey.set(k, {
      key: k,
      label: labelIn(spec?.label, locale),
      required: typeof spec?.required === "boolean" ? spec.required : REQUIRED_BY_DEFAULT[k],
    });
  };
  if (Array.isArray(raw)) {
    for (const item of raw) {
      if (typeof item === "string") add(item, null);
      else if (item && typeof item === "object") {
        const obj = item as Record<string, unknown>;
        add(obj.key ?? obj.name ?? obj.field, obj);
      }
    }
  } else if (raw && typeof raw === "object") {
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
      if (value === false) continue;
      add(key, value && typeof value === "object" ? (value as Record<string, unknown>) : null);
    }
  }
  if (byKey.size === 0) return DEFAULT_FIELDS.map((f) => ({ ...f }));
  // leads.name and leads.phone are NOT NULL: whatever the config says, the form must ask for them.
  for (const key of ["name", "phone"] as const) {
    byKey.set(key, { ...(byKey.get(key) ?? { key, label: null }), required: true });
  }
  return FIELD_KEYS.filter((k) => byKey.has(k)).map((k) => byKey.get(k)!);
}

export function parseWidgetConfig(data: unknown, locale: Locale = "en"): WidgetConfig | null {
  if (data === null || data === undefined) return null;
  if (typeof data !== "object" || Array.isArray(data)) throw new Error("widget config is not an object");
  const obj = data as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");
  const businessName = str(obj.business_name);
  // consent_texts ({"en": ..., "es": ...}) is newer than consent_text; either may be missing a language.
  const consentText = labelIn(obj.consent_texts, locale) ?? str(obj.consent_text);
  if (!businessName) throw new Error("widget config has no business_name");
  if (!consentText) throw new Error("widget config has no consent_text");
  const country = str(obj.default_country).toUpperCase();
  return {
    widgetId: str(obj.widget_id),
    businessName,
    consentText,
    fields: normalizeFields(obj.fields, locale),
    defaultCountry: /^[A-Z]{2}$/.test(country) ? country : null,
  };
}

export type LoadConfigResult =
  | { kind: "ok"; config: WidgetConfig }
  | { kind: "inactive" }
  | { kind: "unreachable"; detail: string };

export async function loadWidgetConfig(client: RestClient, widgetId: string, locale: Locale = "en"): Promise<LoadConfigResult> {
  const { data, error, status } = await client("rpc/get_widget_config", { p_widget_id: widgetId });
  if (error) {
    // An unknown or malformed widget id is the embedder's mistake, not a network problem.
    if (status === 400 || status === 404) return { kind: "inactive" };
    return { kind: "unreachable", detail: `${status} ${error.message}` };
  }
  try {
    const config = parseWidgetConfig(data, locale);
    return config ? { kind: "ok", config } : { kind: "inactive" };
  } catch (e) {
    return { kind: "unreachable", detail: (e as Error).message };
  }
}

export type SubmitOutcome =
  | { kind: "saved" }
  | { kind: "rate_limited"; message: string }
  | { kind: "rejected"; message: string; fieldErrors: FieldErrors }
  | { kind: "network"; message: string };

/**
 * Turns a REST response into something the form can show a person. The database words its
 * refusals in English: an English form shows them as they are, another language its own words.
 */
export function classifySubmitResult(status: number, error: RestError | null, t: Messages = MESSAGES.en): SubmitOutcome {
  if (!error && status >= 200 && status < 300) return { kind: "saved" };
  const serverWords = (field?: FieldKey) => (t.locale === "en" ? cleanMessage(error?.message, field) : null);
  if (status === 429 || error?.code === "PT429") return { kind: "rate_limited", message: serverWords() ?? t.rateLimited };
  if (status === 0 || status >= 500 || status === 408) return { kind: "network", message: t.network };
  const text = [error?.message, error?.details, error?.hint].filter(Boolean).join(" ").toLowerCase();
  // The intake trigger says which field in details ("field: phone"); constraint names say it too
  // ("leads_phone_check"). Pin the message to that field.
  const named = /field: ([a-z_]+)/.exec(text)?.[1];
  const field = named
    ? FIELD_KEYS.find((k) => k === named)
    : FIELD_KEYS.find((k) => new RegExp(`(^|[^a-z])${k}([^a-z]|$)`).test(text));
  const readable = serverWords(field);
  const fieldErrors: FieldErrors = {};
  if (field) fieldErrors[field] = readable ?? t.checkField(field);
  return { kind: "rejected", message: readable ?? (field ? t.checkField(field) : t.rejected), fieldErrors };
}

function cleanMessage(message: string | undefined, field?: FieldKey): string | null {
  if (!message) return null;
  // "phone: enter a phone number ..." reads better under the phone field as "Enter a phone number ...".
  if (field && message.toLowerCase().startsWith(`${field}: `)) {
    const rest = message.slice(field.length + 2).trim();
    message = rest.charAt(0).toUpperCase() + rest.slice(1);
  }
  // Constraint names are for developers; show the generic line instead of leaking them.
  if (/violates (check|not-null|foreign key|unique) constraint/i.test(message)) return null;
  if (/permission denied|row-level security/i.test(message)) return null;
  return message.trim();
}

/**
 * Columns of `leads` the anon role may insert (the database's grant): the form, the language it was
 * shown in (the database keeps the consent text of that language), and the visitor's time zone as the
 * browser reports it (the lead is texted in its own local hours).
 */
export const INSERT_COLUMNS = [
  "widget_id", "name", "phone", "email", "message", "source_url", "sms_consent", "honeypot", "locale", "reported_timezone",
] as const satisfies ReadonlyArray<keyof TablesInsert<"leads">>;

export interface LeadRow extends LeadInsert {
  widget_id: string;
  source_url: string;
  locale: Locale;
  /** IANA zone from Intl, or null when the browser gives none. */
  reported_timezone: string | null;
}

/** The browser's time zone (the database ignores one that names no place, such as UTC). */
export function browserTimeZone(): string | null {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return typeof zone === "string" && zone.length > 0 && zone.length <= 64 ? zone : null;
  } catch {
    return null;
  }
}

export async function insertLead(client: RestClient, row: LeadRow, t: Messages = MESSAGES.en, signal?: AbortSignal): Promise<SubmitOutcome> {
  const body = Object.fromEntries(INSERT_COLUMNS.map((column) => [column, row[column]]));
  // No ?select and no return=representation: anon has no SELECT on leads, asking for the row back
  // would fail the insert.
  const { error, status } = await client("leads", body, signal);
  if (error) console.error(`[leadloop] lead not saved: ${status} ${error.message ?? ""}`);
  return classifySubmitResult(status, error, t);
}
