// Realtime's postgres_changes over the Phoenix channel protocol, as realtime-js 2.109 speaks it
// (docs/supabase-standin-spec.md §3). One WAL poller (capture.ts) feeds every socket; each change reaches a
// channel (channels.ts) only through bindings whose event and filter match, and only when that channel's own
// JWT claims can SELECT the row under RLS, checked after commit as the subscriber's role (delivery.ts).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import pg from "pg";
import { WebSocketServer } from "ws";
import type { InstanceConfig } from "../../config.ts";
import { apiKeyToJwt } from "../authorization.ts";
import { startCapture, type Capture, type CaptureStats } from "./capture.ts";
import { createChannels, type Connection } from "./channels.ts";
import { createDelivery } from "./delivery.ts";
import { parseVsn } from "./protocol.ts";
import { isJwtShaped, TokenError, verifyRealtimeToken, type Claims } from "./tokens.ts";

export const REALTIME_WEBSOCKET_PATH = "/realtime/v1/websocket";

const MAX_FRAME_BYTES = 1024 * 1024;
/** Sockets that answer no websocket ping within this long are dropped (a vanished client, a dead link). */
const LIVENESS_INTERVAL_MS = 30_000;

export interface RealtimeServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** What the WAL poller has done so far (for tests and diagnostics). */
  captureStats(): CaptureStats;
  close(): Promise<void>;
}

export interface RealtimeOptions {
  config: InstanceConfig;
  /** How often the WAL slot is read; Realtime's default is 100 ms. */
  pollIntervalMs?: number;
  /** Changes read from the WAL cursor and delivered per round (default 500); bounds the poller's memory. */
  captureChunkSize?: number;
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  const reason = status === 401 ? "Unauthorized" : status === 404 ? "Not Found" : status === 400 ? "Bad Request" : "Error";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function createRealtime({ config, pollIntervalMs = 50, captureChunkSize }: RealtimeOptions): Promise<RealtimeServer> {
  const pool = new pg.Pool({ connectionString: config.dbUrl, max: 4, application_name: "leadloop realtime" });
  pool.on("error", (error) => console.error("[realtime] idle connection error:", error.message));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const connections = new Set<Connection>();
  let closing = false;
  const { onConnection, dropChannel } = createChannels({ pool, jwtSecret: config.keys.jwtSecret, connections });
  const { deliver, subscribedTables } = createDelivery({ pool, connections });

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
    pollIntervalMs,
    chunkSize: captureChunkSize,
    wantedTables: subscribedTables,
    onChanges: async (changes) => {
      try {
        await deliver(changes);
      } catch (error) {
        console.error("[realtime] delivery failed:", (error as Error).message);
      }
    },
    onError: (error) => {
      if (!closing) console.error("[realtime] WAL poller error:", error.message);
    },
  });

  return {
    captureStats: () => capture.stats,
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
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, vsn, claims));
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(livenessTimer);
      await capture.close();
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
