import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chunkFor } from "../widget/phone-metadata.ts";

const root = dirname(fileURLToPath(import.meta.url));

/** `virtual:leadloop/phone-nanp`: libphonenumber-js's rules for +1 only, cut the way the widget cuts them. */
function phoneRulesForNorthAmerica(): Plugin {
  const id = "virtual:leadloop/phone-nanp";
  return {
    name: "leadloop-phone-nanp",
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load: (resolved) => (resolved === `\0${id}` ? `export const nanp = ${JSON.stringify({ version: 4, ...chunkFor("1") })};` : null),
  };
}

// Runtime settings come from /config.json at boot, so nothing environment-specific is baked in.
export default defineConfig({
  root,
  plugins: [react(), phoneRulesForNorthAmerica()],
  // The entry carries the shell (React, supabase-js, react-query, the router); each page is its own
  // chunk (web/src/router.tsx). bench/bundles.ts holds the first load to 200 KB gzipped.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
});
