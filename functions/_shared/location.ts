// Finds where the job is: a street address, a ZIP/postcode, or a city, most specific first.
import type { Span } from "./timing.ts";

export interface LocationMatch {
  text: string;
  /** 3 = street address, 2 = ZIP/postcode, 1 = city or area. */
  specificity: 1 | 2 | 3;
  spans: Span[];
}

const streetSuffix =
  "(?:St|Street|Ave|Avenue|Av|Rd|Road|Blvd|Boulevard|Dr|Drive|Ln|Lane|Ct|Court|Way|Pl|Place|Pkwy|Parkway|Cir|Circle|Ter|Terrace|Hwy|Highway|Trl|Trail|Loop|Sq|Square|Row|Close|Crescent|Cres|Grove|Gardens)";

const usAddress = new RegExp(
  String.raw`\b\d{1,6}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Za-z0-9'.-]+\s+){0,3}` + streetSuffix +
    String.raw`\b\.?(?:\s*(?:,\s*)?(?:Apt|Apartment|Unit|Suite|Ste|#)\.?\s*[A-Za-z0-9-]+)?` +
    String.raw`(?:,\s*[A-Z][A-Za-z]+(?:\s[A-Z][A-Za-z]+){0,2})?(?:,?\s+[A-Z]{2}\b)?(?:,?\s+\d{5}(?:-\d{4})?)?`,
  "u",
);
const spanishAddress =
  /\b(?:calle|avenida|av\.|avda\.?|carrera|colonia)\s+[\p{L}0-9 .'-]{2,40}?\s*(?:#|no\.?\s*|n[úu]mero\s*)?\d{1,5}[A-Za-z]?\b(?:,\s*[\p{Lu}][\p{L}]+(?:\s[\p{Lu}][\p{L}]+){0,2})?/iu;
const usZip = /(?<![\d-])\b\d{5}(?:-\d{4})?\b(?![\d-])/;
const ukPostcode = /\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b/;
const caPostcode = /\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b/;

// Capitalized words that follow "in"/"en" but are not places.
const notPlaces = new Set(
  (
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july " +
    "august september october november december lunes martes miercoles jueves viernes sabado domingo enero " +
    "febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre spanish english espanol " +
    "ingles i the a an my our am pm asap it that this there here la el los las mi su un una tomorrow today " +
    "manana hoy christmas thanksgiving navidad hello hi hola thanks gracias ok okay yes no si please " +
    "in at on by near around for to of and or we you he she they our your"
  ).split(" "),
);

function fold(s: string): string {
  return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

const cityWord = String.raw`(?:[\p{Lu}][\p{L}'.-]+|St\.?|Ft\.?|Mt\.?|de|del|la|los|las|of)`;
const cityAfterPreposition = new RegExp(
  String.raw`\b(?:in|near|around|by|at|en|cerca de)\s+(?:the\s+|el\s+|la\s+|los\s+|las\s+)?((?:[\p{Lu}][\p{L}'.-]+)(?:\s+` +
    cityWord +
    String.raw`){0,3})(?:,\s*([A-Z]{2})\b)?(\s+area|\s+side)?`,
  "gu",
);
const cityState = /\b([\p{Lu}][\p{L}.-]+(?:\s[\p{Lu}][\p{L}.-]+){0,2}),\s*([A-Z]{2})\b/gu;
const cityArea = /\b([\p{Lu}][\p{L}.-]+(?:\s[\p{Lu}][\p{L}.-]+){0,2})\s+(?:area|side)\b/gu;

function spanOf(m: RegExpExecArray, group = 0): Span {
  const start = m.index + (group === 0 ? 0 : m[0].indexOf(m[group]));
  return { start, end: start + m[group].length };
}

function cleanCity(raw: string): string | null {
  // Trailing lowercase connector words are not part of the name.
  const words = raw.trim().split(/\s+/);
  while (words.length && /^(?:de|del|la|los|las|of)$/.test(words.at(-1)!)) words.pop();
  if (words.length === 0) return null;
  if (notPlaces.has(fold(words[0]).replace(/[.']/g, ""))) return null;
  return words.join(" ");
}

export function findLocation(text: string): LocationMatch | null {
  const address = usAddress.exec(text) ?? spanishAddress.exec(text);
  if (address) {
    return { text: address[0].trim().replace(/[.,]$/, ""), specificity: 3, spans: [spanOf(address)] };
  }
  const postal = usZip.exec(text) ?? ukPostcode.exec(text) ?? caPostcode.exec(text);
  const city = findCity(text);
  if (postal) {
    // A city next to the ZIP reads better for the owner: "Austin 78704".
    const spans = [spanOf(postal)];
    let label = postal[0];
    if (city && !city.text.includes(postal[0])) {
      label = `${city.text} ${postal[0]}`;
      spans.push(...city.spans);
    }
    return { text: label, specificity: 2, spans };
  }
  return city;
}

function findCity(text: string): LocationMatch | null {
  for (const re of [cityState, cityArea, cityAfterPreposition]) {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      const name = cleanCity(m[1]);
      if (!name) continue;
      const state = re === cityAfterPreposition ? m[2] : re === cityState ? m[2] : undefined;
      const label = state ? `${name}, ${state}` : name;
      return { text: label, specificity: 1, spans: [spanOf(m)] };
    }
  }
  return null;
}

/** A bare reply to "where is the job?" ("Round Rock", "downtown by the mall"). */
export function locationFromAnswer(text: string): LocationMatch | null {
  const cleaned = text
    .trim()
    .replace(
      /^(?:it'?s|its|we'?re|i'?m|we are|i am|the job is|job is|estoy|estamos|es|queda)\s+(?:in|at|en|near|cerca de)?\s*/i,
      "",
    )
    .replace(/^(?:in|at|en)\s+/i, "")
    .replace(/[.!]+$/, "")
    .trim();
  if (cleaned.length < 2 || cleaned.length > 80) return null;
  if (!/\p{L}{2,}|\d{3,}/u.test(cleaned)) return null;
  return { text: cleaned, specificity: 1, spans: [{ start: 0, end: text.length }] };
}
