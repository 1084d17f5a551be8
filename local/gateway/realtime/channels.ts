// Realtime's channel protocol per socket (docs/supabase-standin-spec.md §3.3, §3.4, §3.7): joins in wire order (private
// channels authorized by the RLS policies on realtime.messages first, then the postgres_changes bindings
// resolved against the publication and the subscriber's role), access_token refresh, token expiry,
// broadcast (JSON and binary pushes), presence, heartbeats and leave.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { RawData, WebSocket } from "ws";
import type { Broadcasts } from "./broadcast.ts";
import { DEBUG, send, subtopic, type Channel, type Connection } from "./connection.ts";
import { PolicyError, type AuthorizationContext, type Policies } from "./policies.ts";
import type { Presence } from "./presence.ts";
import { decodeBinaryFrame, decodeFrame, FrameError, type PhoenixMessage, type UserBroadcast, type Vsn } from "./protocol.ts";
import { createSubscriptions, parseBindings } from "./subscriptions.ts";
import { joinErrorReason, TokenError, verifyRealtimeToken, type Claims } from "./tokens.ts";

const TOKEN_RECHECK_MAX_MS = 5 * 60 * 1000;

export interface ChannelsContext {
  pool: pg.Pool;
  jwtSecret: string;
  /** Every open socket; change delivery, broadcast and presence read the same set. */
  connections: Set<Connection>;
  policies: Policies;
  broadcasts: Broadcasts;
  presence: Presence;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The per-socket protocol: `onConnection` takes over a socket once the upgrade was accepted. */
export function createChannels({ pool, jwtSecret, connections, policies, broadcasts, presence }: ChannelsContext) {
  const { resolveChannel } = createSubscriptions(pool);

  function reply(conn: Connection, msg: PhoenixMessage, status: "ok" | "error", response: Record<string, unknown>): void {
    send(conn, { joinRef: msg.joinRef, ref: msg.ref, topic: msg.topic, event: "phx_reply", payload: { status, response } });
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
    presence.untrack(channel);
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

  function authorizationContext(conn: Connection, channel: Channel): AuthorizationContext {
    return { topic: subtopic(channel.topic), role: channel.claims.role, claimsJson: channel.claimsJson, headersJson: JSON.stringify(conn.headers) };
  }

  function claimsForJoin(conn: Connection, payload: Record<string, unknown>): { claims: Claims; token?: string } {
    const candidate = typeof payload.access_token === "string" ? payload.access_token : typeof payload.user_token === "string" ? payload.user_token : undefined;
    if (candidate === undefined || candidate.startsWith("sb_")) return { claims: conn.claims };
    return { claims: verifyRealtimeToken(candidate, jwtSecret), token: candidate };
  }

  /** Join in wire order: validate, authorize a private channel, subscribe, phx_reply, presence_state, system. */
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

    const joinConfig = isObject(msg.payload.config) ? msg.payload.config : {};
    const broadcast = isObject(joinConfig.broadcast) ? joinConfig.broadcast : {};
    const presenceConfig = isObject(joinConfig.presence) ? joinConfig.presence : {};
    const channel: Channel = {
      topic: msg.topic,
      joinRef: msg.joinRef ?? msg.ref,
      claims,
      claimsJson: JSON.stringify(claims),
      accessToken: token,
      bindings: parseBindings(joinConfig.postgres_changes),
      broadcastSelf: broadcast.self === true,
      broadcastAck: broadcast.ack === true,
      private: joinConfig.private === true,
      presenceEnabled: presenceConfig.enabled === true,
      presenceKey: typeof presenceConfig.key === "string" && presenceConfig.key !== "" ? presenceConfig.key : randomUUID(),
    };
    if (channel.private) {
      try {
        const read = await policies.readPermissions(authorizationContext(conn, channel));
        channel.permissions = read;
        if (!read.broadcastRead && !read.presenceRead) {
          reply(conn, msg, "error", { reason: `Unauthorized: You do not have permissions to read from this Channel topic: ${subtopic(channel.topic)}` });
          return;
        }
      } catch (error) {
        if (!(error instanceof PolicyError)) throw error;
        console.error("[realtime] realtime.messages policy failed:", error.message);
        reply(conn, msg, "error", { reason: "RlsPolicyError: Error occurred when running the policies of realtime.messages" });
        return;
      }
    }
    conn.channels.set(msg.topic, channel);
    scheduleExpiry(conn, channel);

    const outcome = await resolveChannel(channel);
    if (conn.channels.get(msg.topic) !== channel) return;
    reply(conn, msg, "ok", { postgres_changes: channel.bindings.map((b) => ({ ...b.params, id: b.id })) });
    presence.sendState(conn, channel);
    if (channel.bindings.length > 0) systemMessage(conn, channel, "postgres_changes", outcome.status, outcome.message);
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
    if (channel.private) {
      // New claims, new permissions: a token that may no longer read the topic closes the channel.
      const read = await policies.readPermissions(authorizationContext(conn, channel)).catch(() => ({ broadcastRead: false, presenceRead: false }));
      if (conn.channels.get(channel.topic) !== channel) return;
      channel.permissions = read;
      if (!read.broadcastRead && !read.presenceRead) {
        systemMessage(conn, channel, "system", "error", `You do not have permissions to read from this Channel topic: ${subtopic(channel.topic)}`);
        closeChannel(conn, channel);
        return;
      }
    }
    if (roleChanged) {
      const outcome = await resolveChannel(channel);
      if (outcome.status === "error" && conn.channels.get(channel.topic) === channel) {
        systemMessage(conn, channel, "postgres_changes", "error", outcome.message);
      }
    }
  }

  /** Private channels check write permission once per extension, on the first write. */
  async function mayWrite(conn: Connection, channel: Channel, extension: "broadcast" | "presence"): Promise<boolean> {
    if (!channel.private || !channel.permissions) return true;
    const field = extension === "broadcast" ? "broadcastWrite" : "presenceWrite";
    channel.permissions[field] ??= await policies.mayWrite(authorizationContext(conn, channel), extension);
    return channel.permissions[field] === true;
  }

  async function handleBroadcast(conn: Connection, channel: Channel, msg: PhoenixMessage, message: UserBroadcast): Promise<void> {
    const allowed = await mayWrite(conn, channel, "broadcast");
    if (allowed && conn.channels.get(channel.topic) === channel) broadcasts.fanOut(message, channel.private, { conn, channel });
    if (channel.broadcastAck && msg.ref !== null) {
      if (allowed) reply(conn, msg, "ok", {});
      else reply(conn, msg, "error", { reason: `You do not have permissions to write to this Channel topic: ${subtopic(channel.topic)}` });
    }
  }

  /** A JSON broadcast push: {type: "broadcast", event, payload}. */
  function jsonBroadcast(channel: Channel, msg: PhoenixMessage): UserBroadcast | undefined {
    const event = msg.payload.event;
    if (typeof event !== "string" || event === "") return undefined;
    return { topic: channel.topic, event, payload: { json: JSON.stringify(msg.payload.payload ?? {}) } };
  }

  async function handlePresence(conn: Connection, channel: Channel, msg: PhoenixMessage): Promise<void> {
    const event = msg.payload.event;
    if (event === "track") {
      if (!(await mayWrite(conn, channel, "presence"))) {
        if (msg.ref !== null) reply(conn, msg, "error", { reason: `You do not have permissions to track presence on this Channel topic: ${subtopic(channel.topic)}` });
        return;
      }
      if (conn.channels.get(channel.topic) !== channel) return;
      presence.track(conn, channel, isObject(msg.payload.payload) ? msg.payload.payload : {});
    } else if (event === "untrack") {
      presence.untrack(channel);
    } else {
      if (msg.ref !== null) reply(conn, msg, "error", { reason: `unknown presence event: ${String(event)}` });
      return;
    }
    if (msg.ref !== null) reply(conn, msg, "ok", {});
  }

  async function handleMessage(conn: Connection, msg: PhoenixMessage, binary?: UserBroadcast): Promise<void> {
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
      case "broadcast": {
        const message = binary ?? jsonBroadcast(channel, msg);
        if (message) await handleBroadcast(conn, channel, msg, message);
        else if (msg.ref !== null) reply(conn, msg, "error", { reason: "a broadcast needs a string event" });
        return;
      }
      case "presence":
        await handlePresence(conn, channel, msg);
        return;
      default:
        if (msg.ref !== null) reply(conn, msg, "ok", {});
    }
  }

  function decode(data: RawData, isBinary: boolean, vsn: Vsn): { msg: PhoenixMessage; binary?: UserBroadcast } {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) {
      if (vsn !== "2.0.0") throw new FrameError("binary frames need vsn 2.0.0");
      const push = decodeBinaryFrame(bytes);
      if (DEBUG) console.log("[realtime] < binary broadcast", push.broadcast.topic, push.broadcast.event);
      const msg: PhoenixMessage = { joinRef: push.joinRef, ref: push.ref, topic: push.broadcast.topic, event: "broadcast", payload: {} };
      return { msg, binary: push.broadcast };
    }
    const text = bytes.toString("utf8");
    if (DEBUG) console.log("[realtime] <", text.slice(0, 500));
    return { msg: decodeFrame(text, vsn) };
  }

  let connectionIds = 0;
  function onConnection(ws: WebSocket, vsn: Vsn, claims: Claims, headers: Record<string, string>): void {
    const conn: Connection = { id: ++connectionIds, alive: true, ws, vsn, claims, channels: new Map(), overflowed: false, headers };
    ws.on("pong", () => {
      conn.alive = true;
    });
    connections.add(conn);
    // Frames of one socket are handled strictly in order (a join must finish before the next message).
    let queue: Promise<void> = Promise.resolve();
    ws.on("message", (data: RawData, isBinary: boolean) => {
      let decoded: { msg: PhoenixMessage; binary?: UserBroadcast };
      try {
        decoded = decode(data, isBinary, vsn);
      } catch (error) {
        if (!(error instanceof FrameError)) console.error("[realtime] frame error:", (error as Error).message);
        else if (DEBUG) console.log("[realtime] dropped a frame:", error.message);
        return;
      }
      const { msg, binary } = decoded;
      queue = queue
        .then(() => handleMessage(conn, msg, binary))
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
