// The Edge Functions gateway of the Supabase CLI (docs/supabase-standin-spec.md §5): `/functions/v1/<name>[/...]`
// runs functions/<name> under Deno (workers.ts). The router checks verify_jwt like the CLI's main.ts and
// streams requests and responses through unchanged apart from Kong's X-Forwarded-* headers, cutting a
// request body off at the platform's limit however it is sent (Content-Length or chunked).
import { existsSync, readdirSync, statSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import * as jose from "jose";
import { projectRoot, type InstanceConfig } from "../../config.ts";
import { readFunctionsConfig, type FunctionSettings } from "./config-toml.ts";
import { createWorkerPool, FUNCTION_NAME, type ResolvedFunction, type Worker } from "./workers.ts";

export interface FunctionsRouter {
  handle(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void>;
  close(): Promise<void>;
}

export interface FunctionsRouterOptions {
  config: InstanceConfig;
  /** Folder holding one folder per function plus _shared/ (default: <project>/functions). */
  functionsRoot?: string;
  /** The config.toml with `[functions.<name>]` tables (default: <project>/supabase/config.toml). */
  configPath?: string;
  /** How long a function may take to start listening, including npm downloads on a cold cache. */
  bootTimeoutMs?: number;
  /** Shared Deno cache so npm: packages are fetched once (default: <project>/.local/deno-dir). */
  denoDir?: string;
  /** The largest request body a function receives (default FUNCTIONS_BODY_LIMIT). */
  bodyLimit?: number;
  /**
   * Keep every function warm, as the platform keeps a worker alive between requests: start each one's
   * worker when the router starts and again right after a source change, rather than on the next request
   * (which then pays Deno's boot). Off by default, so test gateways do not boot every function.
   */
  prestart?: boolean;
  /** How long a function may send nothing before its request is cut (default FUNCTIONS_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
}

/** The request body limit in front of functions; no byte beyond it reaches one. */
export const FUNCTIONS_BODY_LIMIT = 2 * 1024 * 1024;

/**
 * The platform's request idle timeout: a function that sends nothing for 150 s is cut off. Before any
 * response the caller gets 504 with the body of the CLI's Kong (`read_timeout` 150000 on the functions
 * route; hosted Supabase documents a 504 Gateway Timeout); mid-response the connection is closed, so the
 * caller sees a truncated body. Only that request ends: the function's worker stays up for the next.
 */
export const FUNCTIONS_IDLE_TIMEOUT_MS = 150_000;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

function json(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}

function tooLarge(res: ServerResponse, limit: number): void {
  json(res, 413, { code: "request_too_large", message: `Request body exceeds the limit of ${limit} bytes` }, { Connection: "close" });
}

function text(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

export async function createFunctionsRouter(options: FunctionsRouterOptions): Promise<FunctionsRouter> {
  const { config } = options;
  const functionsRoot = options.functionsRoot ?? join(projectRoot, "functions");
  const configPath = options.configPath ?? join(projectRoot, "supabase", "config.toml");
  const pool = createWorkerPool({
    config,
    functionsRoot,
    bootTimeoutMs: options.bootTimeoutMs ?? 60_000,
    denoDir: options.denoDir ?? join(projectRoot, ".local", "deno-dir"),
    onRetired: (name) => {
      if (options.prestart) warm(name);
    },
  });
  const bodyLimit = options.bodyLimit ?? FUNCTIONS_BODY_LIMIT;
  const idleTimeoutMs = options.idleTimeoutMs ?? FUNCTIONS_IDLE_TIMEOUT_MS;
  const jwtSecret = new TextEncoder().encode(config.keys.jwtSecret);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let closed = false;

  let settingsCache: { mtimeMs: number; settings: Map<string, FunctionSettings> } | undefined;
  function functionSettings(): Map<string, FunctionSettings> {
    let mtimeMs = -1;
    try {
      mtimeMs = statSync(configPath).mtimeMs;
    } catch {
      // no config.toml: every function folder gets the defaults
    }
    if (!settingsCache || settingsCache.mtimeMs !== mtimeMs) {
      settingsCache = { mtimeMs, settings: readFunctionsConfig(configPath) };
    }
    return settingsCache.settings;
  }

  function resolveFunction(name: string): ResolvedFunction | undefined {
    if (!FUNCTION_NAME.test(name)) return undefined;
    const configured = functionSettings().get(name);
    if (configured && !configured.enabled) return undefined;
    const entrypoint = configured?.entrypoint ?? join(functionsRoot, name, "index.ts");
    if (!existsSync(entrypoint)) return undefined;
    return { verifyJwt: true, enabled: true, ...configured, entrypoint };
  }

  function warm(name: string): void {
    const settings = resolveFunction(name);
    if (!settings || closed) return;
    pool.workerFor(name, settings).catch((error) => process.stdout.write(`[fn:${name}] boot failed: ${(error as Error).message}\n`));
  }

  if (options.prestart && existsSync(functionsRoot)) {
    for (const entry of readdirSync(functionsRoot, { withFileTypes: true })) {
      if (entry.isDirectory() && !entry.name.startsWith("_")) warm(entry.name);
    }
  }

  async function verifyJwt(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const header = req.headers.authorization;
    if (!header) {
      json(res, 401, { msg: "Error: Missing authorization header" });
      return false;
    }
    const [scheme, token] = header.split(" ");
    if (scheme !== "Bearer") {
      json(res, 401, { msg: "Error: Auth header is not 'Bearer {token}'" });
      return false;
    }
    try {
      const { alg } = jose.decodeProtectedHeader(token ?? "");
      if (alg !== "HS256") throw new Error(`unsupported alg ${alg}`);
      await jose.jwtVerify(token, jwtSecret, { algorithms: ["HS256"] });
      return true;
    } catch {
      json(res, 401, { msg: "Invalid JWT" });
      return false;
    }
  }

  function forwardHeaders(req: IncomingMessage, port: number): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(key)) continue;
      headers[key] = value;
    }
    const originalHost = req.headers.host ?? "";
    const hostMatch = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(originalHost);
    const localPort = req.socket.localPort;
    // Kong trusts no client-sent X-Forwarded-* (no trusted_ips): the gateway speaks plain HTTP.
    headers["x-forwarded-proto"] = "http";
    headers["x-forwarded-host"] = hostMatch?.[1] ?? originalHost;
    headers["x-forwarded-port"] = hostMatch?.[2] ?? String(localPort ?? "");
    headers["x-forwarded-path"] = (req.url ?? "").split("?")[0];
    headers["x-forwarded-prefix"] = "/functions/v1";
    headers.host = `127.0.0.1:${port}`;
    return headers;
  }

  function proxy(worker: Worker, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    return new Promise((resolve) => {
      worker.inFlight++;
      let finished = false;
      let refused = false;
      const done = () => {
        if (finished) return;
        finished = true;
        worker.inFlight--;
        resolve();
      };
      // Like Kong's read_timeout: armed once the request is sent, restarted by every byte of the answer.
      let idle: NodeJS.Timeout | undefined;
      const stopIdle = () => clearTimeout(idle);
      const armIdle = () => {
        stopIdle();
        if (finished) return;
        idle = setTimeout(() => {
          if (finished) return;
          upstream.destroy();
          if (res.headersSent) res.destroy();
          else json(res, 504, { message: "The upstream server is timing out" });
          done();
        }, idleTimeoutMs);
      };
      const upstream = http.request(
        { host: "127.0.0.1", port: worker.port, method: req.method, path, headers: forwardHeaders(req, worker.port), agent },
        (upstreamRes) => {
          armIdle();
          upstreamRes.on("data", armIdle);
          const headers: http.OutgoingHttpHeaders = {};
          for (const [key, value] of Object.entries(upstreamRes.headers)) {
            if (value !== undefined && !HOP_BY_HOP.has(key)) headers[key] = value;
          }
          res.writeHead(upstreamRes.statusCode ?? 502, headers);
          upstreamRes.pipe(res);
          upstreamRes.on("end", () => {
            stopIdle();
            done();
          });
          upstreamRes.on("error", () => {
            res.destroy();
            done();
          });
        },
      );
      upstream.on("error", (error) => {
        stopIdle();
        if (refused || finished) return done();
        if (!res.headersSent) {
          json(res, 500, { code: "WORKER_ERROR", message: "Function exited due to an error (please check logs)" });
        } else {
          res.destroy(error);
        }
        done();
      });
      res.on("close", () => {
        stopIdle();
        if (!res.writableFinished) upstream.destroy();
        done();
      });
      // The body is counted as it streams: past the limit the function's request is cut off mid-body (it
      // sees a broken upload, never the bytes beyond the limit) and the caller gets 413 at once.
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        if (refused) return;
        size += chunk.length;
        if (size > bodyLimit) {
          refused = true;
          upstream.destroy();
          if (res.headersSent) res.destroy();
          else tooLarge(res, bodyLimit);
          done();
          return;
        }
        if (!upstream.write(chunk)) req.pause();
      });
      upstream.on("drain", () => req.resume());
      req.on("end", () => {
        if (refused) return;
        upstream.end();
        armIdle();
      });
    });
  }

  return {
    async handle(req, res, rest) {
      if (closed) {
        json(res, 503, { code: "BOOT_ERROR", message: "Worker failed to boot (please check logs)" });
        return;
      }
      const declared = Number(req.headers["content-length"]);
      if (Number.isFinite(declared) && declared > bodyLimit) {
        req.resume();
        tooLarge(res, bodyLimit);
        return;
      }
      const path = rest.startsWith("/") ? rest : `/${rest}`;
      let name = "";
      try {
        name = decodeURIComponent(path.split("?")[0].split("/")[1] ?? "");
      } catch {
        // malformed %-escape: no function has such a name
      }
      const settings = name ? resolveFunction(name) : undefined;
      if (!settings) {
        req.resume();
        text(res, 404, "Function not found");
        return;
      }
      if (req.method !== "OPTIONS" && settings.verifyJwt && !(await verifyJwt(req, res))) {
        req.resume();
        return;
      }
      let worker: Worker;
      try {
        worker = await pool.workerFor(name, settings);
      } catch (error) {
        process.stdout.write(`[fn:${name}] boot failed: ${(error as Error).message}\n`);
        req.resume();
        json(res, 503, { code: "BOOT_ERROR", message: "Worker failed to boot (please check logs)" });
        return;
      }
      await proxy(worker, req, res, path);
    },
    async close() {
      closed = true;
      await pool.close();
      agent.destroy();
    },
  };
}
