// One socket and its channels, and the only way anything is written to a socket: `sendFrame` bounds what
// may wait for a client that reads slower than changes arrive (back-pressure). Past the limit the client
// gets an error for each channel and a close frame, and is cut off if it does not take them either, so a
// client that never reads costs at most the limit, never unbounded memory.
import { WebSocket } from "ws";
import type { ColumnFilter } from "./filters.ts";
import { encodeFrame, type PhoenixMessage, type Vsn } from "./protocol.ts";
import type { Claims } from "./tokens.ts";

/** LEADLOOP_REALTIME_DEBUG=1 logs every frame in and out. */
export const DEBUG = process.env.LEADLOOP_REALTIME_DEBUG === "1";

/** Bytes that may wait in a socket's send buffer (ours and the kernel's) before the client counts as too slow. */
export const SEND_BUFFER_LIMIT_BYTES = 4 * 1024 * 1024;
/** How long a too-slow client gets to take its error and close frames before the socket is destroyed. */
const OVERFLOW_GRACE_MS = 2000;
/** WebSocket close code for a client cut off by back-pressure: "try again later". */
export const CLOSE_TOO_SLOW = 1013;
export const TOO_SLOW_MESSAGE = "Client is too slow to read its messages: disconnected";

export type ChangeEvent = "*" | "INSERT" | "UPDATE" | "DELETE";

export interface TableSubscription {
  schema: string;
  table: string;
  /** typname of every filtered column, for comparisons in the column's type. */
  filterTypes: Map<string, string>;
}

export interface Binding {
  id: number;
  params: Record<string, unknown>;
  event: ChangeEvent;
  filters: ColumnFilter[];
  /** relationKey -> subscription; empty until subscribed (or when subscribing failed). */
  tables: Map<string, TableSubscription>;
}

/** What a private channel's claims may do, from the RLS policies on realtime.messages (authorization.ts). */
export interface ChannelPermissions {
  broadcastRead: boolean;
  presenceRead: boolean;
  /** Checked on the first write, then kept: undefined until then. */
  broadcastWrite?: boolean;
  presenceWrite?: boolean;
}

export interface Channel {
  topic: string;
  joinRef: string | null;
  claims: Claims;
  claimsJson: string;
  accessToken: string | undefined;
  bindings: Binding[];
  broadcastSelf: boolean;
  broadcastAck: boolean;
  private: boolean;
  /** Private channels only; public channels may do everything. */
  permissions?: ChannelPermissions;
  presenceEnabled: boolean;
  /** The key this channel's presence is tracked under (config.presence.key, or a generated one). */
  presenceKey: string;
  expiryTimer?: NodeJS.Timeout;
}

export interface Connection {
  /** A number per socket, to spread sockets over parallel work in a stable way (delivery.ts). */
  id: number;
  alive: boolean;
  ws: WebSocket;
  vsn: Vsn;
  claims: Claims;
  channels: Map<string, Channel>;
  /** Set once the send buffer overflowed: nothing more is sent, the socket is on its way out. */
  overflowed: boolean;
  /** Request headers of the upgrade, for realtime.messages policies (request.headers). */
  headers: Record<string, string>;
}

/** Map key of a relation; names may contain dots, so it is a JSON pair rather than "schema.table". */
export function relationKey(schema: string, table: string): string {
  return JSON.stringify([schema, table]);
}

export function subtopic(topic: string): string {
  return topic.slice("realtime:".length);
}

/** Writes one encoded frame, unless the client has fallen too far behind (then it is disconnected). */
export function sendFrame(conn: Connection, frame: string | Buffer, binary = typeof frame !== "string"): void {
  if (conn.overflowed || conn.ws.readyState !== WebSocket.OPEN) return;
  // Encoded once here; ws sends a Buffer as is (text or binary by the flag).
  const bytes = typeof frame === "string" ? Buffer.from(frame) : frame;
  if (conn.ws.bufferedAmount + bytes.length > SEND_BUFFER_LIMIT_BYTES) {
    disconnectTooSlow(conn);
    return;
  }
  if (DEBUG) console.log("[realtime] >", binary ? `<binary ${bytes.length} bytes>` : bytes.toString().slice(0, 500));
  conn.ws.send(bytes, { binary });
}

export function send(conn: Connection, message: PhoenixMessage): void {
  if (conn.overflowed || conn.ws.readyState !== WebSocket.OPEN) return;
  sendFrame(conn, encodeFrame(message, conn.vsn));
}

function disconnectTooSlow(conn: Connection): void {
  conn.overflowed = true;
  const { ws } = conn;
  console.warn(`[realtime] disconnecting a client that stopped reading (${ws.bufferedAmount} bytes waiting)`);
  for (const channel of conn.channels.values()) {
    ws.send(
      encodeFrame(
        {
          joinRef: channel.joinRef,
          ref: null,
          topic: channel.topic,
          event: "system",
          payload: { extension: "system", status: "error", message: TOO_SLOW_MESSAGE, channel: subtopic(channel.topic) },
        },
        conn.vsn,
      ),
    );
  }
  ws.close(CLOSE_TOO_SLOW, "client too slow");
  setTimeout(() => ws.terminate(), OVERFLOW_GRACE_MS).unref();
}
