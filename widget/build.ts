// `npm run build:widget`: one self-contained IIFE, no runtime dependencies on the host page.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";

const here = dirname(fileURLToPath(import.meta.url));
const outfile = join(here, "dist", "leadloop-widget.js");

await build({
  entryPoints: [join(here, "src", "index.ts")],
  outfile,
  bundle: true,
  minify: true,
  format: "iife",
  platform: "browser",
  target: "es2020",
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
});

const bytes = readFileSync(outfile);
console.log(`widget/dist/leadloop-widget.js ${(bytes.length / 1024).toFixed(1)} KiB, ${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzipped`);
