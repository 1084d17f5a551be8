// Build side of widget/src/phone.ts: cuts libphonenumber-js's "min" metadata into one file per
// country calling code, and picks what the script carries itself (the calling-code table and +1).
import metadata from "libphonenumber-js/min/metadata";
import type { CallingCodes, MetadataChunk } from "./src/phone.ts";

interface FullMetadata {
  country_calling_codes: Record<string, string[]>;
  countries: Record<string, unknown>;
  nonGeographic?: Record<string, unknown>;
}

const full = metadata as unknown as FullMetadata;

/** Calling codes the script carries the rules for: North America, where most businesses are. */
export const BUNDLED_CALLING_CODES = ["1"] as const;

export function callingCodes(): CallingCodes {
  const codes: CallingCodes = {};
  for (const [code, countries] of Object.entries(full.country_calling_codes)) codes[code] = [...countries];
  for (const code of Object.keys(full.nonGeographic ?? {})) codes[code] = [];
  return codes;
}

export function chunkFor(code: string): MetadataChunk {
  const countries = full.country_calling_codes[code];
  const nonGeographic = full.nonGeographic?.[code];
  if (!countries && !nonGeographic) throw new Error(`no calling code ${code} in libphonenumber-js metadata`);
  const chunk: MetadataChunk = { country_calling_codes: {}, countries: {} };
  if (countries) {
    chunk.country_calling_codes[code] = [...countries];
    for (const country of countries) chunk.countries[country] = full.countries[country];
  }
  if (nonGeographic) chunk.nonGeographic = { [code]: nonGeographic };
  return chunk;
}

export function allChunks(): Map<string, MetadataChunk> {
  return new Map(Object.keys(callingCodes()).map((code) => [code, chunkFor(code)]));
}
