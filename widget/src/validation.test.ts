import { test } from "node:test";
import assert from "node:assert/strict";
import { MESSAGES } from "./i18n.ts";
import { normalizePhone, validateLeadForm, type FieldSpec, type LeadFormInput } from "./validation.ts";
import { DEFAULT_FIELDS } from "./api.ts";
import { PhoneRules } from "./phone.ts";
import { BUNDLED_CALLING_CODES, callingCodes, chunkFor } from "../phone-metadata.ts";

const en = MESSAGES.en;
const es = MESSAGES.es;
const blank: LeadFormInput = { name: "", phone: "", email: "", emailLooksValid: true, message: "", smsConsent: false, honeypot: "" };

/** What the script starts with (+1 only), fetching the other calling codes' files on demand. */
function scriptRules(fetched: string[] = []): PhoneRules {
  return new PhoneRules(callingCodes(), BUNDLED_CALLING_CODES.map(chunkFor), async (code) => {
    fetched.push(code);
    return chunkFor(code);
  });
}

/** normalizePhone after the form's own step: load the rules the number needs, then check it. */
async function phone(raw: string, country: string | null, rules = scriptRules(), t = en) {
  await rules.prepare(raw, country);
  return normalizePhone(raw, country, rules, t);
}

test("normalizePhone reads national numbers in the widget's default country", async () => {
  assert.deepEqual(await phone("(415) 555-2671", "US"), { ok: true, e164: "+14155552671" });
  assert.deepEqual(await phone("415.555.2671", "US"), { ok: true, e164: "+14155552671" });
  assert.deepEqual(await phone("(604) 253-0199", "CA"), { ok: true, e164: "+16042530199" });
  assert.deepEqual(await phone("020 7946 0958", "GB"), { ok: true, e164: "+442079460958" });
  assert.deepEqual(await phone("06 12 34 56 78", "FR"), { ok: true, e164: "+33612345678" });
});

test("normalizePhone keeps an explicit country code over the default country", async () => {
  assert.deepEqual(await phone("+44 20 7946 0958", "US"), { ok: true, e164: "+442079460958" });
  assert.deepEqual(await phone("011 44 20 7946 0958", "US"), { ok: true, e164: "+442079460958" });
});

test("normalizePhone refuses letters, short numbers and numbers that cannot exist", async () => {
  const bad = ["call me", "555-CALL-NOW", "12345", "(415) 555-267", "+1 011 555 2671", ""];
  for (const raw of bad) {
    const result = await phone(raw, "US");
    assert.equal(result.ok, false, raw);
    if (!result.ok) assert.match(result.error, /\w/);
  }
});

test("normalizePhone without a default country asks for the country code", async () => {
  assert.deepEqual(await phone("415 555 2671", null), { ok: false, error: en.phoneNeedsCountryCode });
  assert.deepEqual(await phone("+1 415 555 2671", null), { ok: true, e164: "+14155552671" });
});

test("normalizePhone speaks Spanish", async () => {
  assert.deepEqual(await phone("", "US", scriptRules(), es), { ok: false, error: "Escriba su número de teléfono." });
  assert.deepEqual(await phone("555-CALL", "US", scriptRules(), es), { ok: false, error: "Use solo números, por ejemplo +1 415 555 2671." });
  assert.deepEqual(await phone("(415) 555-267", "US", scriptRules(), es), { ok: false, error: es.phoneInvalid });
  assert.deepEqual(await phone("55 1234 5678", null, scriptRules(), es), { ok: false, error: es.phoneNeedsCountryCode });
});

// The old widget shipped all of metadata.min.json; the split rules must answer exactly as it did.
test("split phone rules answer like the whole metadata for every country, written every usual way", async () => {
  const { parsePhoneNumberFromString, getExampleNumber } = await import("libphonenumber-js/min");
  const examples = (await import("libphonenumber-js/mobile/examples")).default;
  const reference = (raw: string, country: string | null) => {
    const parsed = parsePhoneNumberFromString(raw, country ? { defaultCountry: country as never } : undefined);
    if (!parsed) return country ? "not_a_number" : "needs_country_code";
    return parsed.isValid() ? parsed.number : "invalid";
  };
  const countries = Object.keys(callingCodes()).flatMap((code) => callingCodes()[code]);
  const inputs: string[] = [];
  for (const country of countries) {
    const example = getExampleNumber(country as never, examples);
    if (!example) continue;
    const national = example.formatNational();
    const digits = example.nationalNumber;
    inputs.push(
      example.number, example.formatInternational(), national,
      `011 ${example.countryCallingCode} ${digits}`, `00 ${example.countryCallingCode} ${digits}`,
      national.slice(0, -1), `${national}7`, `+${example.countryCallingCode} ${digits.slice(0, -2)}`,
    );
  }
  let compared = 0;
  const fetched: string[] = [];
  const rules = scriptRules(fetched);
  for (const home of [...countries, null]) {
    // Every number against its own country and a handful of others keeps the run near a second.
    const sample = home === null || ["US", "CA", "MX", "GB", "ES", "AU", "BR", "IN", "DE"].includes(home)
      ? inputs
      : inputs.filter((_, i) => i % 40 === countries.indexOf(home) % 40);
    for (const raw of sample) {
      await rules.prepare(raw, home);
      const result = rules.normalize(raw, home);
      assert.equal(result.ok ? result.e164 : result.reason, reference(raw, home), `${raw} read in ${home}`);
      compared++;
    }
  }
  assert.ok(compared > 10_000, `compared ${compared}`);
  assert.ok(!fetched.includes("1"), "+1 ships with the script");
  assert.equal(new Set(fetched).size, fetched.length, "each calling code is fetched once");
});

test("the script fetches only the calling codes a number or the default country needs", async () => {
  const fetched: string[] = [];
  const rules = scriptRules(fetched);
  await phone("(415) 555-2671", "US", rules);
  await phone("+1 604 253 0199", "US", rules);
  assert.deepEqual(fetched, []);
  await phone("+52 55 1234 5678", "US", rules);
  assert.deepEqual(fetched, ["52"]);
  await phone("011 44 20 7946 0958", "US", rules);
  assert.deepEqual(fetched, ["52", "44"]);
  await rules.prepare("", "ES");
  assert.deepEqual(fetched, ["52", "44", "34"]);
  assert.deepEqual(rules.codesFor("00 49 30 123456", "ES").sort(), ["34", "49"]);
});

test("without the rules file a number with its country code still goes through, a national one asks for it", async () => {
  let online = false;
  const rules = new PhoneRules(callingCodes(), [chunkFor("1")], async (code) => {
    if (!online) throw new TypeError("Failed to fetch");
    return chunkFor(code);
  });
  assert.deepEqual(await phone("+44 20 7946 0958", "US", rules), { ok: true, e164: "+442079460958" });
  assert.deepEqual(await phone("+44 20", "US", rules), { ok: false, error: en.phoneNeedsCountryCode });
  assert.deepEqual(await phone("020 7946 0958", "GB", rules), { ok: false, error: en.phoneNeedsCountryCode });
  assert.deepEqual(await phone("(415) 555-2671", "US", rules), { ok: true, e164: "+14155552671" }, "+1 needs no file");
  online = true; // the connection came back: the next try fetches again
  assert.deepEqual(await phone("020 7946 0958", "GB", rules), { ok: true, e164: "+442079460958" });
});

test("a hung rules file costs at most the timeout, and a broken one is refused", async () => {
  const hung = new PhoneRules(callingCodes(), [], () => new Promise(() => undefined));
  const started = Date.now();
  assert.equal(await hung.prepare("+44 20 7946 0958", null, 50), false);
  assert.ok(Date.now() - started < 1000);
  const broken = new PhoneRules(callingCodes(), [], async () => ({ country_calling_codes: { 44: ["GB"] }, countries: {} }));
  assert.equal(await broken.prepare("+44 20 7946 0958", null), false);
  assert.equal(broken.has("44"), false);
  assert.equal(new PhoneRules(callingCodes(), [], async () => "<html>").add("<html>"), false);
});

test("validateLeadForm builds the insert payload with an E.164 phone and trimmed fields", () => {
  const result = validateLeadForm(
    { ...blank, name: "  Dana Ruiz ", phone: "415 555 2671", email: " dana@example.com ", message: " Leaky tap " },
    DEFAULT_FIELDS,
    "US",
    scriptRules(),
    en,
  );
  assert.deepEqual(result, {
    ok: true,
    value: {
      name: "Dana Ruiz",
      phone: "+14155552671",
      email: "dana@example.com",
      message: "Leaky tap",
      sms_consent: false,
      honeypot: null,
    },
  });
});

test("validateLeadForm never requires SMS consent and passes it through as given", () => {
  const base = { ...blank, name: "Dana", phone: "+14155552671" };
  const without = validateLeadForm(base, DEFAULT_FIELDS, "US", scriptRules(), en);
  const withConsent = validateLeadForm({ ...base, smsConsent: true }, DEFAULT_FIELDS, "US", scriptRules(), en);
  assert.equal(without.ok && without.value.sms_consent, false);
  assert.equal(withConsent.ok && withConsent.value.sms_consent, true);
});

test("validateLeadForm reports one message per bad field, in the visitor's language", () => {
  const input = { ...blank, phone: "12", email: "not-an-email", emailLooksValid: false };
  const result = validateLeadForm(input, DEFAULT_FIELDS, "US", scriptRules(), en);
  assert.deepEqual(result, {
    ok: false,
    errors: { name: "Enter your name.", phone: en.phoneInvalid, email: "Enter an email address like name@example.com." },
  });
  const spanish = validateLeadForm(input, DEFAULT_FIELDS, "US", scriptRules(), es);
  assert.deepEqual(spanish, {
    ok: false,
    errors: { name: "Escriba su nombre.", phone: es.phoneInvalid, email: "Escriba un correo electrónico como nombre@ejemplo.com." },
  });
});

test("validateLeadForm enforces length limits", () => {
  const input = { ...blank, name: "x".repeat(101), phone: "+14155552671", message: "y".repeat(2001), email: `${"a".repeat(250)}@b.co` };
  const result = validateLeadForm(input, DEFAULT_FIELDS, "US", scriptRules(), es);
  assert.deepEqual(result, {
    ok: false,
    errors: {
      name: "Su nombre debe tener menos de 100 caracteres.",
      email: es.emailInvalid,
      message: "Su mensaje debe tener menos de 2000 caracteres.",
    },
  });
});

test("validateLeadForm follows the configured required flags and hidden fields", () => {
  const fields: FieldSpec[] = [
    { key: "phone", label: "Phone", required: false },
    { key: "email", label: "Email", required: true },
  ];
  const missingEmail = validateLeadForm({ ...blank, name: "ignored" }, fields, "US", scriptRules(), en);
  assert.deepEqual(missingEmail, { ok: false, errors: { email: "Enter your email address." } });
  const ok = validateLeadForm({ ...blank, name: "hidden field", email: "a@b.co" }, fields, "US", scriptRules(), en);
  assert.deepEqual(ok.ok && ok.value, {
    name: null, phone: null, email: "a@b.co", message: null, sms_consent: false, honeypot: null,
  });
});

test("validateLeadForm forwards a filled honeypot so the database can drop the bot", () => {
  const result = validateLeadForm(
    { ...blank, name: "Bot", phone: "+14155552671", honeypot: "http://spam.example" },
    DEFAULT_FIELDS,
    "US",
    scriptRules(),
    en,
  );
  assert.equal(result.ok && result.value.honeypot, "http://spam.example");
});
