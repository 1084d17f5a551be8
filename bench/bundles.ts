// What a browser downloads, gzipped (kB = 1000 bytes): the widget script against 20 kB, and the
// dashboard's first load (the shell plus the chunks of the page opened) against 200 kB, for every page. Both are
// built into a temp folder from the current source, so the committed dist folders are left alone.
// Sizes do not vary between runs: their goals have no noise, so `--check` fails on any goal missed.
//   npx tsx bench/bundles.ts        (no stack needed; `npm run bench -- bundles` runs it in the suite)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "vite";
import { buildWidget } from "../widget/build.ts";
import { goal } from "./_goals.ts";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const WIDGET_GOAL = 20_000;
const DASHBOARD_GOAL = 200_000;
/** Before this work (issue 13): one widget script and one dashboard bundle. */
const BEFORE = { widget: 42.3 * 1024, dashboard: 182_410 };

const gz = (path: string) => gzipSync(readFileSync(path)).length;
const kB = (bytes: number) => `${(bytes / 1000).toFixed(1).padStart(6)} kB`;
function line(what: "widget" | "dashboard first load", label: string, bytes: number, threshold: number, note = ""): void {
  console.log(`  ${label.padEnd(38)} ${kB(bytes)}${note}`);
  goal(`${what}: ${label} (gzip)`, bytes / 1000, threshold / 1000, { unit: "kB", tolerance: 0 });
}

const out = mkdtempSync(join(tmpdir(), "leadloop-bundles-"));
try {
  const script = await buildWidget(join(out, "widget"));
  const chunks = readdirSync(join(out, "widget", "phone")).map((f) => gz(join(out, "widget", "phone", f))).sort((a, b) => a - b);
  const widget = gz(script);
  console.log("widget (gzip; a +1 business's visitors download the script only)");
  line("widget", "leadloop-widget.js", widget, WIDGET_GOAL, `  (before: ${kB(BEFORE.widget).trim()}, now x${(widget / BEFORE.widget).toFixed(2)})`);
  line("widget", "script + largest other calling code", widget + chunks[chunks.length - 1], WIDGET_GOAL,
    `  (${chunks.length} rule files, median ${kB(chunks[chunks.length >> 1]).trim()})`);

  await build({
    configFile: join(root, "web", "vite.config.ts"),
    logLevel: "warn",
    build: { outDir: join(out, "web"), emptyOutDir: true, sourcemap: false, manifest: true },
  });
  interface Chunk { file: string; isEntry?: boolean; imports?: string[]; dynamicImports?: string[]; css?: string[]; name?: string; src?: string }
  const manifest = JSON.parse(readFileSync(join(out, "web", ".vite", "manifest.json"), "utf8")) as Record<string, Chunk>;
  /** A chunk and everything it imports statically: what the browser needs before it can run it. */
  const closure = (key: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(key)) return seen;
    seen.add(key);
    for (const dep of manifest[key].imports ?? []) closure(dep, seen);
    return seen;
  };
  const bytes = (keys: Set<string>) => [...keys].reduce((n, k) => n + gz(join(out, "web", manifest[k].file)), 0);
  const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry)!;
  const shell = closure(entryKey);
  const total = Object.values(manifest).reduce((n, c) => n + gz(join(out, "web", c.file)), 0);
  console.log("dashboard first load, JS (gzip): the shell, then with each page's chunks");
  line("dashboard first load", "shell (index.html's scripts)", bytes(shell), DASHBOARD_GOAL, `  (before, one bundle: ${kB(BEFORE.dashboard).trim()})`);
  for (const [page, src] of lazyPages()) {
    if (!manifest[src]) throw new Error(`${src} is not a chunk of its own any more: is the page still lazy?`);
    line("dashboard first load", page, bytes(closure(src, new Set(shell))), DASHBOARD_GOAL);
  }
  const css = gz(join(out, "web", manifest[entryKey].css![0]));
  console.log(`  (plus ${kB(css).trim()} CSS; every chunk together: ${kB(total).trim()} JS)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}

/**
 * Every page the router loads lazily, as [its path, its module as the manifest names it], read from
 * web/src/router.tsx so that a page added there is measured without editing this list.
 */
function lazyPages(): [string, string][] {
  const source = readFileSync(join(root, "web", "src", "router.tsx"), "utf8");
  const pages: [string, string][] = [];
  for (const route of source.split(/\n(?=(?:export )?const \w+ = createRoute\()/)) {
    const path = /\bpath: "([^"]+)"/.exec(route)?.[1];
    const lazy = /lazyRouteComponent\(\(\) => import\("\.\/([^"]+)"\)/.exec(route)?.[1];
    if (path && lazy) pages.push([path, `src/${lazy}`]);
  }
  if (pages.length < 10) throw new Error(`found only ${pages.length} lazy pages in web/src/router.tsx: has its shape changed?`);
  return pages;
}
