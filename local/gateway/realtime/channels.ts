// Realtime's channel protocol per socket (docs/supabase-standin-spec.md §3.3, §3.4): joins in wire order
// with their postgres_changes bindings resolved against the publication and the subscriber's role,
// access_token refresh, token expiry, broadcast, heartbeats and leave.
import type pg from "pg";
import { WebSocket, type RawData } from "ws";
import { FilterParseError, filterValueProblem, parseFilter, type ColumnFilter } from "./filters.ts";
import { decodeFrame, encodeFrame, FrameError, type PhoenixMessage, type Vsn } from "./protocol.ts";
import { joinErrorReason, TokenError, verifyRealtimeToken, type Claims } from "./tokens.ts";

const TOKEN_RECHECK_MAX_MS = 5 * 60 * 1000;
export const PUBLICATION = "supabase_realtime";
/** LEADLOOP_REALTIME_DEBUG=1 logs every frame in and out. */
export const DEBUG = process.env.LEADLOOP_REALTIME_DEBUG === "1";

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
  /** "schema.table" -> subscription; empty until subscribed (or when subscribing failed). */
  tables: Map<string, TableSubscription>;
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
  expiryTimer?: NodeJS.Timeout;
}

export interface Connection {
  alive: boolean;
  ws: WebSocket;
  vsn: Vsn;
  claims: Claims;
  channels: Map<string, Channel>;
}

/** Map key of a relation; names may contain dots, so it is a JSON pair rather than "schema.table". */
export function relationKey(schema: string, table: string): string {
  return JSON.stringify([schema, table]);
}

/** Stable id per distinct binding map, like Realtime's phash2(params): identical maps share an id. */
function bindingId(params: Record<string, unknown>): number {
  const canonical = JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
  let hash = 0x811c9dc5;
  for (let i = 0; i < canonical.length; i++) {
    hash ^= canonical.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash & 0x7ffffff) || 1;
}

function parseEvent(value: unknown): ChangeEvent {
  const upper = typeof value === "string" ? value.toUpperCase() : "*";
  return upper === "INSERT" || upper === "UPDATE" || upper === "DELETE" ? upper : "*";
}

export function send(conn: Connection, message: PhoenixMessage): void {
  if (conn.ws.readyState !== WebSocket.OPEN) return;
  const frame = encodeFrame(message, conn.vsn);
  if (DEBUG) console.log("[realtime] >", frame.slice(0, 500));
  conn.ws.send(frame);
}

export interface ChannelsContext {
  pool: pg.Pool;
  jwtSecret: string;
  /** Every open socket; change delivery reads the same set. */
  connections: Set<Connection>;
}

/** The per-socket protocol: `onConnection` takes over a socket once the upgrade was accepted. */
export function createChannels({ pool, jwtSecret, connections }: ChannelsContext) {
  function reply(conn: Connection, msg: PhoenixMessage, status: "ok" | "error", response: Record<string, unknown>): void {
    send(conn, { joinRef: msg.joinRef, ref: msg.ref, topic: msg.topic, event: "phx_reply", payload: { status, response } });
  }

  function subtopic(topic: string): string {
    return topic.slice("realtime:".length);
  }

  function systemMessage(conn: Connection, channel: Channel, extension: string, status: "ok" | "error", message: string): void {
    send(conn, {
      joinRef: channel.joinRef,
      ref: null,
      topic: channel.topic,
      event: "system",
      payload: { extension, status, message, channel: subtopic(channel.topic) },
    });
  }

  function dropChannel(conn: Connection, channel: Channel): void {
    if (channel.expiryTimer) clearTimeout(channel.expiryTimer);
    if (conn.channels.get(channel.topic) === channel) conn.channels.delete(channel.topic);
  }

  function closeChannel(conn: Connection, channel: Channel): void {
    dropChannel(conn, channel);
    send(conn, { joinRef: channel.joinRef, ref: channel.joinRef, topic: channel.topic, event: "phx_close", payload: {} });
  }

  /** Realtime re-checks `exp` on a timer and closes the channel when the token runs out. */
  function scheduleExpiry(conn: Connection, channel: Channel): void {
    if (channel.expiryTimer) clearTimeout(channel.expiryTimer);
    const msLeft = channel.claims.exp * 1000 - Date.now();
    channel.expiryTimer = setTimeout(() => {
      if (conn.channels.get(channel.topic) !== channel) return;
      if (channel.claims.exp * 1000 <= Date.now()) {
        systemMessage(conn, channel, "system", "error", "Token has expired");
        closeChannel(conn, channel);
      } else {
        scheduleExpiry(conn, channel);
      }
    }, Math.max(0, Math.min(msLeft, TOKEN_RECHECK_MAX_MS)) + 50);
    channel.expiryTimer.unref();
  }

  /** Resolves a binding to published tables and validates role and filters; returns an error text on failure. */
  async function subscribeBinding(binding: Binding, role: string): Promise<string | undefined> {
    // Tables resolved for an earlier role must not outlive a failed re-subscribe.
    binding.tables = new Map();
    const p = binding.params;
    const describe = () =>
      `Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: ${String(p.event ?? "*")}, schema: ${String(p.schema ?? "")}, table: ${String(p.table ?? "")}, filters: ${JSON.stringify(binding.filters.map((f) => [f.column, `${f.negate ? "not." : ""}${f.op}`, f.value]))}]`;
    const table = typeof p.table === "string" && p.table !== "" ? p.table : "*";
    const schema = typeof p.schema === "string" && p.schema !== "" ? p.schema : table === "*" ? "*" : "public";
    const { rows: roleRows } = await pool.query("select 1 from pg_roles where rolname = $1", [role]);
    if (roleRows.length === 0) return describe();
    const { rows: tables } = await pool.query<{ schema: string; table: string; oid: number; can_select: boolean }>(
      `select pt.schemaname as schema, pt.tablename as table, c.oid::int as oid,
              has_any_column_privilege($4, c.oid, 'SELECT') as can_select
         from pg_publication_tables pt
         join pg_namespace n on n.nspname = pt.schemaname
         join pg_class c on c.relnamespace = n.oid and c.relname = pt.tablename
        where pt.pubname = $1 and ($2 = '*' or pt.schemaname = $2) and ($3 = '*' or pt.tablename = $3)`,
      [PUBLICATION, schema, table, role],
    );
    if (tables.length === 0 || tables.some((t) => !t.can_select)) return describe();
    const resolved = new Map<string, TableSubscription>();
    for (const t of tables) {
      const filterTypes = new Map<string, string>();
      if (binding.filters.length > 0) {
        const { rows: columns } = await pool.query<{ name: string; typname: string; sql: string; can_select: boolean }>(
          `select a.attname as name, ty.typname, format_type(a.atttypid, a.atttypmod) as sql,
                  has_column_privilege($2, a.attrelid, a.attname, 'SELECT') as can_select
             from pg_attribute a join pg_type ty on ty.oid = a.atttypid
            where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped`,
          [t.oid, role],
        );
        const byName = new Map(columns.map((c) => [c.name, c]));
        for (const filter of binding.filters) {
          const column = byName.get(filter.column);
          if (!column || !column.can_select) return describe();
          if (filterValueProblem(filter, column.typname)) return describe();
          if (["eq", "neq", "lt", "lte", "gt", "gte", "in", "isdistinct"].includes(filter.op)) {
            const operands = filter.op === "in" ? filter.values : [filter.value];
            try {
              for (const operand of operands) await pool.query(`select $1::text::${column.sql}`, [operand]);
            } catch {
              return describe();
            }
          }
          filterTypes.set(filter.column, column.typname);
        }
      }
      resolved.set(relationKey(t.schema, t.table), { schema: t.schema, table: t.table, filterTypes });
    }
    binding.tables = resolved;
    return undefined;
  }

  const PARSE_FAILED: ColumnFilter[] = [];
  const parseErrorText = new WeakMap<Binding, string>();

  function claimsForJoin(conn: Connection, payload: Record<string, unknown>): { claims: Claims; token?: string } {
    const candidate = typeof payload.access_token === "string" ? payload.access_token : typeof payload.user_token === "string" ? payload.user_token : undefined;
    if (candidate === undefined || candidate.startsWith("sb_")) return { claims: conn.claims };
    return { claims: verifyRealtimeToken(candidate, jwtSecret), token: candidate };
  }

  /**
   * Join in wire order: validate, subscribe, then the phx_reply, then the system message.
   */
  async function orderedJoin(conn: Connection, msg: PhoenixMessage): Promise<void> {
    if (!msg.topic.startsWith("realtime:") || msg.topic === "realtime:") {
      reply(conn, msg, "error", { reason: "TopicNameRequired: You must provide a topic name" });
      return;
    }
    let claims: Claims;
    let token: string | undefined;
    try {
      ({ claims, token } = claimsForJoin(conn, msg.payload));
    } catch (error) {
      if (error instanceof TokenError) {
        reply(conn, msg, "error", { reason: joinErrorReason(error) });
        return;
      }
      throw error;
    }
    const existing = conn.channels.get(msg.topic);
    if (existing) dropChannel(conn, existing);

    const joinConfig = (isObject(msg.payload.config) ? msg.payload.config : {}) as Record<string, unknown>;
    const rawBindings = Array.isArray(joinConfig.postgres_changes) ? joinConfig.postgres_changes : [];
    const broadcast = (isObject(joinConfig.broadcast) ? joinConfig.broadcast : {}) as Record<string, unknown>;
    const bindings: Binding[] = rawBindings.map((entry) => {
      const params = (isObject(entry) ? entry : {}) as Record<string, unknown>;
      const binding: Binding = { id: bindingId(params), params, event: parseEvent(params.event), filters: [], tables: new Map() };
      try {
        binding.filters = parseFilter(params.filter);
      } catch (error) {
        binding.filters = PARSE_FAILED;
        parseErrorText.set(binding, error instanceof FilterParseError ? error.message : "Error parsing `filter` params");
      }
      return binding;
    });
    const channel: Channel = {
      topic: msg.topic,
      joinRef: msg.joinRef ?? msg.ref,
      claims,
      claimsJson: JSON.stringify(claims),
      accessToken: token,
      bindings,
      broadcastSelf: broadcast.self === true,
      broadcastAck: broadcast.ack === true,
    };
    conn.channels.set(msg.topic, channel);
    scheduleExpiry(conn, channel);

    const outcome = await resolveChannel(channel);
    if (conn.channels.get(msg.topic) !== channel) return;
    reply(conn, msg, "ok", { postgres_changes: bindings.map((b) => ({ ...b.params, id: b.id })) });
    if (bindings.length > 0) systemMessage(conn, channel, "postgres_changes", outcome.status, outcome.message);
  }

  async function resolveChannel(channel: Channel): Promise<{ status: "ok" | "error"; message: string }> {
    for (const binding of channel.bindings) {
      if (binding.filters === PARSE_FAILED) {
        return { status: "error", message: parseErrorText.get(binding) ?? "Error parsing `filter` params" };
      }
    }
    for (const binding of channel.bindings) {
      try {
        const problem = await subscribeBinding(binding, channel.claims.role);
        if (problem) return { status: "error", message: problem };
      } catch (error) {
        // The cause (a database error, a lost connection) is for the logs, not for the subscriber.
        console.error("[realtime] subscribing failed:", (error as Error).message);
        return { status: "error", message: "Unable to subscribe to changes: an internal error occurred" };
      }
    }
    return { status: "ok", message: "Subscribed to PostgreSQL" };
  }

  async function handleAccessToken(conn: Connection, channel: Channel, msg: PhoenixMessage): Promise<void> {
    const token = msg.payload.access_token;
    if (typeof token !== "string" || token === "" || token.startsWith("sb_") || token === channel.accessToken) return;
    let claims: Claims;
    try {
      claims = verifyRealtimeToken(token, jwtSecret);
    } catch (error) {
      const message = error instanceof TokenError && error.problem === "expired" ? `Token has expired ${error.expiredSecondsAgo} seconds ago` : (error as Error).message;
      systemMessage(conn, channel, "system", "error", message);
      closeChannel(conn, channel);
      return;
    }
    const roleChanged = claims.role !== channel.claims.role;
    channel.claims = claims;
    channel.claimsJson = JSON.stringify(claims);
    channel.accessToken = token;
    scheduleExpiry(conn, channel);
    if (roleChanged) {
      const outcome = await resolveChannel(channel);
      if (outcome.status === "error" && conn.channels.get(channel.topic) === channel) {
        systemMessage(conn, channel, "postgres_changes", "error", outcome.message);
      }
    }
  }

  function handleBroadcast(conn: Connection, channel: Channel, msg: PhoenixMessage): void {
    for (const other of connections) {
      const target = other.channels.get(channel.topic);
      if (!target || (other === conn && !channel.broadcastSelf)) continue;
      send(other, { joinRef: null, ref: null, topic: channel.topic, event: "broadcast", payload: msg.payload });
    }
    if (channel.broadcastAck && msg.ref !== null) reply(conn, msg, "ok", {});
  }

  async function handleMessage(conn: Connection, msg: PhoenixMessage): Promise<void> {
    if (msg.topic === "phoenix" && msg.event === "heartbeat") {
      reply(conn, msg, "ok", {});
      return;
    }
    if (msg.event === "phx_join") {
      await orderedJoin(conn, msg);
      return;
    }
    const channel = conn.channels.get(msg.topic);
    if (!channel) {
      reply(conn, { ...msg, joinRef: null }, "error", { reason: "unmatched topic" });
      return;
    }
    switch (msg.event) {
      case "phx_leave":
        reply(conn, msg, "ok", {});
        closeChannel(conn, channel);
        return;
      case "access_token":
        await handleAccessToken(conn, channel, msg);
        return;
      case "broadcast":
        handleBroadcast(conn, channel, msg);
        return;
      case "presence":
        if (msg.ref !== null) reply(conn, msg, "ok", {});
        return;
      default:
        if (msg.ref !== null) reply(conn, msg, "ok", {});
    }
  }

  function onConnection(ws: WebSocket, vsn: Vsn, claims: Claims): void {
    const conn: Connection = { alive: true, ws, vsn, claims, channels: new Map() };
    ws.on("pong", () => {
      conn.alive = true;
    });
    connections.add(conn);
    // Frames of one socket are handled strictly in order (a join must finish before the next message).
    let queue: Promise<void> = Promise.resolve();
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (isBinary) return; // only user broadcasts use binary frames; postgres_changes never does
      const text = Buffer.isBuffer(data) ? data.toString("utf8") : Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data).toString("utf8");
      if (DEBUG) console.log("[realtime] <", text.slice(0, 500));
      let msg: PhoenixMessage;
      try {
        msg = decodeFrame(text, vsn);
      } catch (error) {
        if (!(error instanceof FrameError)) console.error("[realtime] frame error:", (error as Error).message);
        return;
      }
      queue = queue
        .then(() => handleMessage(conn, msg))
        .catch((error) => {
          console.error(`[realtime] error handling ${msg.event} on ${msg.topic}:`, (error as Error).message);
          const channel = conn.channels.get(msg.topic);
          if (channel) {
            dropChannel(conn, channel);
            send(conn, { joinRef: channel.joinRef, ref: channel.joinRef, topic: channel.topic, event: "phx_error", payload: {} });
          }
        });
    });
    ws.on("close", () => {
      for (const channel of conn.channels.values()) dropChannel(conn, channel);
      connections.delete(conn);
    });
    ws.on("error", () => ws.terminate());
  }

  return { onConnection, dropChannel };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
