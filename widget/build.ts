// `npm run build:widget`: one self-contained IIFE, no runtime dependencies on the host page, plus the
// phone rules of every other calling code in phone/<code>.json beside it, fetched only when needed.
import { build, type BuildOptions } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { allChunks, BUNDLED_CALLING_CODES, callingCodes, chunkFor } from "./phone-metadata.ts";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * libphonenumber-js ships its code twice: `es6` (classes compiled down, what its package exports
 * name) and `es6-modern` (the same source with native classes, ~2.4 KB smaller gzipped). The
 * widget's browsers all run ES2020, so the build takes the modern copy of each file.
 */
const modernLibphonenumber: NonNullable<BuildOptions["plugins"]>[number] = {
  name: "libphonenumber-es6-modern",
  setup(b) {
    b.onLoad({ filter: /[\\/]libphonenumber-js[\\/]es6[\\/].*\.js$/ }, (args) => {
      const path = args.path.replace(/([\\/])es6([\\/])/, "$1es6-modern$2");
      return { contents: readFileSync(path, "utf8"), resolveDir: dirname(path), loader: "js" };
    });
  },
};

export function widgetBuildOptions(outdir: string): BuildOptions {
  return {
    entryPoints: [join(here, "src", "index.ts")],
    outfile: join(outdir, "leadloop-widget.js"),
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
    plugins: [modernLibphonenumber],
    define: {
      __LEADLOOP_PHONE__: JSON.stringify({
        callingCodes: callingCodes(),
        bundled: BUNDLED_CALLING_CODES.map((code) => chunkFor(code)),
      }),
    },
  };
}

/** Builds the script and the phone rules into `outdir`; returns the script's path. */
export async function buildWidget(outdir = join(here, "dist")): Promise<string> {
  const options = widgetBuildOptions(outdir);
  await build(options);
  const phoneDir = join(outdir, "phone");
  rmSync(phoneDir, { recursive: true, force: true });
  mkdirSync(phoneDir, { recursive: true });
  for (const [code, chunk] of allChunks()) {
    if ((BUNDLED_CALLING_CODES as readonly string[]).includes(code)) continue;
    writeFileSync(join(phoneDir, `${code}.json`), JSON.stringify(chunk));
  }
  return options.outfile!;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outfile = await buildWidget();
  const bytes = readFileSync(outfile);
  console.log(`widget/dist/leadloop-widget.js ${(bytes.length / 1024).toFixed(1)} KiB, ${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzipped`);
}
