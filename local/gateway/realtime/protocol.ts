// Phoenix channel frames in the two serializers Realtime accepts (docs/supabase-standin-spec.md §3.2): vsn 2.0.0 is a JSON array
// [join_ref, ref, topic, event, payload]; vsn 1.0.0 is a JSON object and the server never sends join_ref.
// vsn 2.0.0 also carries user broadcasts as binary frames, both ways (kind 3 in, kind 4 out): a kind
// byte, one length byte per field, the ASCII fields, then the user payload as JSON (encoding 1) or as
// raw bytes (encoding 0).

export type Vsn = "1.0.0" | "2.0.0";

export interface PhoenixMessage {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Record<string, unknown>;
}

export class FrameError extends Error {}

function refValue(value: unknown, what: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new FrameError(`${what} must be a string or null`);
}

function payloadValue(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new FrameError("payload must be an object");
  return value as Record<string, unknown>;
}

/** Parses one inbound text frame; throws FrameError for anything that is not a Phoenix message. */
export function decodeFrame(text: string, vsn: Vsn): PhoenixMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new FrameError("frame is not JSON");
  }
  if (vsn === "2.0.0") {
    if (!Array.isArray(raw) || raw.length !== 5) throw new FrameError("frame must be [join_ref, ref, topic, event, payload]");
    const [joinRef, ref, topic, event, payload] = raw;
    if (typeof topic !== "string" || typeof event !== "string") throw new FrameError("topic and event must be strings");
    return { joinRef: refValue(joinRef, "join_ref"), ref: refValue(ref, "ref"), topic, event, payload: payloadValue(payload) };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new FrameError("frame must be a JSON object");
  const o = raw as Record<string, unknown>;
  if (typeof o.topic !== "string" || typeof o.event !== "string") throw new FrameError("topic and event must be strings");
  return {
    joinRef: refValue(o.join_ref, "join_ref"),
    ref: refValue(o.ref, "ref"),
    topic: o.topic,
    event: o.event,
    payload: payloadValue(o.payload),
  };
}

export function encodeFrame(message: PhoenixMessage, vsn: Vsn): string {
  if (vsn === "2.0.0") {
    return JSON.stringify([message.joinRef, message.ref, message.topic, message.event, message.payload]);
  }
  return JSON.stringify({ topic: message.topic, event: message.event, payload: message.payload, ref: message.ref });
}

export function parseVsn(value: string | null): Vsn | undefined {
  if (value === null || value === "" || value === "1.0.0") return "1.0.0";
  if (value === "2.0.0") return "2.0.0";
  return undefined;
}

const KIND_USER_BROADCAST_PUSH = 3;
const KIND_USER_BROADCAST = 4;
const ENCODING_BINARY = 0;
const ENCODING_JSON = 1;

/** A user broadcast: its user payload is JSON (the raw text kept, so relaying never re-encodes it) or bytes. */
export interface UserBroadcast {
  topic: string;
  event: string;
  payload: { json: string } | { binary: Buffer };
  /** Optional metadata object, JSON-encoded. */
  meta?: string;
}

/** A client's binary push (kind 3): the Phoenix message it stands for and the broadcast it carries. */
export interface BinaryPush {
  joinRef: string | null;
  ref: string | null;
  broadcast: UserBroadcast;
}

/** Parses one inbound binary frame (vsn 2.0.0); throws FrameError for anything but a well-formed kind 3. */
export function decodeBinaryFrame(frame: Buffer): BinaryPush {
  if (frame.length < 7 || frame[0] !== KIND_USER_BROADCAST_PUSH) throw new FrameError("binary frame is not a user broadcast push");
  const lengths = [frame[1], frame[2], frame[3], frame[4], frame[5]];
  const encoding = frame[6];
  if (encoding !== ENCODING_BINARY && encoding !== ENCODING_JSON) throw new FrameError("unknown payload encoding");
  let offset = 7;
  const fields = lengths.map((length) => {
    if (offset + length > frame.length) throw new FrameError("binary frame is shorter than its header says");
    const text = frame.subarray(offset, offset + length).toString("utf8");
    offset += length;
    return text;
  });
  const [joinRef, ref, topic, event, meta] = fields;
  if (topic === "" || event === "") throw new FrameError("topic and event must not be empty");
  const body = frame.subarray(offset);
  let payload: UserBroadcast["payload"];
  if (encoding === ENCODING_JSON) {
    const json = body.toString("utf8");
    try {
      JSON.parse(json);
    } catch {
      throw new FrameError("broadcast payload is not JSON");
    }
    payload = { json };
  } else {
    payload = { binary: Buffer.from(body) };
  }
  if (meta !== "") {
    try {
      const parsed = JSON.parse(meta);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    } catch {
      throw new FrameError("broadcast metadata is not a JSON object");
    }
  }
  return {
    joinRef: joinRef === "" ? null : joinRef,
    ref: ref === "" ? null : ref,
    broadcast: { topic, event, payload, ...(meta !== "" ? { meta } : {}) },
  };
}

/** Byte lengths of the header fields must fit one byte each (the client refuses longer ones too). */
function fieldBytes(value: string, what: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > 255) throw new FrameError(`${what} is longer than 255 bytes`);
  return bytes;
}

/**
 * The frame a subscriber gets for a user broadcast: binary kind 4 on vsn 2.0.0; on vsn 1.0.0 the JSON
 * `broadcast` message (undefined when the payload is bytes, which that serializer cannot carry).
 */
export function encodeUserBroadcast(message: UserBroadcast, vsn: Vsn): string | Buffer | undefined {
  if (vsn === "1.0.0") {
    if (!("json" in message.payload)) return undefined;
    const meta = message.meta ? `,"meta":${message.meta}` : "";
    return `{"topic":${JSON.stringify(message.topic)},"event":"broadcast","payload":{"type":"broadcast","event":${JSON.stringify(message.event)},"payload":${message.payload.json}${meta}},"ref":null}`;
  }
  const topic = fieldBytes(message.topic, "topic");
  const event = fieldBytes(message.event, "event");
  const meta = fieldBytes(message.meta ?? "", "metadata");
  const body = "json" in message.payload ? Buffer.from(message.payload.json, "utf8") : message.payload.binary;
  const header = Buffer.from([KIND_USER_BROADCAST, topic.length, event.length, meta.length, "json" in message.payload ? ENCODING_JSON : ENCODING_BINARY]);
  return Buffer.concat([header, topic, event, meta, body]);
}
