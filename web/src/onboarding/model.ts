// The onboarding wizard's rules, pure: which step a business is at (derived from the database, so the
// wizard resumes wherever the owner left it, on any device) and the first step's form.
export const STEPS = [
  { id: "business", title: "Your business" },
  { id: "number", title: "Your texting number" },
  { id: "code", title: "Confirm your phone" },
  { id: "widget", title: "Your website form" },
  { id: "snippet", title: "Install the form" },
] as const;
export type StepId = (typeof STEPS)[number]["id"];

export interface Progress {
  twilio_number: string | null;
  owner_phone_verified_at: string | null;
  widgets: number;
}

/**
 * The first step not done. The number comes before the code because the code is texted from the
 * business's number (there is nothing to text it from before).
 */
export function currentStep(progress: Progress | null): StepId {
  if (!progress) return "business";
  if (!progress.twilio_number) return "number";
  if (!progress.owner_phone_verified_at) return "code";
  if (progress.widgets === 0) return "widget";
  return "snippet";
}

export function isSetUp(progress: Progress): boolean {
  return currentStep(progress) === "snippet";
}

/**
 * What the owner typed as their mobile number, as E.164: (415) 555-2671, 415.555.2671 and 1 415 555 2671
 * are US numbers; a number written with + keeps its country code. Null when it cannot be a phone number.
 */
export function toE164(typed: string): string | null {
  const trimmed = typed.trim();
  const digits = trimmed.replace(/[\s().\-\u00a0]/g, "");
  if (/^\+[1-9]\d{7,14}$/.test(digits)) return digits;
  if (!/^\d+$/.test(digits)) return null;
  if (digits.length === 10) return `+1${digits}`;
  if (digits.length === 11 && digits.startsWith("1")) return `+${digits}`;
  return null;
}

export interface BusinessForm { name: string; phone: string; timezone: string; locale: "en" | "es" }
export type BusinessFormErrors = Partial<Record<keyof BusinessForm, string>>;

export function validateBusinessForm(form: BusinessForm, zones: readonly string[]):
  { ok: true; value: { p_name: string; p_owner_phone: string; p_timezone: string; p_locale: "en" | "es" } } | { ok: false; errors: BusinessFormErrors } {
  const errors: BusinessFormErrors = {};
  const name = form.name.trim().replace(/\s+/g, " ");
  if (name.length < 1 || name.length > 120) errors.name = "Give your business a name (up to 120 characters).";
  const phone = toE164(form.phone);
  if (!phone) errors.phone = "Enter your mobile number, like (415) 555-2671 (leadloop texts US and Canadian numbers).";
  if (!zones.includes(form.timezone)) errors.timezone = "Choose your time zone.";
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { p_name: name, p_owner_phone: phone!, p_timezone: form.timezone, p_locale: form.locale } };
}

/** The database names the field first ("owner_phone: ..."): put its message beside that field. */
export function businessErrorField(message: string): keyof BusinessForm | null {
  const field = /(?:^|: )(name|owner_phone|timezone|locale): /.exec(message)?.[1];
  return field === "owner_phone" ? "phone" : (field as keyof BusinessForm | undefined) ?? null;
}

/** The browser's time zones (Intl), with the browser's own zone first guess. */
export function timeZones(): { zones: string[]; guess: string } {
  const guess = Intl.DateTimeFormat().resolvedOptions().timeZone || "America/New_York";
  const supported = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const zones = supported.includes(guess) ? supported : [guess, ...supported];
  return { zones, guess };
}
