// The gateway: one HTTP server like the Supabase CLI's Kong, in front of REST, Auth, Functions and Realtime.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { InstanceConfig } from "../config.ts";
import { rewriteAuthorization } from "./authorization.ts";
import { createAuthService, type AuthService } from "./auth/handler.ts";
import type { AuthSettings } from "./auth/settings.ts";
import { setClientAddress } from "./client-address.ts";
import { createFunctionsRouter } from "./functions/index.ts";
import { closeIfBodyUnread, send } from "./http.ts";
import { startPgNetWorker } from "./pg-net/worker.ts";
import { createRealtime, REALTIME_WEBSOCKET_PATH } from "./realtime/index.ts";
import { handleRest, type RestContext } from "./rest/handler.ts";
import { SchemaCache, startSchemaListener } from "./rest/schema-cache.ts";
import { createRestPool } from "./rest/transaction.ts";
import { keepIdleConnections, LISTEN_BACKLOG } from "../keep-alive.ts";

export const REST_BODY_LIMIT = 1024 * 1024;
export const AUTH_BODY_LIMIT = 1024 * 1024;

const CORS_ALLOW_HEADERS =
  "authorization, apikey, x-client-info, content-type, prefer, accept-profile, content-profile, range, range-unit, " +
  "x-retry-count, x-supabase-api-version, x-region, accept, if-none-match, if-match";
const CORS_EXPOSE_HEADERS =
  "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit, " +
  "Preference-Applied, Content-Profile, Proxy-Status, X-Total-Count, Link, X-Supabase-Api-Version, x-sb-error-code, " +
  "sb-auth-user-id, sb-auth-session-id";
const CORS_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

export interface Gateway {
  url: string;
  /** What the REST schema cache has done: catalog reads, and reloads that recycled the pool's connections. */
  stats(): { schemaCacheLoads: number; schemaCacheGeneration: number };
  close(): Promise<void>;
}

function applyCors(res: ServerResponse): void {
  res.setHeader("Access-Control-Allow-Origin", "*");
  res.setHeader("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
}

function preflight(req: IncomingMessage, res: ServerResponse): void {
  const requested = req.headers["access-control-request-headers"];
  send(res, 200, {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": CORS_METHODS,
    "Access-Control-Allow-Headers": typeof requested === "string" && requested ? `${CORS_ALLOW_HEADERS}, ${requested}` : CORS_ALLOW_HEADERS,
    "Access-Control-Max-Age": "3600",
    "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
    Allow: CORS_METHODS,
    "Content-Length": "0",
  });
}

function notFound(res: ServerResponse): void {
  send(res, 404, { "Content-Type": "application/json; charset=utf-8" }, JSON.stringify({ message: "no Route matched with those values" }));
}

export async function startGateway({
  config,
  port,
  adjustAuthSettings,
  prestartFunctions = false,
}: {
  config: InstanceConfig;
  port?: number;
  /** Changes config.toml's [auth] settings for this gateway only (tests of other limits and flows). */
  adjustAuthSettings?: (settings: AuthSettings) => AuthSettings;
  /** Boot every edge function's worker at once and keep it warm (the stack does; tests need not). */
  prestartFunctions?: boolean;
}): Promise<Gateway> {
  const keys = config.keys;
  const pool = createRestPool(config.authenticatorDbUrl);
  const cache = new SchemaCache(pool);
  await cache.get();
  const restCtx: RestContext = { pool, cache, jwtSecret: keys.jwtSecret, bodyLimit: REST_BODY_LIMIT };
  const listener = await startSchemaListener(config.authenticatorDbUrl, cache);
  let publicUrl = config.supabaseUrl;
  const auth: AuthService = createAuthService({ config, bodyLimit: AUTH_BODY_LIMIT, publicUrl: () => publicUrl, adjustSettings: adjustAuthSettings });

  const realtime = await createRealtime({ config });
  const functions = await createFunctionsRouter({ config, prestart: prestartFunctions });
  const pgNet = await startPgNetWorker({ config });

  const server = keepIdleConnections(createServer({ maxHeaderSize: 32 * 1024 }, (req, res) => {
    handle(req, res).catch((err) => {
      console.error("[gateway] request failed:", err);
      if (res.headersSent) res.destroy();
      else send(res, 500, { "Content-Type": "application/json" }, JSON.stringify({ code: "internal_error", message: "Internal server error" }));
    });
  }));
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on("error", () => {});
    res.on("error", () => {});
    const url = req.url ?? "/";
    const method = (req.method ?? "GET").toUpperCase();
    rewriteAuthorization(req.headers, keys);
    setClientAddress(req);
    closeIfBodyUnread(req, res);
    if (url.startsWith("/functions/v1/") || url === "/functions/v1") {
      // The functions router adds Kong's other X-Forwarded-* headers itself (host, port, prefix).
      // Functions answer their own preflights (OPTIONS is exempt from verify_jwt), as behind Kong. The
      // router enforces the body limit while streaming.
      const rest = url.slice("/functions/v1".length) || "/";
      await functions.handle(req, res, rest);
      return;
    }
    applyCors(res);
    if (method === "OPTIONS") {
      preflight(req, res);
      req.resume();
      return;
    }
    if (url.startsWith("/rest/v1/") || url === "/rest/v1" || url.startsWith("/rest/v1?")) {
      const rest = url.slice("/rest/v1".length);
      await handleRest(restCtx, req, res, rest.startsWith("/") ? rest : `/${rest}`);
      return;
    }
    if (url.startsWith("/auth/v1/")) {
      await auth.handle(req, res, url.slice("/auth/v1".length));
      return;
    }
    if (url.startsWith("/realtime/v1/api/")) {
      await realtime.handleHttp(req, res, url.slice("/realtime/v1".length));
      return;
    }
    notFound(res);
  }

  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => {});
    setClientAddress(req);
    const url = req.url ?? "/";
    if (url.startsWith(REALTIME_WEBSOCKET_PATH)) {
      try {
        realtime.handleUpgrade(req, socket, head);
      } catch (err) {
        console.error("[gateway] realtime upgrade failed:", err);
        socket.destroy();
      }
      return;
    }
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: port ?? config.ports.gateway, host: "127.0.0.1", backlog: LISTEN_BACKLOG }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  publicUrl = `http://127.0.0.1:${actualPort}`;
  let closed = false;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    stats: () => ({ schemaCacheLoads: cache.loads, schemaCacheGeneration: cache.generation }),
    async close() {
      if (closed) return;
      closed = true;
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.allSettled([realtime.close(), functions.close(), pgNet.stop()]);
      await closing;
      await listener.stop();
      await auth.close();
      await pool.end();
    },
  };
}
