// Realtime's postgres_changes over the Phoenix channel protocol, as realtime-js 2.109 speaks it
// (docs/supabase-standin-spec.md §3). One WAL poller feeds every socket; each change reaches a channel only
// through bindings whose event and filter match, and only when that channel's own JWT claims can SELECT
// the row under RLS, checked after commit in a transaction that runs as the subscriber's role.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import pg from "pg";
import { WebSocketServer, WebSocket, type RawData } from "ws";
import type { InstanceConfig } from "../../config.ts";
import { apiKeyToJwt } from "../authorization.ts";
import { startCapture, type Capture, type CapturedTable, type CaptureStats, type WalChange } from "./capture.ts";
import { FilterParseError, filterMatches, filterValueProblem, parseFilter, type ColumnFilter } from "./filters.ts";
import { decodeFrame, encodeFrame, FrameError, parseVsn, type PhoenixMessage, type Vsn } from "./protocol.ts";
import { textForm, typedRows, type TypedRow } from "./records.ts";
import { isJwtShaped, joinErrorReason, TokenError, verifyRealtimeToken, type Claims } from "./tokens.ts";

export const REALTIME_WEBSOCKET_PATH = "/realtime/v1/websocket";

const MAX_FRAME_BYTES = 1024 * 1024;
const TOKEN_RECHECK_MAX_MS = 5 * 60 * 1000;
const PUBLICATION = "supabase_realtime";
const CHECKS_PER_ROUND_TRIP = 100;
/** Sockets that answer no websocket ping within this long are dropped (a vanished client, a dead link). */
const LIVENESS_INTERVAL_MS = 30_000;
/** LEADLOOP_REALTIME_DEBUG=1 logs every frame in and out. */
const DEBUG = process.env.LEADLOOP_REALTIME_DEBUG === "1";

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

type ChangeEvent = "*" | "INSERT" | "UPDATE" | "DELETE";

interface TableSubscription {
  schema: string;
  table: string;
  /** typname of every filtered column, for comparisons in the column's type. */
  filterTypes: Map<string, string>;
}

interface Binding {
  id: number;
  params: Record<string, unknown>;
  event: ChangeEvent;
  filters: ColumnFilter[];
  /** "schema.table" -> subscription; empty until subscribed (or when subscribing failed). */
  tables: Map<string, TableSubscription>;
}

interface Channel {
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

interface Connection {
  alive: boolean;
  ws: WebSocket;
  vsn: Vsn;
  claims: Claims;
  channels: Map<string, Channel>;
}

interface TableMeta {
  rls: boolean;
  columns: Array<{ name: string; type: string; sql: string; grantedTo: string[] }>;
}

/** Map key of a relation; names may contain dots, so it is a JSON pair rather than "schema.table". */
function relationKey(schema: string, table: string): string {
  return JSON.stringify([schema, table]);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
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

function actionType(action: WalChange["action"]): "INSERT" | "UPDATE" | "DELETE" {
  return action === "I" ? "INSERT" : action === "U" ? "UPDATE" : "DELETE";
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

  function send(conn: Connection, message: PhoenixMessage): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    const frame = encodeFrame(message, conn.vsn);
    if (DEBUG) console.log("[realtime] >", frame.slice(0, 500));
    conn.ws.send(frame);
  }

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
    return { claims: verifyRealtimeToken(candidate, config.keys.jwtSecret), token: candidate };
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
        return { status: "error", message: `Unable to subscribe to changes: ${(error as Error).message}` };
      }
    }
    return { status: "ok", message: "Subscribed to PostgreSQL" };
  }

  async function handleAccessToken(conn: Connection, channel: Channel, msg: PhoenixMessage): Promise<void> {
    const token = msg.payload.access_token;
    if (typeof token !== "string" || token === "" || token.startsWith("sb_") || token === channel.accessToken) return;
    let claims: Claims;
    try {
      claims = verifyRealtimeToken(token, config.keys.jwtSecret);
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

  // ---- change delivery -------------------------------------------------------------------------

  /** Every table some binding of an open channel is subscribed to: the only ones the poller decodes. */
  function subscribedTables(): CapturedTable[] {
    const tables = new Map<string, CapturedTable>();
    for (const conn of connections) {
      for (const channel of conn.channels.values()) {
        for (const binding of channel.bindings) {
          for (const [key, sub] of binding.tables) tables.set(key, { schema: sub.schema, table: sub.table });
        }
      }
    }
    return [...tables.values()];
  }

  function tableWanted(key: string): boolean {
    for (const conn of connections) {
      for (const channel of conn.channels.values()) {
        for (const binding of channel.bindings) if (binding.tables.has(key)) return true;
      }
    }
    return false;
  }

  async function loadMeta(keys: string[], roles: string[]): Promise<Map<string, TableMeta>> {
    const schemas: string[] = [];
    const tables: string[] = [];
    for (const key of keys) {
      const [schema, table] = JSON.parse(key) as [string, string];
      schemas.push(schema);
      tables.push(table);
    }
    const { rows } = await pool.query<{ schema: string; table: string; rls: boolean; columns: TableMeta["columns"] }>(
      `select n.nspname as schema, c.relname as table, c.relrowsecurity as rls,
              jsonb_agg(jsonb_build_object(
                'name', a.attname, 'type', ty.typname, 'sql', format_type(a.atttypid, a.atttypmod),
                'grantedTo', (select coalesce(jsonb_agg(r.rolname), '[]'::jsonb) from pg_roles r
                               where r.rolname = any($3::text[]) and has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT')))
                order by a.attnum) as columns
         from unnest($1::text[], $2::text[]) as wanted(schema_name, table_name)
         join pg_namespace n on n.nspname = wanted.schema_name
         join pg_class c on c.relnamespace = n.oid and c.relname = wanted.table_name
         join pg_publication_tables pt on pt.pubname = $4 and pt.schemaname = n.nspname and pt.tablename = c.relname
         join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
         join pg_type ty on ty.oid = a.atttypid
        group by n.nspname, c.relname, c.relrowsecurity`,
      [schemas, tables, roles, PUBLICATION],
    );
    // A table dropped from the publication after a join stops producing events, as with Realtime.
    return new Map(rows.map((r) => [relationKey(r.schema, r.table), { rls: r.rls, columns: r.columns }]));
  }

  interface Candidate {
    conn: Connection;
    channel: Channel;
    ids: number[];
  }

  interface PreparedChange {
    change: WalChange;
    key: string;
    meta: TableMeta;
    record: TypedRow | null;
    oldRecord: TypedRow | null;
    candidates: Candidate[];
    /** claimsJson -> visible; filled for INSERT/UPDATE on RLS tables. */
    visibility: Map<string, boolean>;
  }

  function matchCandidates(change: WalChange, key: string): Candidate[] {
    const type = actionType(change.action);
    const source = change.action === "D" ? change.identity : change.columns;
    const texts = new Map<string, string | null>();
    for (const column of source) texts.set(column.name, textForm(column.value));
    const candidates: Candidate[] = [];
    for (const conn of connections) {
      for (const channel of conn.channels.values()) {
        const ids: number[] = [];
        for (const binding of channel.bindings) {
          const sub = binding.tables.get(key);
          if (!sub) continue;
          if (binding.event !== "*" && binding.event !== type) continue;
          const passes = binding.filters.every((f) =>
            filterMatches(f, texts.has(f.column) ? texts.get(f.column) : undefined, sub.filterTypes.get(f.column) ?? "text"),
          );
          if (passes && !ids.includes(binding.id)) ids.push(binding.id);
        }
        if (ids.length > 0) candidates.push({ conn, channel, ids });
      }
    }
    return candidates;
  }

  async function checkVisibility(prepared: PreparedChange[]): Promise<void> {
    type Check = VisibilityCheck;
    const checks: Check[] = [];
    for (const item of prepared) {
      if (!item.meta.rls || item.change.action === "D") continue;
      const seen = new Set<string>();
      for (const candidate of item.candidates) {
        if (seen.has(candidate.channel.claimsJson)) continue;
        if (changeError(item, candidate.channel.claims.role)) continue; // gets an error frame, no row
        seen.add(candidate.channel.claimsJson);
        checks.push({ item, claimsJson: candidate.channel.claimsJson, role: candidate.channel.claims.role });
      }
    }
    if (checks.length === 0) return;
    const chunks: Check[][] = [];
    for (let i = 0; i < checks.length; i += CHECKS_PER_ROUND_TRIP) chunks.push(checks.slice(i, i + CHECKS_PER_ROUND_TRIP));
    await Promise.all(chunks.map((chunk) => checkChunk(chunk)));
  }

  interface VisibilityCheck {
    item: PreparedChange;
    claimsJson: string;
    role: string;
  }

  /**
   * The checks of one chunk go out as one multi-statement simple query: Postgres plans each statement
   * only after the previous one ran, so every `exists` runs under the role and claims set just before
   * it. Values are quoted with escapeLiteral: claims come from verified JWTs, keys from the WAL.
   */
  function checkStatements(client: pg.PoolClient, check: VisibilityCheck): [string, string] {
    const lit = (value: string) => client.escapeLiteral(value);
    const columnSql = new Map(check.item.meta.columns.map((c) => [c.name, c.sql]));
    const where = check.item.change.pk
      .map((p) => `${quoteIdent(p.name)} = ${lit(textForm(check.item.record?.[p.name] ?? null) ?? "")}::${columnSql.get(p.name) ?? p.type}`)
      .join(" and ");
    return [
      `select set_config('role', ${lit(check.role)}, true), set_config('request.jwt.claims', ${lit(check.claimsJson)}, true)`,
      `select exists(select 1 from ${quoteIdent(check.item.change.schema)}.${quoteIdent(check.item.change.table)} where ${where}) as visible`,
    ];
  }

  async function runChecks(client: pg.PoolClient, checks: VisibilityCheck[]): Promise<void> {
    const statements = ["begin"];
    const resultIndex: number[] = [];
    for (const check of checks) {
      const [setClaims, exists] = checkStatements(client, check);
      statements.push(setClaims);
      resultIndex.push(statements.length);
      statements.push(exists);
    }
    statements.push("rollback");
    const results = (await client.query(statements.join(";\n"))) as unknown as pg.QueryResult<{ visible: boolean }>[];
    checks.forEach((check, i) => check.item.visibility.set(check.claimsJson, results[resultIndex[i]]?.rows[0]?.visible === true));
  }

  async function checkChunk(checks: VisibilityCheck[]): Promise<void> {
    const client = await pool.connect();
    let broken = false;
    try {
      try {
        await runChecks(client, checks);
      } catch {
        await client.query("rollback").catch(() => {
          broken = true;
        });
        // One subscriber's check failed (a policy raised, a role vanished): retry them one by one, so
        // only that subscriber misses the change.
        for (const check of checks) {
          if (broken) break;
          try {
            await runChecks(client, [check]);
          } catch (error) {
            if (DEBUG) console.log("[realtime] visibility check failed:", (error as Error).message);
            check.item.visibility.set(check.claimsJson, false);
            await client.query("rollback").catch(() => {
              broken = true;
            });
          }
        }
      }
    } finally {
      client.release(broken);
    }
  }

  /** Realtime's per-role error payloads for INSERT/UPDATE: no primary key, or no SELECT on all of it. */
  function changeError(item: PreparedChange, role: string): string | undefined {
    if (item.change.action === "D") return undefined;
    if (item.change.pk.length === 0) return "Error 400: Bad Request, no primary key";
    const granted = new Set(item.meta.columns.filter((c) => c.grantedTo.includes(role)).map((c) => c.name));
    if (!item.change.pk.every((p) => granted.has(p.name))) return "Error 401: Unauthorized";
    return undefined;
  }

  function framePayload(item: PreparedChange, role: string, ids: number[]): Record<string, unknown> {
    const type = actionType(item.change.action);
    const base: Record<string, unknown> = { schema: item.change.schema, table: item.change.table, type };
    const pkNames = item.change.pk.map((p) => p.name);
    const error = changeError(item, role);
    if (error) return { ids, data: { ...base, errors: [error] } };
    const visibleColumns = item.meta.columns.filter((c) => c.grantedTo.includes(role));
    const visibleNames = new Set(visibleColumns.map((c) => c.name));
    const pick = (row: TypedRow | null, names: Set<string>): TypedRow => {
      const out: TypedRow = {};
      if (!row) return out;
      for (const column of visibleColumns) if (names.has(column.name) && column.name in row) out[column.name] = row[column.name];
      return out;
    };
    const data: Record<string, unknown> = {
      ...base,
      commit_timestamp: item.change.commitTimestamp,
      columns: visibleColumns.map((c) => ({ name: c.name, type: c.type })),
      errors: null,
    };
    if (type !== "DELETE") {
      const record = pick(item.record, visibleNames);
      // wal2json leaves out unchanged TOASTed values; like Realtime, take them from the old row.
      if (type === "UPDATE" && item.oldRecord) {
        for (const name of visibleNames) if (!(name in record) && name in item.oldRecord) record[name] = item.oldRecord[name];
      }
      data.record = record;
    }
    if (type !== "INSERT") {
      const oldNames = type === "DELETE" && item.meta.rls ? new Set(pkNames) : visibleNames;
      data.old_record = pick(item.oldRecord, oldNames);
    }
    return { ids, data };
  }

  async function deliver(changes: WalChange[]): Promise<void> {
    if (connections.size === 0) return;
    const relevant = changes.filter((c) => tableWanted(relationKey(c.schema, c.table)));
    if (relevant.length === 0) return;
    const roles = new Set<string>();
    for (const conn of connections) for (const channel of conn.channels.values()) roles.add(channel.claims.role);
    const metas = await loadMeta([...new Set(relevant.map((c) => relationKey(c.schema, c.table)))], [...roles]);
    const rowsToType = relevant.flatMap((c) => [c.columns, c.identity.length > 0 ? c.identity : c.columns.filter((col) => c.pk.some((p) => p.name === col.name))]);
    const typed = await typedRows(pool, rowsToType);
    const prepared: PreparedChange[] = [];
    relevant.forEach((change, i) => {
      const key = relationKey(change.schema, change.table);
      const meta = metas.get(key);
      if (!meta) return;
      const candidates = matchCandidates(change, key);
      if (candidates.length === 0) return;
      prepared.push({
        change,
        key,
        meta,
        record: change.action === "D" ? null : typed[2 * i],
        oldRecord: change.action === "I" ? null : typed[2 * i + 1],
        candidates,
        visibility: new Map(),
      });
    });
    await checkVisibility(prepared);
    for (const item of prepared) {
      const needsRls = item.meta.rls && item.change.action !== "D";
      for (const candidate of item.candidates) {
        if (candidate.conn.channels.get(candidate.channel.topic) !== candidate.channel) continue;
        const role = candidate.channel.claims.role;
        if (needsRls && !changeError(item, role) && item.visibility.get(candidate.channel.claimsJson) !== true) continue;
        send(candidate.conn, {
          joinRef: null,
          ref: null,
          topic: candidate.channel.topic,
          event: "postgres_changes",
          payload: framePayload(item, role, candidate.ids),
        });
      }
    }
  }

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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
