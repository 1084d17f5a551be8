// How many SMS segments a body needs, the way carriers (and Twilio's num_segments) count them.
// GSM-7 packs 160 septets in one SMS or 153 per part once a User Data Header is needed;
// any character outside GSM-7 switches the whole message to UCS-2 (70 units, 67 per part).

const gsmBasic =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
// The extension table costs an escape septet plus the character itself.
const gsmExtension = "\f^{}\\[~]|€";

const basicSet = new Set(Array.from(gsmBasic).filter((c) => c !== "\u001b"));
const extensionSet = new Set(Array.from(gsmExtension));

export type SmsEncoding = "GSM-7" | "UCS-2";

export interface SegmentInfo {
  encoding: SmsEncoding;
  segments: number;
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
}

export function smsEncoding(body: string): SmsEncoding {
  for (const ch of body) if (!basicSet.has(ch) && !extensionSet.has(ch)) return "UCS-2";
  return "GSM-7";
}

export function countSegments(body: string): SegmentInfo {
  const encoding = smsEncoding(body);
  // One cost per character that must stay whole inside a segment.
  const costs: number[] = [];
  if (encoding === "GSM-7") {
    for (const ch of body) costs.push(extensionSet.has(ch) ? 2 : 1);
  } else {
    for (const ch of body) costs.push(ch.length); // a surrogate pair (emoji) is 2 units and never split
  }
  const units = costs.reduce((a, b) => a + b, 0);
  const single = encoding === "GSM-7" ? 160 : 70;
  const part = encoding === "GSM-7" ? 153 : 67;
  if (units === 0) return { encoding, segments: 1, units };
  if (units <= single) return { encoding, segments: 1, units };
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return { encoding, segments, units };
}
