import { parsePhoneNumberFromString, type MetadataJson } from "libphonenumber-js/core";

/**
 * +14155552671 -> "(415) 555-2671" for the business's own country, international otherwise; as
 * stored when `rules` (libphonenumber-js metadata) do not cover the number's calling code.
 */
export function formatPhoneWith(rules: MetadataJson, e164: string, homeCountry = "US"): string {
  const parsed = parsePhoneNumberFromString(e164, rules);
  if (!parsed) return e164;
  return parsed.country === homeCountry ? parsed.formatNational() : parsed.formatInternational();
}
