// Serves the built dashboard (SPA with history fallback), its runtime /config.json, the widget
// bundle and the widget demo page with this instance's values filled in. Production hosts the
// same files on any static host; only /config.json and the demo page are generated here.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { AddressInfo } from "node:net";

export interface WebServerOptions {
  port: number;
  host?: string;
  webDist: string;
  widgetDist: string;
  widgetDemoDir: string;
  runtime: { supabaseUrl: string; supabaseAnonKey: string; widgetId: string; businessName?: string };
}

export interface RunningWebServer {
  url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Fills the demo page's placeholders; values are HTML-escaped because they land in attributes. */
export function renderWidgetDemo(template: string, runtime: WebServerOptions["runtime"]): string {
  const values: Record<string, string> = {
    __LEADLOOP_WIDGET_ID__: runtime.widgetId,
    __LEADLOOP_SUPABASE_URL__: runtime.supabaseUrl,
    __LEADLOOP_SUPABASE_KEY__: runtime.supabaseAnonKey,
    __LEADLOOP_BUSINESS_NAME__: runtime.businessName ?? "Demo Plumbing Co",
  };
  return template.replace(/__LEADLOOP_[A-Z_]+__/g, (token) => (token in values ? escapeHtml(values[token]) : token));
}

/** Resolves a URL path inside root, or null when it would escape it. */
function safeJoin(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0")) return null;
  const full = resolve(root, "." + normalize("/" + decoded));
  return full === root || full.startsWith(root + sep) ? full : null;
}

async function readFileIfPresent(path: string): Promise<Buffer | null> {
  try {
    const info = await stat(path);
    return info.isFile() ? await readFile(path) : null;
  } catch {
    return null;
  }
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, cache = "no-store"): void {
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": cache,
    "x-content-type-options": "nosniff",
  });
  res.end(body);
}

export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const webDist = resolve(options.webDist);
  const widgetDist = resolve(options.widgetDist);
  const demoTemplatePath = join(resolve(options.widgetDemoDir), "index.html");
  const configJson = JSON.stringify({
    supabaseUrl: options.runtime.supabaseUrl,
    supabaseAnonKey: options.runtime.supabaseAnonKey,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "method not allowed\n", CONTENT_TYPES[".txt"]);
      return;
    }
    const path = new URL(req.url ?? "/", "http://localhost").pathname;

    if (path === "/config.json") {
      send(res, 200, configJson, CONTENT_TYPES[".json"]);
      return;
    }
    if (path === "/widget-demo.html") {
      const template = await readFileIfPresent(demoTemplatePath);
      if (!template) {
        send(res, 500, `widget demo template missing: ${demoTemplatePath}\n`, CONTENT_TYPES[".txt"]);
        return;
      }
      send(res, 200, renderWidgetDemo(template.toString("utf8"), options.runtime), CONTENT_TYPES[".html"]);
      return;
    }
    if (path.startsWith("/widget/")) {
      const file = safeJoin(widgetDist, path.slice("/widget/".length));
      const body = file ? await readFileIfPresent(file) : null;
      if (!body || !file) {
        send(res, 404, "not found (run npm run build:widget)\n", CONTENT_TYPES[".txt"]);
        return;
      }
      // Embeds load the script cross-origin; short cache so a rebuilt widget shows up quickly.
      res.setHeader("access-control-allow-origin", "*");
      send(res, 200, body, CONTENT_TYPES[extname(file)] ?? "application/octet-stream", "public, max-age=60");
      return;
    }

    const file = path === "/" ? null : safeJoin(webDist, path);
    const asset = file ? await readFileIfPresent(file) : null;
    if (asset && file) {
      const hashed = path.startsWith("/assets/");
      send(res, 200, asset, CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
        hashed ? "public, max-age=31536000, immutable" : "no-cache");
      return;
    }
    // Missing files with an extension are real 404s; everything else is a client-side route.
    if (extname(path) !== "") {
      send(res, 404, "not found\n", CONTENT_TYPES[".txt"]);
      return;
    }
    const index = await readFileIfPresent(join(webDist, "index.html"));
    if (!index) {
      send(res, 500, `dashboard not built: ${join(webDist, "index.html")} missing (run npm run build:web)\n`, CONTENT_TYPES[".txt"]);
      return;
    }
    send(res, 200, index, CONTENT_TYPES[".html"], "no-cache");
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, `internal error: ${(error as Error).message}\n`, CONTENT_TYPES[".txt"]);
      else res.destroy();
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolvePromise();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolvePromise, reject) => {
        server.close((error) => (error ? reject(error) : resolvePromise()));
        server.closeAllConnections();
      }),
  };
}
