import { test } from "node:test";
import assert from "node:assert/strict";
import { LOCALES, matchLocale, MESSAGES, resolveLocale, type Messages } from "./i18n.ts";

test("the script's data-locale wins over the page's language; English when neither is spoken", () => {
  assert.equal(resolveLocale("es", "en"), "es");
  assert.equal(resolveLocale(undefined, "es-MX"), "es");
  assert.equal(resolveLocale("", "ES"), "es");
  assert.equal(resolveLocale("fr", "es"), "es", "an unsupported data-locale defers to the page");
  assert.equal(resolveLocale("en-US", "es"), "en");
  assert.equal(resolveLocale(null, "de"), "en");
  assert.equal(resolveLocale(null, null), "en");
  assert.equal(matchLocale("es_419"), "es");
  assert.equal(matchLocale("spanish"), null);
});

test("every string exists in every language, and none is left in English", () => {
  const sample = (m: Messages) => Object.entries(m).flatMap(([key, value]): [string, string][] => {
    if (typeof value === "string") return [[key, value]];
    if (typeof value === "function") return [[key, String(value("Bright Plumbing", true))], [`${key}/2`, String(value("email", false))]];
    return Object.entries(value as Record<string, string>).map(([k, v]) => [`${key}.${k}`, v]);
  });
  const english = new Map(sample(MESSAGES.en));
  for (const locale of LOCALES) {
    const strings = sample(MESSAGES[locale]);
    assert.deepEqual(strings.map(([k]) => k), [...english.keys()], locale);
    for (const [key, text] of strings) {
      assert.ok(text.trim().length > 1, `${locale} ${key} is empty`);
      if (locale !== "en" && key !== "locale") assert.notEqual(text, english.get(key), `${locale} ${key} is untranslated`);
    }
  }
});
