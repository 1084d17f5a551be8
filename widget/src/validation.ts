// Client-side checks mirror what the database enforces, so a visitor sees a field error
// before a round trip; the database stays the authority and re-checks everything.
import * as z from "zod/v4/mini";
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/min";

export type FieldKey = "name" | "phone" | "email" | "message";

export interface FieldSpec {
  key: FieldKey;
  label: string;
  required: boolean;
}

export interface LeadFormInput {
  name: string;
  phone: string;
  email: string;
  message: string;
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
 * Normalises a phone number typed by a visitor to E.164. Numbers without a country prefix
 * are read in the widget's default country, so "(415) 555-2671" works on a US business's site.
 */
export function normalizePhone(raw: string, defaultCountry: string | null | undefined):
  | { ok: true; e164: string }
  | { ok: false; error: string } {
  const trimmed = raw.trim();
  if (trimmed === "") return { ok: false, error: "Enter your phone number." };
  if (trimmed.length > LIMITS.phone) return { ok: false, error: "That phone number is too long." };
  if (!/^[+()\-.\s\d]+$/.test(trimmed)) {
    return { ok: false, error: "Use digits only, for example +1 415 555 2671." };
  }
  const country = isCountryCode(defaultCountry) ? defaultCountry : undefined;
  const parsed = parsePhoneNumberFromString(trimmed, country ? { defaultCountry: country } : undefined);
  if (!parsed) {
    return {
      ok: false,
      error: country
        ? "That doesn't look like a phone number."
        : "Include your country code, for example +44 20 7946 0958.",
    };
  }
  if (!parsed.isValid()) return { ok: false, error: "That phone number isn't valid. Check the digits." };
  return { ok: true, e164: parsed.number };
}

function isCountryCode(value: string | null | undefined): value is CountryCode {
  return typeof value === "string" && /^[A-Z]{2}$/.test(value);
}

const emailSchema = z.email();

/** Validates the whole form; returns either the insert payload or one message per bad field. */
export function validateLeadForm(
  input: LeadFormInput,
  fields: readonly FieldSpec[],
  defaultCountry: string | null | undefined,
): ValidationResult {
  const errors: FieldErrors = {};
  const required = (key: FieldKey) => fields.some((f) => f.key === key && f.required);
  const shown = (key: FieldKey) => fields.some((f) => f.key === key);

  const name = input.name.trim();
  if (shown("name")) {
    if (required("name") && name === "") errors.name = "Enter your name.";
    else if (name.length > LIMITS.name) errors.name = `Keep your name under ${LIMITS.name} characters.`;
  }

  let phone: string | null = null;
  if (shown("phone") && (input.phone.trim() !== "" || required("phone"))) {
    const result = normalizePhone(input.phone, defaultCountry);
    if (result.ok) phone = result.e164;
    else errors.phone = result.error;
  }

  const email = input.email.trim();
  if (shown("email")) {
    if (email === "") {
      if (required("email")) errors.email = "Enter your email address.";
    } else if (email.length > LIMITS.email || !emailSchema.safeParse(email).success) {
      errors.email = "Enter an email address like name@example.com.";
    }
  }

  const message = input.message.trim();
  if (shown("message")) {
    if (required("message") && message === "") errors.message = "Tell us what you need.";
    else if (message.length > LIMITS.message) {
      errors.message = `Keep your message under ${LIMITS.message} characters.`;
    }
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
