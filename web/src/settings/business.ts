// The business's own settings form (name, owner phone, zone, language, confirmation mode, countries):
// checked here so the owner sees what is wrong before saving; the database's checks and triggers are the
// guarantee and their refusals are shown as they come.
import { z } from "zod";
import type { Business } from "../lib/types.ts";

export const LOCALES = [
  { value: "en", label: "English" },
  { value: "es", label: "Español" },
] as const;

export const CONFIRMATION_MODES = [
  { value: "leadloop", label: "leadloop sends it", hint: "One text confirms a STOP. Use this unless your number has Twilio's Advanced Opt-Out on." },
  { value: "twilio", label: "Twilio sends it", hint: "Your number uses Twilio Advanced Opt-Out, which replies to STOP itself; leadloop stays silent so the lead gets one confirmation, not two." },
] as const;

export interface BusinessForm {
  name: string;
  owner_phone: string;
  timezone: string;
  default_locale: string;
  opt_out_confirmation_by: string;
  allowed_nanp_regions: string[];
}

export type BusinessUpdate = Pick<Business, "name" | "owner_phone" | "timezone" | "default_locale" | "opt_out_confirmation_by" | "allowed_nanp_regions">;

/**
 * A typed phone number as E.164: "+44 20 7946 0958" as written, "(415) 555-0123" and "1 415 555 0123" as
 * +1 numbers (the dashboard's home country). Null when it cannot be a phone number.
 */
export function toE164(typed: string): string | null {
  const trimmed = typed.trim();
  const digits = trimmed.replace(/\D/g, "");
  if (trimmed.startsWith("+")) return /^[1-9]\d{7,14}$/.test(digits) ? `+${digits}` : null;
  if (/^[2-9]\d{9}$/.test(digits)) return `+1${digits}`;
  if (/^1[2-9]\d{9}$/.test(digits)) return `+${digits}`;
  return null;
}

const schema = z.object({
  name: z.string().trim().min(1, "Enter the business name").max(120, "At most 120 characters"),
  owner_phone: z.string().transform((value, ctx) => {
    const e164 = toE164(value);
    if (!e164) ctx.addIssue({ code: z.ZodIssueCode.custom, message: "Enter a phone number, like (415) 555-0123 or +44 20 7946 0958" });
    return e164 ?? "";
  }),
  timezone: z.string().min(1, "Choose a time zone"),
  default_locale: z.enum(["en", "es"]),
  opt_out_confirmation_by: z.enum(["leadloop", "twilio"]),
  allowed_nanp_regions: z.array(z.string().regex(/^[A-Z]{2}$/)).min(1, "Allow at least one country"),
});

export function businessFormFrom(business: Business): BusinessForm {
  return {
    name: business.name,
    owner_phone: business.owner_phone,
    timezone: business.timezone,
    default_locale: business.default_locale,
    opt_out_confirmation_by: business.opt_out_confirmation_by,
    allowed_nanp_regions: [...business.allowed_nanp_regions],
  };
}

export function validateBusiness(form: BusinessForm):
  | { ok: true; value: BusinessUpdate }
  | { ok: false; errors: Partial<Record<keyof BusinessForm, string>> } {
  const result = schema.safeParse(form);
  if (result.success) return { ok: true, value: result.data };
  const errors: Partial<Record<keyof BusinessForm, string>> = {};
  for (const issue of result.error.issues) errors[issue.path[0] as keyof BusinessForm] ??= issue.message;
  return { ok: false, errors };
}

/** Only what changed, so a save never overwrites someone else's edit of another field (or re-verifies an unchanged phone). */
export function changedBusiness(business: Business, update: BusinessUpdate): Partial<BusinessUpdate> {
  const changes: Partial<BusinessUpdate> = {};
  if (update.name !== business.name) changes.name = update.name;
  if (update.owner_phone !== business.owner_phone) changes.owner_phone = update.owner_phone;
  if (update.timezone !== business.timezone) changes.timezone = update.timezone;
  if (update.default_locale !== business.default_locale) changes.default_locale = update.default_locale;
  if (update.opt_out_confirmation_by !== business.opt_out_confirmation_by) changes.opt_out_confirmation_by = update.opt_out_confirmation_by;
  const regions = [...update.allowed_nanp_regions].sort();
  if (regions.join() !== [...business.allowed_nanp_regions].sort().join()) changes.allowed_nanp_regions = regions;
  return changes;
}

/** Country names for ISO codes, in the dashboard's language. */
export function regionName(code: string, locale = "en"): string {
  try {
    return new Intl.DisplayNames([locale], { type: "region" }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** Every IANA zone the browser knows, with the business's current one first if the list lacks it. */
export function timeZones(current: string): string[] {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return zones.includes(current) ? zones : [current, ...zones];
}
