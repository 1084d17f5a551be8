// Phoenix channel frames in the two serializers Realtime accepts (docs/supabase-standin-spec.md §3.2): vsn 2.0.0 is a JSON array
// [join_ref, ref, topic, event, payload]; vsn 1.0.0 is a JSON object and the server never sends join_ref.

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
