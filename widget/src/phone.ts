// Phone numbers to E.164 with libphonenumber-js and its "min" metadata, split by country calling
// code: the script carries the rules for +1 (US, Canada and the rest of North America) and fetches
// another calling code's rules (0.2-1.4 KB each) the first time a number or a default country needs
// them. With the rules loaded, every answer is the one the whole metadata gives (validation.test.ts
// checks that for every country); without them (offline, blocked file) a number that already has its
// country code is passed on for the database to check, so a lead is never lost to a missing file.
import { parsePhoneNumberFromString, type CountryCode, type MetadataJson } from "libphonenumber-js/core";

/**
 * "44" -> ["GB", "GG", "IM", "JE"]: every calling code with its countries ([] for +800 and the other
 * non-geographic codes), which the script always carries (~1 KB gzipped).
 */
export type CallingCodes = Record<string, string[]>;

/** One calling code's rules, as `phone/<code>.json` holds them (a slice of metadata.min.json). */
export interface MetadataChunk {
  country_calling_codes: Record<string, string[]>;
  countries: Record<string, unknown>;
  nonGeographic?: Record<string, unknown>;
}

export type PhoneResult =
  | { ok: true; e164: string }
  | { ok: false; reason: "not_a_number" | "needs_country_code" | "invalid" };

/** What it takes to fetch one chunk; resolves null when it cannot be had. */
export type ChunkLoader = (callingCode: string) => Promise<unknown>;

export class PhoneRules {
  private readonly metadata: MetadataJson & { nonGeographic: Record<string, unknown> };
  private readonly codeByCountry = new Map<string, string>();
  private readonly pending = new Map<string, Promise<boolean>>();

  constructor(
    private readonly callingCodes: CallingCodes,
    bundled: MetadataChunk[],
    private readonly load: ChunkLoader | null,
  ) {
    this.metadata = { version: 4, country_calling_codes: {}, countries: {}, nonGeographic: {} } as never;
    for (const [code, countries] of Object.entries(callingCodes)) {
      for (const country of countries) if (!this.codeByCountry.has(country)) this.codeByCountry.set(country, code);
    }
    for (const chunk of bundled) this.add(chunk);
  }

  /** Merges one calling code's rules; refuses anything that is not shaped like metadata. */
  add(chunk: unknown): boolean {
    if (!chunk || typeof chunk !== "object") return false;
    const { country_calling_codes: codes, countries, nonGeographic = {} } = chunk as Partial<MetadataChunk>;
    if (!codes || typeof codes !== "object" || !countries || typeof countries !== "object" || typeof nonGeographic !== "object") {
      return false;
    }
    const known = (c: unknown) => typeof c === "string" && Array.isArray((countries as Record<string, unknown>)[c]);
    if (!Object.values(codes).every((list) => Array.isArray(list) && list.every(known))) return false;
    Object.assign(this.metadata.countries, countries);
    Object.assign(this.metadata.nonGeographic, nonGeographic);
    Object.assign(this.metadata.country_calling_codes, codes);
    return true;
  }

  /** Whether one calling code's rules are here (+800 and the like have no country, only their own entry). */
  has(callingCode: string): boolean {
    return callingCode in this.metadata.country_calling_codes || callingCode in this.metadata.nonGeographic;
  }

  callingCodeOf(country: string): string | undefined {
    return this.codeByCountry.get(country);
  }

  /** Every calling code whose rules parsing `raw` may consult. Over-asking is harmless. */
  codesFor(raw: string, defaultCountry: string | null): string[] {
    const codes = new Set<string>();
    const home = defaultCountry ? this.callingCodeOf(defaultCountry) : undefined;
    if (home) codes.add(home);
    const start = raw.search(/[+\d]/);
    const digits = raw.replace(/\D/g, "");
    let international: string | null = null;
    if (start >= 0 && raw[start] === "+") international = digits;
    else if (defaultCountry && home && this.has(home)) {
      // "011 44 20 ..." from the US, "00 44 20 ..." from Spain: the digits after the home country's
      // international prefix start with another calling code.
      const idd = (this.metadata.countries[defaultCountry as CountryCode] as unknown[] | undefined)?.[1];
      const match = typeof idd === "string" ? new RegExp(`^(?:${idd})`).exec(digits) : null;
      if (match) international = digits.slice(match[0].length);
    }
    if (international) {
      for (let length = 1; length <= 3; length++) {
        const code = international.slice(0, length);
        if (code.length === length && this.callingCodes[code]) codes.add(code);
      }
    }
    return [...codes];
  }

  /** Loads what `raw` needs, waiting at most `timeoutMs`; true when every rule it needs is here. */
  async prepare(raw: string, defaultCountry: string | null, timeoutMs = 4000): Promise<boolean> {
    // Twice: the home country's rules say what its international prefix looks like.
    await this.ensure(this.codesFor(raw, defaultCountry), timeoutMs);
    return this.ensure(this.codesFor(raw, defaultCountry), timeoutMs);
  }

  ensure(codes: string[], timeoutMs = 4000): Promise<boolean> {
    const missing = codes.filter((code) => !this.has(code));
    if (missing.length === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs, false);
      void Promise.all(missing.map((code) => this.fetchOnce(code))).then((ok) => {
        clearTimeout(timer);
        resolve(ok.every(Boolean));
      });
    });
  }

  private fetchOnce(code: string): Promise<boolean> {
    const load = this.load;
    if (!load || !this.callingCodes[code]) return Promise.resolve(false);
    let pending = this.pending.get(code);
    if (!pending) {
      pending = load(code).then((chunk) => this.add(chunk), () => false).then((ok) => {
        // A failed fetch may succeed later (the visitor's connection came back): try again next time.
        if (!ok) this.pending.delete(code);
        return ok;
      });
      this.pending.set(code, pending);
    }
    return pending;
  }

  /**
   * Reads a number typed by a visitor as E.164. National numbers are read in the widget's default
   * country, so "(415) 555-2671" works on a US business's site.
   */
  normalize(raw: string, defaultCountry: string | null): PhoneResult {
    const needed = this.codesFor(raw, defaultCountry);
    if (needed.every((code) => this.has(code))) {
      const country = defaultCountry && /^[A-Z]{2}$/.test(defaultCountry) && this.has(this.callingCodeOf(defaultCountry) ?? "")
        ? (defaultCountry as CountryCode)
        : undefined;
      const parsed = parsePhoneNumberFromString(raw, country ? { defaultCountry: country } : {}, this.metadata);
      if (!parsed) return { ok: false, reason: country ? "not_a_number" : "needs_country_code" };
      return parsed.isValid() ? { ok: true, e164: parsed.number } : { ok: false, reason: "invalid" };
    }
    // The rules could not be loaded. A number written with its country code is what the database
    // checks (E.164: + and 8 to 15 digits); without one there is no way to tell its country.
    const digits = raw.replace(/\D/g, "");
    if (raw.trim().startsWith("+") && /^[1-9]\d{7,14}$/.test(digits)) return { ok: true, e164: `+${digits}` };
    return { ok: false, reason: "needs_country_code" };
  }
}

/** The chunk file name for one calling code, next to the widget script: `phone/44.json`. */
export function chunkUrl(scriptUrl: string, callingCode: string): string {
  return new URL(`phone/${callingCode}.json`, scriptUrl).href;
}
