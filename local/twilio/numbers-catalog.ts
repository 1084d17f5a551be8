// The numbers the emulator's account can buy (AvailablePhoneNumbers): real area codes with their city,
// state, ZIP, coordinates, rate center and LATA, and only lines 555-0100..0199 in each, the range
// NANPA reserves for fiction, so the emulator never offers a number that rings a real person.

export type NumberType = "Local" | "TollFree";

export interface AreaCodeInfo {
  areaCode: string;
  country: "US" | "CA";
  locality: string;
  region: string;
  postalCode: string;
  latitude: number;
  longitude: number;
  rateCenter: string;
  lata: string;
}

/** Capabilities as the AvailablePhoneNumbers resource spells them (Twilio's own upper-case SMS/MMS). */
export interface AvailableCapabilities {
  voice: boolean;
  SMS: boolean;
  MMS: boolean;
}

export interface AvailableNumber {
  phoneNumber: string;
  friendlyName: string;
  type: NumberType;
  country: "US" | "CA";
  area: AreaCodeInfo | null;
  capabilities: AvailableCapabilities;
}

const a = (areaCode: string, locality: string, region: string, postalCode: string, latitude: number, longitude: number, rateCenter: string, lata: string, country: "US" | "CA" = "US"): AreaCodeInfo =>
  ({ areaCode, country, locality, region, postalCode, latitude, longitude, rateCenter, lata });

export const areaCodes: readonly AreaCodeInfo[] = [
  a("202", "Washington", "DC", "20001", 38.9072, -77.0369, "WASHINGTON", "236"),
  a("206", "Seattle", "WA", "98101", 47.6114, -122.3305, "SEATTLE", "674"),
  a("210", "San Antonio", "TX", "78205", 29.4241, -98.4936, "SNANTONIO", "566"),
  a("212", "New York", "NY", "10001", 40.7506, -73.9972, "NWYRCYZN01", "132"),
  a("213", "Los Angeles", "CA", "90012", 34.0614, -118.2385, "LSAN DA 01", "730"),
  a("214", "Dallas", "TX", "75201", 32.7876, -96.7994, "DALLAS", "552"),
  a("215", "Philadelphia", "PA", "19107", 39.9526, -75.1652, "PHLA", "228"),
  a("303", "Denver", "CO", "80202", 39.7525, -104.9995, "DENVER", "656"),
  a("305", "Miami", "FL", "33130", 25.7675, -80.2044, "MIAMI", "460"),
  a("312", "Chicago", "IL", "60602", 41.8829, -87.6291, "CHICAGO", "358"),
  a("313", "Detroit", "MI", "48226", 42.3314, -83.0458, "DETROIT", "340"),
  a("404", "Atlanta", "GA", "30303", 33.7525, -84.3915, "ATLANTA", "438"),
  a("405", "Oklahoma City", "OK", "73102", 35.4676, -97.5164, "OKLA CITY", "536"),
  a("410", "Baltimore", "MD", "21202", 39.2904, -76.6122, "BALTIMORE", "238"),
  a("415", "San Francisco", "CA", "94103", 37.7725, -122.4091, "SNFC CNTRL", "722"),
  a("480", "Mesa", "AZ", "85201", 33.4152, -111.8315, "MESA", "666"),
  a("503", "Portland", "OR", "97204", 45.5189, -122.6793, "PORTLAND", "672"),
  a("504", "New Orleans", "LA", "70112", 29.9511, -90.0715, "NWORLEANS", "490"),
  a("510", "Oakland", "CA", "94612", 37.8085, -122.2707, "OKLD", "722"),
  a("512", "Austin", "TX", "78701", 30.2711, -97.7437, "AUSTIN", "558"),
  a("520", "Tucson", "AZ", "85701", 32.2217, -110.9265, "TUCSON", "668"),
  a("602", "Phoenix", "AZ", "85004", 33.451, -112.0686, "PHOENIX", "666"),
  a("612", "Minneapolis", "MN", "55401", 44.9833, -93.2667, "MINNEAPOLIS", "628"),
  a("615", "Nashville", "TN", "37201", 36.1659, -86.7844, "NASHVILLE", "470"),
  a("617", "Boston", "MA", "02108", 42.3576, -71.0634, "BOSTON", "128"),
  a("619", "San Diego", "CA", "92101", 32.7157, -117.1611, "SNDG DA 01", "732"),
  a("702", "Las Vegas", "NV", "89101", 36.172, -115.1224, "LAS VEGAS", "721"),
  a("704", "Charlotte", "NC", "28202", 35.2271, -80.8431, "CHARLOTTE", "420"),
  a("713", "Houston", "TX", "77002", 29.7566, -95.365, "HOUSTON", "560"),
  a("718", "Brooklyn", "NY", "11201", 40.6944, -73.9905, "NWYRCYZN03", "132"),
  a("801", "Salt Lake City", "UT", "84111", 40.7566, -111.884, "SALT LAKE", "660"),
  a("808", "Honolulu", "HI", "96813", 21.3099, -157.8581, "HONOLULU", "834"),
  a("813", "Tampa", "FL", "33602", 27.9506, -82.4572, "TAMPA", "952"),
  a("907", "Anchorage", "AK", "99501", 61.2181, -149.9003, "ANCHORAGE", "832"),
  a("919", "Raleigh", "NC", "27601", 35.7796, -78.6382, "RALEIGH", "426"),
  a("416", "Toronto", "ON", "M5H 2N2", 43.6532, -79.3832, "TORONTO", "", "CA"),
  a("514", "Montreal", "QC", "H2Y 1C6", 45.5017, -73.5673, "MONTREAL", "", "CA"),
  a("604", "Vancouver", "BC", "V6B 1A1", 49.2827, -123.1207, "VANCOUVER", "", "CA"),
];

export const tollFreeCodes = ["800", "833", "844", "855", "866", "877", "888"] as const;

const byAreaCode = new Map(areaCodes.map((info) => [info.areaCode, info]));

export function friendlyName(e164: string): string {
  const digits = e164.slice(2);
  return `(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`;
}

function capabilitiesOf(type: NumberType, country: "US" | "CA", line: number): AvailableCapabilities {
  // Some local lines are voice-only, as on Twilio, so SmsEnabled=true actually filters something.
  if (type === "Local" && line % 10 === 7) return { voice: true, SMS: false, MMS: false };
  return { voice: true, SMS: true, MMS: country === "US" };
}

function numberFor(type: NumberType, code: string, line: number): AvailableNumber {
  const phoneNumber = `+1${code}5550${100 + line}`;
  const area = type === "Local" ? byAreaCode.get(code)! : null;
  const country = area?.country ?? "US";
  return { phoneNumber, friendlyName: friendlyName(phoneNumber), type, country, area, capabilities: capabilitiesOf(type, country, line) };
}

/** The catalog entry for a number, whether or not someone owns it; null when the catalog never offers it. */
export function catalogEntry(phoneNumber: string): AvailableNumber | null {
  const m = /^\+1(\d{3})5550(1\d\d)$/.exec(phoneNumber);
  if (!m) return null;
  const line = Number(m[2]) - 100;
  if (byAreaCode.has(m[1])) return numberFor("Local", m[1], line);
  if ((tollFreeCodes as readonly string[]).includes(m[1])) return numberFor("TollFree", m[1], line);
  return null;
}

export interface SearchFilters {
  type: NumberType;
  country: string;
  areaCode?: string;
  contains?: RegExp;
  inRegion?: string;
  inLocality?: string;
  inPostalCode?: string;
  smsEnabled?: boolean;
  mmsEnabled?: boolean;
  voiceEnabled?: boolean;
  faxEnabled?: boolean;
}

/**
 * Available numbers matching the filters, in a stable order that mixes area codes (line by line) so an
 * unfiltered search shows many cities, skipping numbers for which `owned` is true.
 */
export function searchAvailable(filters: SearchFilters, owned: (phoneNumber: string) => boolean, limit: number): AvailableNumber[] {
  const codes = filters.type === "TollFree"
    ? filters.country === "US" || filters.country === "CA" ? [...tollFreeCodes] : []
    : areaCodes.filter((info) => info.country === filters.country).map((info) => info.areaCode);
  const candidates = codes.filter((code) => !filters.areaCode || code === filters.areaCode);
  const found: AvailableNumber[] = [];
  // Fax: no number here takes faxes, so FaxEnabled=true finds nothing.
  if (filters.faxEnabled === true) return found;
  for (let line = 0; line < 100 && found.length < limit; line++) {
    for (const code of candidates) {
      const n = numberFor(filters.type, code, line);
      if (owned(n.phoneNumber)) continue;
      if (filters.contains && !filters.contains.test(n.phoneNumber)) continue;
      if (filters.inRegion && n.area?.region.toUpperCase() !== filters.inRegion.toUpperCase()) continue;
      if (filters.inLocality && n.area?.locality.toLowerCase() !== filters.inLocality.toLowerCase()) continue;
      if (filters.inPostalCode && n.area?.postalCode !== filters.inPostalCode) continue;
      if (filters.smsEnabled !== undefined && n.capabilities.SMS !== filters.smsEnabled) continue;
      if (filters.mmsEnabled !== undefined && n.capabilities.MMS !== filters.mmsEnabled) continue;
      if (filters.voiceEnabled !== undefined && n.capabilities.voice !== filters.voiceEnabled) continue;
      found.push(n);
      if (found.length >= limit) break;
    }
  }
  return found;
}

const keypad: Record<string, string> = {
  A: "2", B: "2", C: "2", D: "3", E: "3", F: "3", G: "4", H: "4", I: "4", J: "5", K: "5", L: "5",
  M: "6", N: "6", O: "6", P: "7", Q: "7", R: "7", S: "7", T: "8", U: "8", V: "8", W: "9", X: "9", Y: "9", Z: "9",
};

/**
 * Twilio's `Contains` pattern: 2-16 characters of digits, letters (read as keypad digits) and the
 * meta-characters `*` (one digit), `%` (any run of digits), a leading `+` (match from the start of the
 * E.164 number) and a trailing `$` (match at its end). Returns null for a pattern Twilio rejects.
 */
export function containsPattern(pattern: string): RegExp | null {
  if (pattern.length < 2 || pattern.length > 16 || !/^\+?[0-9A-Za-z*%]+\$?$/.test(pattern)) return null;
  const anchoredStart = pattern.startsWith("+");
  const anchoredEnd = pattern.endsWith("$");
  const body = pattern.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined);
  if ((body.match(/[0-9A-Za-z]/g) ?? []).length < 2) return null;
  const source = [...body.toUpperCase()].map((ch) => (ch === "*" ? "\\d" : ch === "%" ? "\\d*" : keypad[ch] ?? ch)).join("");
  return new RegExp(`${anchoredStart ? "^\\+" : ""}${source}${anchoredEnd ? "$" : ""}`);
}
