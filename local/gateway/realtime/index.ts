// Realtime over the Phoenix channel protocol, as realtime-js 2.109 speaks it (docs/supabase-standin-spec.md §3):
// postgres_changes, broadcast, presence and private channels. One replication stream (capture.ts) feeds
// every socket; each change reaches a channel (channels.ts) only through bindings whose event and filter
// match, and only when that channel's own JWT claims can SELECT the row under RLS, checked after commit as
// the subscriber's role (delivery.ts, visibility.ts). Realtime's REST broadcast API is here too.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import pg from "pg";
import { WebSocketServer } from "ws";
import type { InstanceConfig } from "../../config.ts";
import { apiKeyToJwt } from "../authorization.ts";
import { createBroadcasts } from "./broadcast.ts";
import { startCapture, type Capture, type CaptureStats } from "./capture.ts";
import { createChannels } from "./channels.ts";
import { relationKey, type Connection } from "./connection.ts";
import { createDelivery } from "./delivery.ts";
import { createPolicies } from "./policies.ts";
import { createPresence } from "./presence.ts";
import { parseVsn } from "./protocol.ts";
import { isJwtShaped, TokenError, verifyRealtimeToken, type Claims } from "./tokens.ts";
import { createVisibilityChecker } from "./visibility.ts";

export const REALTIME_WEBSOCKET_PATH = "/realtime/v1/websocket";

const MAX_FRAME_BYTES = 1024 * 1024;
/** Sockets that answer no websocket ping within this long are dropped (a vanished client, a dead link). */
const LIVENESS_INTERVAL_MS = 30_000;

export interface RealtimeServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Realtime's REST API under /realtime/v1 (`path` is what follows it): the broadcast endpoints. */
  handleHttp(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** What the replication stream has done so far (for tests and diagnostics). */
  captureStats(): CaptureStats;
  /** The open sockets (for tests of back-pressure). */
  connections(): ReadonlySet<Connection>;
  close(): Promise<void>;
}

export interface RealtimeOptions {
  config: InstanceConfig;
  /** Changes delivered per round (default 500); bounds the memory one transaction can take. */
  captureChunkSize?: number;
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  const reason = status === 401 ? "Unauthorized" : status === 404 ? "Not Found" : status === 400 ? "Bad Request" : "Error";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * DDL, GRANT and REVOKE are announced on the `pgrst` channel (Supabase's event triggers, also in
 * local/db/platform/60-pgrst-ddl-watch.sql): the table metadata delivery caches is read again after one.
 * A lost connection is re-opened; meanwhile the cache's own expiry bounds how stale it can get.
 */
async function watchSchemaChanges(dbUrl: string, onChange: () => void): Promise<{ stop(): Promise<void> }> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  async function listen(): Promise<void> {
    const c = new pg.Client({ connectionString: dbUrl, application_name: "leadloop realtime schema watch" });
    c.on("notification", onChange);
    c.on("error", () => undefined);
    c.on("end", () => {
      if (stopped || client !== c) return;
      client = undefined;
      onChange();
      scheduleListen();
    });
    await c.connect();
    await c.query("listen pgrst");
    client = c;
  }
  function scheduleListen(): void {
    if (stopped) return;
    retry = setTimeout(() => listen().catch(scheduleListen), 1000);
    retry.unref();
  }
  await listen();
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}

/** The upgrade's headers as realtime.messages policies see them (request.headers), without credentials. */
function policyHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === "authorization" || name === "apikey" || name === "x-api-key" || name === "cookie") continue;
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

export async function createRealtime({ config, captureChunkSize }: RealtimeOptions): Promise<RealtimeServer> {
  const pool = new pg.Pool({ connectionString: config.dbUrl, max: 4, application_name: "leadloop realtime" });
  pool.on("error", (error) => console.error("[realtime] idle connection error:", error.message));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const connections = new Set<Connection>();
  let closing = false;
  const jwtSecret = config.keys.jwtSecret;
  const policies = createPolicies(pool);
  const broadcasts = createBroadcasts({ connections, policies, jwtSecret });
  const presence = createPresence(connections);
  const { onConnection, dropChannel } = createChannels({ pool, jwtSecret, connections, policies, broadcasts, presence });
  const checker = createVisibilityChecker(config.dbUrl);
  const { deliver, wantsTable, invalidateMeta } = createDelivery({ pool, connections, checker });
  const schemaWatch = await watchSchemaChanges(config.dbUrl, () => invalidateMeta());

  const livenessTimer = setInterval(() => {
    for (const conn of connections) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }, LIVENESS_INTERVAL_MS);
  livenessTimer.unref();

  const capture: Capture = await startCapture({
    dbUrl: config.dbUrl,
    chunkSize: captureChunkSize,
    wantsTable,
    onRelation: (schema, table) => invalidateMeta(relationKey(schema, table)),
    onChanges: async (changes) => {
      try {
        await deliver(changes);
      } catch (error) {
        console.error("[realtime] delivery failed:", (error as Error).message);
      }
    },
    onError: (error) => {
      if (!closing) console.error("[realtime] replication stream error:", error.message);
    },
  });

  return {
    captureStats: () => capture.stats,
    connections: () => connections,
    handleHttp: (req, res, path) => broadcasts.handleHttp(req, res, path),
    handleUpgrade(req, socket, head) {
      if (closing) {
        refuseUpgrade(socket, 503, "Realtime is shutting down");
        return;
      }
      let url: URL;
      try {
        url = new URL(req.url ?? "/", "http://localhost");
      } catch {
        refuseUpgrade(socket, 400, "Bad request");
        return;
      }
      if (url.pathname !== REALTIME_WEBSOCKET_PATH && url.pathname !== `${REALTIME_WEBSOCKET_PATH}/`) {
        refuseUpgrade(socket, 404, "Not found");
        return;
      }
      const vsn = parseVsn(url.searchParams.get("vsn"));
      if (!vsn) {
        refuseUpgrade(socket, 400, `Unsupported serializer version: ${url.searchParams.get("vsn")}`);
        return;
      }
      const headerKey = req.headers["x-api-key"];
      const rawKey = (Array.isArray(headerKey) ? headerKey[0] : headerKey) ?? url.searchParams.get("apikey") ?? undefined;
      let claims: Claims;
      try {
        const token = rawKey === undefined ? undefined : apiKeyToJwt(rawKey, config.keys);
        if (token !== undefined && token !== "" && !isJwtShaped(token)) throw new TokenError("invalid", "The token provided is not a valid JWT");
        claims = verifyRealtimeToken(token, config.keys.jwtSecret);
      } catch (error) {
        refuseUpgrade(socket, 401, error instanceof TokenError ? error.message : "The token provided is not a valid JWT");
        return;
      }
      socket.on("error", () => socket.destroy());
      const headers = policyHeaders(req);
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, vsn, claims, headers));
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(livenessTimer);
      await capture.close();
      await checker.close();
      await schemaWatch.stop();
      for (const conn of connections) {
        for (const channel of conn.channels.values()) dropChannel(conn, channel);
        conn.ws.close(1001, "server shutting down");
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const conn of connections) conn.ws.terminate();
      connections.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await pool.end().catch(() => undefined);
    },
  };
}
