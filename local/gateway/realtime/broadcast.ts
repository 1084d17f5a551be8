// Broadcast (docs/supabase-standin-spec.md §3.7): messages from a socket (a JSON push, or a binary kind 3 frame on vsn
// 2.0.0) and from Realtime's REST API reach every channel of the topic with the same privacy (private
// messages only private channels that may read broadcast, public only public ones), as binary kind 4
// frames on vsn 2.0.0 and JSON on vsn 1.0.0.
//
// REST, as Realtime serves it behind `channel.send()` without a socket and `channel.httpSend()`:
//   POST /realtime/v1/api/broadcast                         {"messages":[{topic, event, payload, private?}]}
//   POST /realtime/v1/api/broadcast/<topic>/events/<event>  the payload itself (JSON, or octet-stream bytes); ?private=true
// Both answer 202. Private messages go out only when the caller's claims may write broadcast on the
// topic (service_role always may); the others are dropped, as Realtime does.
import type { IncomingMessage, ServerResponse } from "node:http";
import { BodyTooLargeError, readBody, RequestAbortedError, send as sendHttp } from "../http.ts";
import { sendFrame, type Channel, type Connection } from "./connection.ts";
import type { Policies } from "./policies.ts";
import { encodeUserBroadcast, type UserBroadcast, type Vsn } from "./protocol.ts";
import { TokenError, verifyRealtimeToken, type Claims } from "./tokens.ts";

export const BROADCAST_API_PATH = "/api/broadcast";
/** The largest broadcast body the API takes, like the socket's frame limit. */
export const BROADCAST_BODY_LIMIT = 1024 * 1024;
const MAX_MESSAGES_PER_REQUEST = 1000;

export interface BroadcastSender {
  conn: Connection;
  channel: Channel;
}

export function createBroadcasts({ connections, policies, jwtSecret }: { connections: Set<Connection>; policies: Policies; jwtSecret: string }) {
  /** Sends a broadcast to every channel of its topic that may receive it; `sender` is skipped unless it asked for self. */
  function fanOut(message: UserBroadcast, isPrivate: boolean, sender?: BroadcastSender): void {
    const encoded = new Map<Vsn, string | Buffer | undefined>();
    for (const conn of connections) {
      const channel = conn.channels.get(message.topic);
      if (!channel || channel.private !== isPrivate) continue;
      if (sender && channel === sender.channel && !channel.broadcastSelf) continue;
      if (channel.private && channel.permissions?.broadcastRead !== true) continue;
      if (!encoded.has(conn.vsn)) encoded.set(conn.vsn, encodeUserBroadcast(message, conn.vsn));
      const frame = encoded.get(conn.vsn);
      if (frame !== undefined) sendFrame(conn, frame);
    }
  }

  function reply(res: ServerResponse, status: number, body?: unknown): void {
    if (body === undefined) {
      sendHttp(res, status, { "Content-Length": "0" });
      return;
    }
    sendHttp(res, status, { "Content-Type": "application/json; charset=utf-8" }, JSON.stringify(body));
  }

  function callerClaims(req: IncomingMessage): Claims {
    const header = req.headers.authorization;
    const token = typeof header === "string" ? header.replace(/^bearer\s+/i, "") : undefined;
    return verifyRealtimeToken(token, jwtSecret);
  }

  interface ApiMessage {
    topic: string;
    event: string;
    payload: UserBroadcast["payload"];
    private: boolean;
    id?: string;
  }

  function parseBatch(body: Buffer): ApiMessage[] | string {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      return "The body must be JSON";
    }
    const messages = (parsed as { messages?: unknown } | null)?.messages;
    if (!Array.isArray(messages) || messages.length === 0) return "messages: can't be blank";
    if (messages.length > MAX_MESSAGES_PER_REQUEST) return `messages: at most ${MAX_MESSAGES_PER_REQUEST} per request`;
    const out: ApiMessage[] = [];
    for (const [i, m] of messages.entries()) {
      const message = m as Record<string, unknown> | null;
      if (typeof message?.topic !== "string" || message.topic === "") return `messages[${i}].topic: can't be blank`;
      if (typeof message.event !== "string" || message.event === "") return `messages[${i}].event: can't be blank`;
      if (typeof message.payload !== "object" || message.payload === null || Array.isArray(message.payload)) return `messages[${i}].payload: is invalid`;
      if (message.private !== undefined && typeof message.private !== "boolean") return `messages[${i}].private: is invalid`;
      if (message.id !== undefined && typeof message.id !== "string") return `messages[${i}].id: is invalid`;
      out.push({ topic: message.topic, event: message.event, payload: { json: JSON.stringify(message.payload) }, private: message.private === true, ...(typeof message.id === "string" ? { id: message.id } : {}) });
    }
    return out;
  }

  function parseSingle(req: IncomingMessage, path: string, body: Buffer): ApiMessage[] | string {
    const m = /^\/([^/]+)\/events\/([^/]+)$/.exec(path);
    if (!m) return "not found";
    let topic: string;
    let event: string;
    try {
      topic = decodeURIComponent(m[1]);
      event = decodeURIComponent(m[2]);
    } catch {
      return "The topic and event must be URL-encoded";
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const isPrivate = url.searchParams.get("private") === "true";
    const type = String(req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (type === "application/octet-stream") return [{ topic, event, payload: { binary: body }, private: isPrivate }];
    const json = body.toString("utf8");
    try {
      JSON.parse(json);
    } catch {
      return "The body must be JSON or application/octet-stream";
    }
    return [{ topic, event, payload: { json }, private: isPrivate }];
  }

  /** POST /realtime/v1/api/broadcast[...]: `path` is what follows /realtime/v1. */
  async function handleHttp(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const route = path.split("?")[0];
    if (route !== BROADCAST_API_PATH && !route.startsWith(`${BROADCAST_API_PATH}/`)) {
      req.resume();
      reply(res, 404, { message: "Not found" });
      return;
    }
    if ((req.method ?? "GET").toUpperCase() !== "POST") {
      req.resume();
      reply(res, 405, { message: "Method not allowed" });
      return;
    }
    let claims: Claims;
    try {
      claims = callerClaims(req);
    } catch (error) {
      req.resume();
      reply(res, 401, { message: error instanceof TokenError ? error.message : "Unauthorized" });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, BROADCAST_BODY_LIMIT);
    } catch (error) {
      if (error instanceof BodyTooLargeError) reply(res, 413, { message: `Payload too large: at most ${BROADCAST_BODY_LIMIT} bytes` });
      else if (!(error instanceof RequestAbortedError)) reply(res, 400, { message: "Could not read the request body" });
      return;
    }
    const messages = route === BROADCAST_API_PATH ? parseBatch(body) : parseSingle(req, route.slice(BROADCAST_API_PATH.length), body);
    if (typeof messages === "string") {
      reply(res, messages === "not found" ? 404 : 422, { message: messages });
      return;
    }
    // Private topics: one write check per topic for the caller's claims; service_role bypasses RLS anyway.
    const writable = new Map<string, boolean>();
    const claimsJson = JSON.stringify(claims);
    const headersJson = JSON.stringify(Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "authorization" && k !== "apikey")));
    for (const message of messages) {
      if (!message.private || writable.has(message.topic)) continue;
      writable.set(message.topic, await policies.mayWrite({ topic: message.topic, role: claims.role, claimsJson, headersJson }, "broadcast"));
    }
    for (const message of messages) {
      if (message.private && !writable.get(message.topic)) continue;
      fanOut(
        { topic: `realtime:${message.topic}`, event: message.event, payload: message.payload, ...(message.id ? { meta: JSON.stringify({ id: message.id }) } : {}) },
        message.private,
      );
    }
    reply(res, 202);
  }

  return { fanOut, handleHttp };
}

export type Broadcasts = ReturnType<typeof createBroadcasts>;
