// SMS segment arithmetic. GSM-7 carries 160 septets in one segment, 153 per part when
// split; one character outside GSM-7 switches the whole text to UCS-2 (70 / 67 per part).

const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const gsmExtension = "^{}\\[~]|€\f";
const basicSet = new Set(gsmBasic);
const extensionSet = new Set(gsmExtension);

export type Encoding = "GSM-7" | "UCS-2";

export interface SegmentInfo {
  encoding: Encoding;
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  segments: number;
}

export function segmentInfo(text: string): SegmentInfo {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (basicSet.has(ch)) septets += 1;
    else if (extensionSet.has(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) {
    return { encoding: "GSM-7", units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
  }
  const units = text.length; // UTF-16 code units; emoji count twice, as on the wire.
  return { encoding: "UCS-2", units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}

// Characters with a plain GSM-7 stand-in, as Twilio's Smart Encoding replaces them.
const smartReplacements: Record<string, string> = {
  "á": "a",
  "í": "i",
  "ó": "o",
  "ú": "u",
  "Á": "A",
  "Í": "I",
  "Ó": "O",
  "Ú": "U",
  "ê": "e",
  "â": "a",
  "ô": "o",
  "û": "u",
  "ç": "c",
  "ï": "i",
  "ë": "e",
  "È": "E",
  "À": "A",
  "Ì": "I",
  "Ò": "O",
  "Ù": "U",
  "\u2018": "'",
  "\u2019": "'",
  "\u201C": '"',
  "\u201D": '"',
  "\u2013": "-",
  "\u2014": "-",
  "\u2026": "...",
  "\u00A0": " ",
  "\u2022": "-",
  "·": "-",
};

/** Replaces look-alike characters so a text stays GSM-7 when only they prevent it. */
export function toGsmWhenPossible(text: string): string {
  let out = "";
  for (const ch of text) out += smartReplacements[ch] ?? ch;
  return segmentInfo(out).encoding === "GSM-7" ? out : text;
}
