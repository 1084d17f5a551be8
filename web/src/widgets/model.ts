// The widgets page's rules, pure: allowed origins as the database's CHECK accepts them
// (private.is_valid_origin: scheme://host[:port], lowercase, no path), the install snippet, the default
// consent texts, and the consent check's refusal split into what to fix.

export const MAX_ORIGINS = 20;

export interface OriginsResult { origins: string[]; errors: { line: number; value: string; message: string }[] }

/** One origin per line (or comma); each bad one is named with its line and what is wrong with it. */
export function parseOrigins(text: string): OriginsResult {
  const origins: string[] = [];
  const errors: OriginsResult["errors"] = [];
  const items = text.split(/[\n,]/).map((v, i) => ({ value: v.trim(), line: i + 1 })).filter((v) => v.value !== "");
  for (const { value, line } of items) {
    const problem = originProblem(value);
    if (problem) {
      errors.push({ line, value, message: problem });
      continue;
    }
    const origin = normalizeOrigin(value);
    if (origins.includes(origin)) errors.push({ line, value, message: "is listed twice" });
    else origins.push(origin);
  }
  if (items.length === 0) errors.push({ line: 1, value: "", message: "add the address of the site the form is on, like https://www.example.com" });
  if (origins.length > MAX_ORIGINS) errors.push({ line: items.length, value: "", message: `at most ${MAX_ORIGINS} sites per widget` });
  return { origins, errors };
}

/** As the browser sends it in Origin: lower case, an international name in its xn-- form, no default port. */
function normalizeOrigin(value: string): string {
  return new URL(value).origin;
}

function originProblem(value: string): string | null {
  if (!/^https?:\/\//i.test(value)) return "must start with https:// (or http://)";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a web address";
  }
  if (url.username || url.password) return "must not contain a user name or password";
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || /^https?:\/\/[^/]+\/./i.test(value)) {
    return `must be the site only, without a path: ${url.origin}`;
  }
  if (!/^[a-z0-9.-]+$/.test(url.hostname)) return "has characters a host name cannot have";
  return null;
}

export interface SnippetOptions { widgetId: string; supabaseUrl: string; supabaseKey: string; scriptUrl: string; locale?: "en" | "es" | "" }

const attr = (value: string) => value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/** The script tag the owner pastes where the form should appear. */
export function installSnippet(o: SnippetOptions): string {
  return `<script src="${attr(o.scriptUrl)}" data-widget-id="${attr(o.widgetId)}"\n` +
    `        data-supabase-url="${attr(o.supabaseUrl)}"\n` +
    `        data-supabase-key="${attr(o.supabaseKey)}"${o.locale ? ` data-locale="${o.locale}"` : ""} async></script>`;
}

export const LOCALES = [
  { id: "en", label: "English" },
  { id: "es", label: "Spanish" },
] as const;
export type Locale = (typeof LOCALES)[number]["id"];

/** Consent texts that pass the database's check as written (business, purpose, frequency, rates, STOP and HELP). */
export function defaultConsentText(locale: Locale, businessName: string): string {
  return locale === "es"
    ? `Acepto recibir mensajes de texto de ${businessName} sobre mi solicitud de servicio. La frecuencia de mensajes varía. Pueden aplicarse tarifas de mensajes y datos. Responda STOP para cancelar, HELP para ayuda.`
    : `I agree to receive text messages from ${businessName} about my service request. Message frequency varies. Msg & data rates may apply. Reply STOP to opt out, HELP for help.`;
}

/**
 * The database refuses an incomplete consent text with every problem named ("The SMS consent text is
 * incomplete: consent_texts.es must name the business (...), say ...; consent_text must ..."): split it
 * into one line per language and problem, so the editor can show them beside each text.
 */
export function consentProblems(message: string): { locale: Locale | "default"; problems: string[] }[] | null {
  const match = /The SMS consent text is incomplete: (.*?)\.?(?: \(\d+\))?$/.exec(message);
  if (!match) return null;
  return match[1].split("; ").map((part) => {
    const head = /^(consent_texts\.(en|es)|consent_text) must (.*)$/.exec(part);
    if (!head) return { locale: "default" as const, problems: [part] };
    const locale = (head[2] as Locale | undefined) ?? "default";
    return { locale, problems: head[3].split(/, (?=name |say |be )/) };
  });
}
