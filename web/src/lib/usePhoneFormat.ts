// Phone numbers for display. The rules for +1 (~1 KB) ship with the pages that show numbers; the
// rest of the world's (~19 KB) load the first time a page shows a number outside +1, which keeps
// the leads page inside the dashboard's first-load budget.
import { useEffect, useState } from "react";
import type { MetadataJson } from "libphonenumber-js/core";
import { nanp } from "virtual:leadloop/phone-nanp";
import { formatPhoneWith } from "./phoneFormat.ts";

let world: MetadataJson | null = null;
let loading: Promise<MetadataJson> | null = null;

function loadWorld(): Promise<MetadataJson> {
  loading ??= import("libphonenumber-js/min/metadata").then((m) => (world = m.default as MetadataJson));
  return loading;
}

/** A formatter for these numbers; it re-renders once, with every country's rules, if one needs them. */
export function usePhoneFormat(phones: readonly string[]): (e164: string) => string {
  const [rules, setRules] = useState<MetadataJson>(() => world ?? nanp);
  const needsWorld = rules !== world && phones.some((phone) => !phone.startsWith("+1"));
  useEffect(() => {
    if (!needsWorld) return;
    let mounted = true;
    loadWorld().then((all) => mounted && setRules(all), () => {
      loading = null; // offline: the numbers stay as stored; the next page tries again
    });
    return () => {
      mounted = false;
    };
  }, [needsWorld]);
  return (e164) => formatPhoneWith(rules, e164);
}
