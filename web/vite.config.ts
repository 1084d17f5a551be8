import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));

// Runtime settings come from /config.json at boot, so nothing environment-specific is baked in.
export default defineConfig({
  root,
  plugins: [react()],
  // React + supabase-js (auth, realtime) + zod make one ~180 kB gzipped bundle; a single chunk is
  // fine for a signed-in tool and keeps the static host trivial.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
});
