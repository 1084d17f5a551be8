// Phone numbers for display. libphonenumber-js (~9 KB) with the rules for +1 (~1 KB) is not part of any
// page's first load: it starts loading when a page that shows numbers does, alongside that page's data,
// and until it is there numbers show as stored (E.164). The rest of the world's rules (~19 KB) load the
// first time a page shows a number outside +1. This keeps the leads pages well inside the dashboard's
// first-load budget (bench/bundles.ts).
import { useEffect, useState } from "react";
import type { MetadataJson } from "libphonenumber-js/core";

interface Formatter {
  rules: MetadataJson;
  format: (rules: MetadataJson, e164: string) => string;
}

let nanp: Formatter | null = null;
let world: Formatter | null = null;
let loadingNanp: Promise<Formatter> | null = null;
let loadingWorld: Promise<Formatter> | null = null;

function loadNanp(): Promise<Formatter> {
  loadingNanp ??= Promise.all([import("./phoneFormat.ts"), import("virtual:leadloop/phone-nanp")])
    .then(([{ formatPhoneWith }, m]) => (nanp = { rules: m.nanp, format: formatPhoneWith }))
    .catch((error: unknown) => {
      loadingNanp = null; // offline: numbers stay as stored; the next page tries again
      throw error;
    });
  return loadingNanp;
}

function loadWorld(): Promise<Formatter> {
  loadingWorld ??= Promise.all([import("./phoneFormat.ts"), import("libphonenumber-js/min/metadata")])
    .then(([{ formatPhoneWith }, m]) => (world = { rules: m.default as MetadataJson, format: formatPhoneWith }))
    .catch((error: unknown) => {
      loadingWorld = null;
      throw error;
    });
  return loadingWorld;
}

// Start now: this module comes with the pages that show numbers, while their queries are in flight.
loadNanp().catch(() => undefined);

/** A formatter for these numbers; it re-renders once the rules they need have loaded. */
export function usePhoneFormat(phones: readonly string[]): (e164: string) => string {
  const [formatter, setFormatter] = useState<Formatter | null>(() => world ?? nanp);
  const needsWorld = formatter !== world && phones.some((phone) => !phone.startsWith("+1"));
  const needed = needsWorld ? "world" : formatter ? null : "nanp";
  useEffect(() => {
    if (!needed) return;
    let mounted = true;
    (needed === "world" ? loadWorld() : loadNanp()).then((loaded) => mounted && setFormatter(loaded), () => undefined);
    return () => {
      mounted = false;
    };
  }, [needed]);
  return formatter ? (e164) => formatter.format(formatter.rules, e164) : (e164) => e164;
}
