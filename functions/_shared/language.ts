// Language helpers for the extractor and the summarizer. Which language a lead writes is decided by
// the database (private.detect_locale) and arrives as the conversation's locale.
import type { Locale } from "./contracts.ts";

export type { Locale };
export const supportedLocales: readonly Locale[] = ["en", "es"];

export function toLocale(value: string | null | undefined, fallback: Locale = "en"): Locale {
  const base = (value ?? "").toLowerCase().slice(0, 2);
  return (supportedLocales as readonly string[]).includes(base) ? (base as Locale) : fallback;
}

/** Lowercase without accents, so "Mañana" and "manana" compare equal. */
export function fold(text: string): string {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}
