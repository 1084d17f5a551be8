// Talks to the project's REST API with the public (anon or publishable) key. Only two calls
// exist: read the widget's public config, and insert a lead without reading anything back.
import { PostgrestClient } from "@supabase/postgrest-js";
import type { Database, TablesInsert } from "../../functions/_shared/database.types.ts";
import type { FieldErrors, FieldKey, FieldSpec, LeadInsert } from "./validation.ts";

export interface WidgetConfig {
  widgetId: string;
  businessName: string;
  consentText: string;
  fields: FieldSpec[];
  defaultCountry: string | null;
}

export const DEFAULT_FIELDS: readonly FieldSpec[] = [
  { key: "name", label: "Name", required: true },
  { key: "phone", label: "Mobile phone", required: true },
  { key: "email", label: "Email", required: false },
  { key: "message", label: "How can we help?", required: false },
];

const FIELD_KEYS: readonly FieldKey[] = ["name", "phone", "email", "message"];
const FIELD_NOUNS: Record<FieldKey, string> = {
  name: "name",
  phone: "phone number",
  email: "email address",
  message: "message",
};

export function createRestClient(supabaseUrl: string, supabaseKey: string, fetchImpl?: typeof fetch) {
  const base = supabaseUrl.replace(/\/+$/, "");
  // Same headers supabase-js sends for a signed-out client: the key is both apikey and bearer.
  return new PostgrestClient<Database>(`${base}/rest/v1`, {
    headers: { apikey: supabaseKey, Authorization: `Bearer ${supabaseKey}` },
    fetch: fetchImpl,
  });
}

export type RestClient = ReturnType<typeof createRestClient>;

/**
 * Reads `fields` leniently: the column is owner-editable JSON, so a list of names, a list of
 * {key|name, label, required} objects or a {key: {label, required}} map are all accepted.
 * Unknown keys are dropped; name and phone are always shown and required (the leads table needs both).
 */
export function normalizeFields(raw: unknown): FieldSpec[] {
  const byKey = new Map<FieldKey, FieldSpec>();
  const defaults = new Map(DEFAULT_FIELDS.map((f) => [f.key, f]));
  const add = (key: unknown, spec: Record<string, unknown> | null) => {
    if (typeof key !== "string" || !FIELD_KEYS.includes(key as FieldKey)) return;
    const k = key as FieldKey;
    const fallback = defaults.get(k)!;
    if (spec && (spec.enabled === false || spec.visible === false || spec.show === false)) return;
    byKey.set(k, {
      key: k,
      label: typeof spec?.label === "string" && spec.label.trim() ? spec.label.trim() : fallback.label,
      required: typeof spec?.required === "boolean" ? spec.required : fallback.required,
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
    byKey.set(key, { ...(byKey.get(key) ?? defaults.get(key)!), required: true });
  }
  return FIELD_KEYS.filter((k) => byKey.has(k)).map((k) => byKey.get(k)!);
}

export function parseWidgetConfig(data: unknown): WidgetConfig | null {
  if (data === null || data === undefined) return null;
  if (typeof data !== "object" || Array.isArray(data)) throw new Error("widget config is not an object");
  const obj = data as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const businessName = str(obj.business_name).trim();
  const consentText = str(obj.consent_text).trim();
  if (!businessName) throw new Error("widget config has no business_name");
  if (!consentText) throw new Error("widget config has no consent_text");
  const country = str(obj.default_country).trim().toUpperCase();
  return {
    widgetId: str(obj.widget_id),
    businessName,
    consentText,
    fields: normalizeFields(obj.fields),
    defaultCountry: /^[A-Z]{2}$/.test(country) ? country : null,
  };
}

export type LoadConfigResult =
  | { kind: "ok"; config: WidgetConfig }
  | { kind: "inactive" }
  | { kind: "unreachable"; detail: string };

export async function loadWidgetConfig(client: RestClient, widgetId: string): Promise<LoadConfigResult> {
  const { data, error, status } = await client.rpc("get_widget_config", { p_widget_id: widgetId });
  if (error) {
    // An unknown or malformed widget id is the embedder's mistake, not a network problem.
    if (status === 400 || status === 404) return { kind: "inactive" };
    return { kind: "unreachable", detail: `${status} ${error.message}` };
  }
  try {
    const config = parseWidgetConfig(data);
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

interface RestError {
  message?: string;
  code?: string;
  details?: string | null;
  hint?: string | null;
}

const NETWORK_MESSAGE = "We couldn't reach the server. Check your connection and try again.";

/** Turns a REST response into something the form can show a person. */
export function classifySubmitResult(status: number, error: RestError | null): SubmitOutcome {
  if (!error && status >= 200 && status < 300) return { kind: "saved" };
  if (status === 429 || error?.code === "PT429") {
    return {
      kind: "rate_limited",
      message: cleanMessage(error?.message) ?? "Too many requests. Please wait a few minutes and try again.",
    };
  }
  if (status === 0 || status >= 500 || status === 408) return { kind: "network", message: NETWORK_MESSAGE };
  const text = [error?.message, error?.details, error?.hint].filter(Boolean).join(" ").toLowerCase();
  // The intake trigger says which field in details ("field: phone"); constraint names say it too
  // ("leads_phone_check"). Pin the message to that field.
  const named = /field: ([a-z_]+)/.exec(text)?.[1];
  const field = named
    ? FIELD_KEYS.find((k) => k === named)
    : FIELD_KEYS.find((k) => new RegExp(`(^|[^a-z])${k}([^a-z]|$)`).test(text));
  const readable = cleanMessage(error?.message, field);
  const fieldErrors: FieldErrors = {};
  if (field) fieldErrors[field] = readable ?? `Please check your ${FIELD_NOUNS[field]}.`;
  const message = readable ?? (field
    ? `Please check your ${FIELD_NOUNS[field]}.`
    : "We couldn't send your request. Please check the form and try again.");
  return { kind: "rejected", message, fieldErrors };
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

export async function insertLead(
  client: RestClient,
  widgetId: string,
  payload: LeadInsert,
  sourceUrl: string,
  signal?: AbortSignal,
): Promise<SubmitOutcome> {
  try {
    // No .select(): anon has no SELECT on leads, asking for the row back would fail the insert.
    const lead = {
      widget_id: widgetId,
      // Required columns: an empty value is refused by the database with the field's own message.
      name: payload.name ?? "",
      phone: payload.phone ?? "",
      email: payload.email,
      message: payload.message,
      source_url: sourceUrl,
      sms_consent: payload.sms_consent,
      honeypot: payload.honeypot,
    } satisfies Omit<TablesInsert<"leads">, "business_id">;
    // business_id is server-owned: the intake trigger sets it from the widget (anon may not write it).
    const query = client.from("leads").insert(lead as TablesInsert<"leads">);
    const { error, status } = await (signal ? query.abortSignal(signal) : query);
    return classifySubmitResult(status, error);
  } catch {
    return { kind: "network", message: NETWORK_MESSAGE };
  }
}
