// Client-side checks mirror what the database enforces, so a visitor sees a field error
// before a round trip; the database stays the authority and re-checks everything.
import type { Messages } from "./i18n.ts";
import type { PhoneRules } from "./phone.ts";

export type FieldKey = "name" | "phone" | "email" | "message";

export interface FieldSpec {
  key: FieldKey;
  /** The owner's own label in the visitor's language, or null for the widget's default. */
  label: string | null;
  required: boolean;
}

export interface LeadFormInput {
  name: string;
  phone: string;
  email: string;
  message: string;
  /**
   * Whether the browser reads `email` as an email address (an <input type=email>'s own check, so
   * the script carries no rule of its own; the database's check stays the authority).
   */
  emailLooksValid: boolean;
  smsConsent: boolean;
  honeypot: string;
}

export interface LeadInsert {
  name: string | null;
  phone: string | null;
  email: string | null;
  message: string | null;
  sms_consent: boolean;
  honeypot: string | null;
}

export type FieldErrors = Partial<Record<FieldKey, string>>;

export type ValidationResult =
  | { ok: true; value: LeadInsert }
  | { ok: false; errors: FieldErrors };

export const LIMITS = { name: 100, email: 254, message: 2000, phone: 32 } as const;

/**
 * Normalises a phone number typed by a visitor to E.164. Numbers without a country prefix are read
 * in the widget's default country, so "(415) 555-2671" works on a US business's site.
 */
export function normalizePhone(raw: string, defaultCountry: string | null | undefined, rules: PhoneRules, t: Messages):
  | { ok: true; e164: string }
  | { ok: false; error: string } {
  const trimmed = raw.trim();
  if (trimmed === "") return { ok: false, error: t.phoneRequired };
  if (trimmed.length > LIMITS.phone) return { ok: false, error: t.phoneTooLong };
  if (!/^[+()\-.\s\d]+$/.test(trimmed)) return { ok: false, error: t.phoneCharacters };
  const result = rules.normalize(trimmed, defaultCountry ?? null);
  if (result.ok) return result;
  const errors = { not_a_number: t.phoneNotANumber, needs_country_code: t.phoneNeedsCountryCode, invalid: t.phoneInvalid };
  return { ok: false, error: errors[result.reason] };
}

/** Validates the whole form; returns either the insert payload or one message per bad field. */
export function validateLeadForm(
  input: LeadFormInput,
  fields: readonly FieldSpec[],
  defaultCountry: string | null | undefined,
  rules: PhoneRules,
  t: Messages,
): ValidationResult {
  const errors: FieldErrors = {};
  const required = (key: FieldKey) => fields.some((f) => f.key === key && f.required);
  const shown = (key: FieldKey) => fields.some((f) => f.key === key);

  const name = input.name.trim();
  if (shown("name")) {
    if (required("name") && name === "") errors.name = t.nameRequired;
    else if (name.length > LIMITS.name) errors.name = t.nameTooLong(LIMITS.name);
  }

  let phone: string | null = null;
  if (shown("phone") && (input.phone.trim() !== "" || required("phone"))) {
    const result = normalizePhone(input.phone, defaultCountry, rules, t);
    if (result.ok) phone = result.e164;
    else errors.phone = result.error;
  }

  const email = input.email.trim();
  if (shown("email")) {
    if (email === "") {
      if (required("email")) errors.email = t.emailRequired;
    } else if (email.length > LIMITS.email || !input.emailLooksValid) {
      errors.email = t.emailInvalid;
    }
  }

  const message = input.message.trim();
  if (shown("message")) {
    if (required("message") && message === "") errors.message = t.messageRequired;
    else if (message.length > LIMITS.message) errors.message = t.messageTooLong(LIMITS.message);
  }

  // Consent to texts must never be a condition of submitting (TCPA / CTIA), so it is not validated.
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      // A field the owner hid is never sent, whatever a script typed into the DOM.
      name: shown("name") && name ? name : null,
      phone,
      email: shown("email") && email ? email : null,
      message: shown("message") && message ? message : null,
      sms_consent: input.smsConsent === true,
      honeypot: input.honeypot === "" ? null : input.honeypot,
    },
  };
}
