// Twilio emulator: the Messages API as the official client sees it, signed webhooks as a Twilio
// number's owner sees them, and a JSON control API plus the phone page for people and tests.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import parsePhoneNumber from "libphonenumber-js";
import { errorMessage, failedBeforeCarrier, httpStatusForCode, twilioError } from "./errors.ts";
import { countSegments } from "./segments.ts";
import { twilioSignature } from "./signature.ts";
import { parseMessagingTwiml } from "./twiml.ts";

export interface TwilioEmulatorOptions {
  port: number;
  host?: string;
  accountSid: string;
  authToken: string;
  /** URL people and other processes use to reach the emulator (defaults to http://host:port). */
  publicUrl?: string;
  /** Pause between each delivery step (queued -> sent -> delivered). */
  deliveryDelayMs?: number;
  /** How long a webhook may take before it counts as failed (Twilio: 15 s). */
  webhookTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface TwilioEmulator {
  url: string;
  close(): Promise<void>;
}

type Direction = "inbound" | "outbound-api" | "outbound-reply";
type MessageStatus = "accepted" | "queued" | "sending" | "sent" | "delivered" | "undelivered" | "failed" | "received";
type LineType = "mobile" | "landline" | "unreachable";

interface WebhookOutcome {
  url: string | null;
  state: "pending" | "delivered" | "failed";
  httpStatus?: number;
  errorCode?: number;
  error?: string;
  durationMs?: number;
}

interface StoredMessage {
  sid: string;
  from: string;
  to: string;
  body: string;
  status: MessageStatus;
  direction: Direction;
  messagingServiceSid: string | null;
  statusCallback: string | null;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
  errorCode: number | null;
  errorMessage: string | null;
  numSegments: number;
  encoding: string;
  optOutType?: "STOP" | "START" | "HELP";
  /** Inbound messages only: what happened when the number's webhook was called. */
  webhook?: WebhookOutcome;
}

interface TwilioNumber {
  sid: string;
  phoneNumber: string;
  smsUrl: string | null;
  advancedOptOut: boolean;
  messagingServiceSid: string | null;
  friendlyName: string;
}

interface PhoneSetting {
  phone: string;
  lineType: LineType;
  label?: string;
}

type FaultMode = "http500" | "http429" | "timeout" | "error";

interface FaultRule {
  id: number;
  mode: FaultMode;
  code: number | null;
  /** Faults left before the rule retires; null = no limit. */
  remaining: number | null;
  rate: number;
  hangMs: number;
  /** What a held request finally gets: a 504 answer, or its connection closed with no answer. */
  afterHang: "504" | "close";
  triggered: number;
  random: () => number;
}

interface WebhookLogEntry {
  id: number;
  kind: "inbound" | "status-callback";
  messageSid: string;
  url: string | null;
  params: Record<string, string>;
  ok: boolean;
  httpStatus?: number;
  errorCode?: number;
  error?: string;
  durationMs: number;
  at: string;
}

interface EmulatorEvent {
  seq: number;
  type: string;
  [key: string]: unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const API_VERSION = "2010-04-01";
const e164 = /^\+[1-9]\d{1,14}$/;
const alphanumericSender = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
const messagingServiceSidPattern = /^MG[0-9a-f]{32}$/;
const maxEventsKept = 20000;

/** Twilio's magic test numbers (docs/sms-compliance.md): From/To values that always fail the same way. */
const magicFrom: Record<string, number> = { "+15005550001": 21212, "+15005550007": 21606, "+15005550008": 21611 };
const magicTo: Record<string, number> = {
  "+15005550001": 21211,
  "+15005550002": 21612,
  "+15005550003": 21408,
  "+15005550004": 21610,
  "+15005550009": 21614,
};
const MAGIC_PASSING_FROM = "+15005550006";

const optOutKeywords: Record<string, "STOP" | "START" | "HELP"> = {
  STOP: "STOP", STOPALL: "STOP", UNSUBSCRIBE: "STOP", CANCEL: "STOP", END: "STOP", QUIT: "STOP",
  REVOKE: "STOP", OPTOUT: "STOP", START: "START", YES: "START", UNSTOP: "START", HELP: "HELP", INFO: "HELP",
};
// What Twilio's Advanced Opt-Out answers by default.
const optOutReplies = {
  STOP: "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.",
  START: "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
  HELP: "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
};

const phonePageDir = join(dirname(fileURLToPath(import.meta.url)), "phone");
const staticFiles: Record<string, { file: string; type: string }> = {
  "/phone": { file: "index.html", type: "text/html; charset=utf-8" },
  "/phone/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/phone/phone.js": { file: "phone.js", type: "text/javascript; charset=utf-8" },
  "/phone/phone.css": { file: "phone.css", type: "text/css; charset=utf-8" },
};

export function optOutKeyword(body: string): "STOP" | "START" | "HELP" | undefined {
  const word = body.trim().replace(/[.!?,;:]+$/, "").trim().toUpperCase();
  return optOutKeywords[word];
}

function sid(prefix: string): string {
  return prefix + randomBytes(16).toString("hex");
}

/** Twilio's date format: RFC 2822 with a numeric zone, e.g. "Thu, 24 Aug 2023 05:01:45 +0000". */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace("GMT", "+0000");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Small seeded generator so a rate fault can be replayed exactly when a test passes `seed`. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}

function countryOf(phone: string): string {
  try {
    const parsed = parsePhoneNumber(phone);
    if (parsed?.country) return parsed.country;
    if (parsed?.countryCallingCode === "1") return "US";
  } catch {
    // An unparsable number simply has no known country, like Twilio's empty FromCountry.
  }
  return "";
}

async function readBody(req: IncomingMessage, limit = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, "request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function startTwilioEmulator(options: TwilioEmulatorOptions): Promise<TwilioEmulator> {
  const accountSid = options.accountSid;
  const authToken = options.authToken;
  if (!/^AC[0-9a-f]{32}$/.test(accountSid)) throw new Error(`accountSid must look like AC + 32 hex digits, got "${accountSid}"`);
  if (!authToken) throw new Error("authToken is required");
  const log = options.log ?? (() => {});
  const settings = {
    deliveryDelayMs: options.deliveryDelayMs ?? 300,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 15_000,
  };

  const messages = new Map<string, StoredMessage>();
  const numbers = new Map<string, TwilioNumber>();
  const phones = new Map<string, PhoneSetting>();
  const optedOut = new Set<string>(); // `${twilioNumber}|${phone}`
  let faults: FaultRule[] = [];
  let faultIds = 0;
  const webhookLog: WebhookLogEntry[] = [];
  let webhookIds = 0;
  const events: EmulatorEvent[] = [];
  let seq = 0;
  const subscribers = new Set<{ res: ServerResponse; phone?: string }>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let closed = false;
  // Incremented on reset so deliveries scheduled before it stop touching the new state.
  let generation = 0;

  function later(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  // ---------------------------------------------------------------- events

  function publish(type: string, payload: Record<string, unknown>, phonesInvolved: string[] = []): void {
    const event: EmulatorEvent = { seq: ++seq, type, ...payload };
    events.push(event);
    if (events.length > maxEventsKept) events.splice(0, events.length - maxEventsKept);
    const frame = `id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const sub of subscribers) {
      if (sub.phone && phonesInvolved.length > 0 && !phonesInvolved.includes(sub.phone)) continue;
      sub.res.write(frame);
    }
  }

  function messageView(m: StoredMessage) {
    return {
      sid: m.sid,
      from: m.from,
      to: m.to,
      body: m.body,
      status: m.status,
      direction: m.direction,
      dateCreated: m.dateCreated.toISOString(),
      dateUpdated: m.dateUpdated.toISOString(),
      dateSent: m.dateSent ? m.dateSent.toISOString() : null,
      ...(m.errorCode !== null ? { errorCode: m.errorCode, errorMessage: m.errorMessage } : {}),
      numSegments: m.numSegments,
      encoding: m.encoding,
      messagingServiceSid: m.messagingServiceSid,
      statusCallback: m.statusCallback,
      ...(m.optOutType ? { optOutType: m.optOutType } : {}),
      ...(m.webhook ? { webhook: m.webhook } : {}),
    };
  }

  function messageCreated(m: StoredMessage): void {
    messages.set(m.sid, m);
    for (const phone of [m.from, m.to]) if (!numbers.has(phone) && !phones.has(phone)) rememberPhone(phone);
    publish("message.created", { message: messageView(m) }, [m.from, m.to]);
  }

  function setStatus(m: StoredMessage, status: MessageStatus, errorCode: number | null = null): void {
    m.status = status;
    m.dateUpdated = new Date();
    if (status === "sent" && !m.dateSent) m.dateSent = m.dateUpdated;
    if (errorCode !== null) {
      m.errorCode = errorCode;
      m.errorMessage = errorMessage(errorCode);
    }
    publish("message.status", { message: messageView(m) }, [m.from, m.to]);
  }

  function rememberPhone(phone: string): PhoneSetting {
    let setting = phones.get(phone);
    if (!setting) {
      setting = { phone, lineType: "mobile" };
      phones.set(phone, setting);
    }
    return setting;
  }

  // ---------------------------------------------------------------- webhooks

  async function postWebhook(
    kind: WebhookLogEntry["kind"],
    url: string,
    params: Record<string, string>,
    messageSid: string,
  ): Promise<{ entry: WebhookLogEntry; responseText: string }> {
    const started = Date.now();
    const entry: WebhookLogEntry = {
      id: ++webhookIds, kind, messageSid, url, params, ok: false, durationMs: 0, at: new Date(started).toISOString(),
    };
    let responseText = "";
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded; charset=utf-8",
          accept: "*/*",
          "user-agent": "TwilioProxy/1.1",
          "x-twilio-signature": twilioSignature(authToken, url, params),
          "i-twilio-idempotency-token": randomBytes(16).toString("hex"),
        },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(settings.webhookTimeoutMs),
      });
      responseText = await response.text();
      entry.httpStatus = response.status;
      entry.ok = response.ok;
      if (!response.ok) {
        entry.errorCode = 11200;
        entry.error = `HTTP retrieval failure: ${url} answered ${response.status}`;
      }
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      entry.errorCode = 11205;
      entry.error = timedOut
        ? `HTTP connection failure: ${url} did not answer within ${settings.webhookTimeoutMs} ms`
        : `HTTP connection failure: ${url}: ${(error as Error).cause ?? (error as Error).message}`;
    }
    entry.durationMs = Date.now() - started;
    webhookLog.push(entry);
    if (webhookLog.length > maxEventsKept) webhookLog.splice(0, webhookLog.length - maxEventsKept);
    if (!entry.ok) log(`[twilio] ${kind} webhook for ${messageSid} failed: ${entry.error}`);
    publish("webhook", { webhook: entry });
    return { entry, responseText };
  }

  function statusCallbackParams(m: StoredMessage): Record<string, string> {
    const params: Record<string, string> = {
      SmsSid: m.sid,
      SmsStatus: m.status,
      MessageStatus: m.status,
      To: m.to,
      MessageSid: m.sid,
      AccountSid: accountSid,
      From: m.from,
      ApiVersion: API_VERSION,
    };
    if (m.messagingServiceSid) params.MessagingServiceSid = m.messagingServiceSid;
    if (m.errorCode !== null && (m.status === "failed" || m.status === "undelivered")) params.ErrorCode = String(m.errorCode);
    if (m.status === "delivered" || m.status === "undelivered") {
      const d = m.dateUpdated;
      const two = (n: number) => String(n).padStart(2, "0");
      params.RawDlrDoneDate =
        two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate()) + two(d.getUTCHours()) + two(d.getUTCMinutes());
    }
    return params;
  }

  // ---------------------------------------------------------------- outbound delivery

  /** Drives one outbound message through Twilio's states, posting a signed callback after each change. */
  async function deliver(m: StoredMessage, deliveryError: number | null): Promise<void> {
    const myGeneration = generation;
    const step = async (status: MessageStatus, errorCode: number | null = null) => {
      if (closed || myGeneration !== generation) return false;
      setStatus(m, status, errorCode);
      if (m.statusCallback) await postWebhook("status-callback", m.statusCallback, statusCallbackParams(m), m.sid);
      return !closed && myGeneration === generation;
    };
    if (m.status === "accepted") {
      await later(Math.min(settings.deliveryDelayMs, 20));
      if (!(await step("queued"))) return;
    } else if (m.statusCallback) {
      await postWebhook("status-callback", m.statusCallback, statusCallbackParams(m), m.sid);
    }
    await later(settings.deliveryDelayMs);
    if (deliveryError !== null && failedBeforeCarrier.has(deliveryError)) {
      await step("failed", deliveryError);
      return;
    }
    if (!(await step("sent"))) return;
    await later(settings.deliveryDelayMs);
    const lineType = phones.get(m.to)?.lineType ?? "mobile";
    const carrierError = deliveryError ?? (lineType === "landline" ? 30006 : lineType === "unreachable" ? 30003 : null);
    if (carrierError !== null) await step("undelivered", carrierError);
    else await step("delivered");
  }

  function startDelivery(m: StoredMessage, deliveryError: number | null): void {
    deliver(m, deliveryError).catch((error) => log(`[twilio] delivery of ${m.sid} crashed: ${(error as Error).stack}`));
  }

  // ---------------------------------------------------------------- Messages API

  class ApiError extends Error {
    constructor(readonly code: number, message = errorMessage(code), readonly status = httpStatusForCode(code)) {
      super(message);
    }
  }

  interface SendRequest {
    to?: string;
    from?: string;
    messagingServiceSid?: string;
    body?: string;
    statusCallback?: string;
    direction: Direction;
    /** Twilio's own opt-out confirmations reach a phone that just opted out. */
    bypassOptOut?: boolean;
  }

  /** Validates like Twilio does and returns the stored message, or throws the ApiError Twilio answers with. */
  function createOutbound(request: SendRequest, deliveryError: number | null): StoredMessage {
    const to = request.to?.trim();
    const body = request.body ?? "";
    if (!to) throw new ApiError(21604);
    if (body === "") throw new ApiError(21602);
    if (body.length > 1600) throw new ApiError(21617);
    let from = request.from?.trim() || "";
    let messagingServiceSid: string | null = null;
    if (request.messagingServiceSid) {
      if (!messagingServiceSidPattern.test(request.messagingServiceSid)) throw new ApiError(21701);
      messagingServiceSid = request.messagingServiceSid;
      if (!from) {
        const pooled = [...numbers.values()].find((n) => n.messagingServiceSid === messagingServiceSid);
        if (!pooled) throw new ApiError(21704);
        from = pooled.phoneNumber;
      }
    }
    if (!from) throw new ApiError(21603);
    if (magicFrom[from]) throw new ApiError(magicFrom[from]);
    if (!e164.test(from) && !alphanumericSender.test(from)) {
      throw new ApiError(21212, `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`);
    }
    if (from !== MAGIC_PASSING_FROM && !numbers.has(from)) {
      throw new ApiError(21606, `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination/account. Configure it first: POST /emulator/numbers.`);
    }
    if (magicTo[to]) {
      const code = magicTo[to];
      throw new ApiError(code, code === 21211 ? `The 'To' number ${to} is not a valid phone number.` : errorMessage(code));
    }
    if (!e164.test(to)) throw new ApiError(21211, `The 'To' number ${to} is not a valid phone number.`);
    if (to === from) throw new ApiError(21266);
    if (!request.bypassOptOut && optedOut.has(`${from}|${to}`)) throw new ApiError(21610);
    if (request.statusCallback !== undefined && request.statusCallback !== "" && !/^https?:\/\//i.test(request.statusCallback)) {
      throw new ApiError(21609, "Invalid StatusCallback: the URL must be an absolute http or https URL.");
    }
    const now = new Date();
    const segments = countSegments(body);
    const m: StoredMessage = {
      sid: sid("SM"),
      from,
      to,
      body,
      status: messagingServiceSid && !request.from ? "accepted" : "queued",
      direction: request.direction,
      messagingServiceSid,
      statusCallback: request.statusCallback || null,
      dateCreated: now,
      dateUpdated: now,
      dateSent: null,
      errorCode: null,
      errorMessage: null,
      numSegments: segments.segments,
      encoding: segments.encoding,
    };
    messageCreated(m);
    startDelivery(m, deliveryError);
    return m;
  }

  function messageUri(messageSid: string): string {
    return `/${API_VERSION}/Accounts/${accountSid}/Messages/${messageSid}.json`;
  }

  function messageResource(m: StoredMessage) {
    const uri = messageUri(m.sid);
    return {
      account_sid: accountSid,
      api_version: API_VERSION,
      body: m.body,
      date_created: rfc2822(m.dateCreated),
      date_sent: m.dateSent ? rfc2822(m.dateSent) : null,
      date_updated: rfc2822(m.dateUpdated),
      direction: m.direction,
      error_code: m.errorCode,
      error_message: m.errorMessage,
      // Twilio picks the sender from the service's pool only once the message leaves `accepted`.
      from: m.status === "accepted" ? null : m.from,
      messaging_service_sid: m.messagingServiceSid,
      num_media: "0",
      num_segments: String(m.numSegments),
      price: null,
      price_unit: "USD",
      sid: m.sid,
      status: m.status,
      subresource_uris: {
        media: uri.replace(/\.json$/, "/Media.json"),
        feedback: uri.replace(/\.json$/, "/Feedback.json"),
      },
      to: m.to,
      uri,
    };
  }

  function takeFault(): FaultRule | null {
    for (const rule of faults) {
      if (rule.remaining !== null && rule.remaining <= 0) continue;
      if (rule.random() >= rule.rate) continue;
      rule.triggered++;
      if (rule.remaining !== null) rule.remaining--;
      const view = faultView(rule);
      faults = faults.filter((r) => r.remaining === null || r.remaining > 0);
      publish("fault", { fault: view });
      return rule;
    }
    return null;
  }

  function faultView(rule: FaultRule) {
    return { id: rule.id, mode: rule.mode, code: rule.code, remaining: rule.remaining, rate: rule.rate, hangMs: rule.hangMs, afterHang: rule.afterHang, triggered: rule.triggered };
  }

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.writableEnded || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function sendTwilioError(res: ServerResponse, error: ApiError): void {
    const headers: Record<string, string> = error.status === 401 ? { "www-authenticate": 'Basic realm="Twilio API"' } : {};
    if (error.status === 429) headers["retry-after"] = "1";
    sendJson(res, error.status, twilioError(error.code, error.message, error.status), headers);
  }

  function authenticated(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
    if (!match) return false;
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const expected = Buffer.from(`${accountSid}:${authToken}`);
    const given = Buffer.from(decoded);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!authenticated(req)) return sendTwilioError(res, new ApiError(20003));
    const path = url.pathname;
    const account = /^\/2010-04-01\/Accounts\/([^/]+)(\/.*)?$/.exec(path);
    if (!account) return sendTwilioError(res, new ApiError(20404, `The requested resource ${path} was not found`));
    if (account[1] !== accountSid) return sendTwilioError(res, new ApiError(20003));
    const rest = account[2] ?? "";
    if (rest === "/Messages.json" && req.method === "POST") return createMessageRoute(req, res);
    if (rest === "/Messages.json" && req.method === "GET") return listMessagesRoute(res, url);
    const one = /^\/Messages\/(SM[0-9a-f]{32})\.json$/.exec(rest);
    if (one && req.method === "GET") {
      const m = messages.get(one[1]);
      if (!m) return sendTwilioError(res, new ApiError(20404, `The requested resource ${path} was not found`));
      return sendJson(res, 200, messageResource(m));
    }
    if (rest === "/IncomingPhoneNumbers.json" && req.method === "GET") return listIncomingNumbersRoute(res, url);
    const incoming = /^\/IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/.exec(rest);
    if (incoming && (req.method === "POST" || req.method === "GET")) return incomingNumberRoute(req, res, incoming[1], path);
    return sendTwilioError(res, new ApiError(20404, `The requested resource ${path} was not found`));
  }

  async function createMessageRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const fault = takeFault();
    let deliveryError: number | null = null;
    if (fault) {
      log(`[twilio] injecting fault ${fault.mode}${fault.code ? " " + fault.code : ""}`);
      if (fault.mode === "http500") return sendTwilioError(res, new ApiError(fault.code ?? 20500, undefined, 500));
      if (fault.mode === "http429") return sendTwilioError(res, new ApiError(fault.code ?? 20429, undefined, 429));
      if (fault.mode === "timeout") {
        // Hold the request past the client's patience; nothing is created, like a request lost on the way.
        await later(fault.hangMs);
        if (res.destroyed) return;
        if (fault.afterHang === "close") res.socket?.destroy();
        else sendTwilioError(res, new ApiError(20504, "Gateway Timeout", 504));
        return;
      }
      if (fault.code !== null && fault.code >= 30000) deliveryError = fault.code;
      else return sendTwilioError(res, new ApiError(fault.code ?? 20500));
    }
    try {
      const m = createOutbound(
        {
          to: form.get("To") ?? undefined,
          from: form.get("From") ?? undefined,
          messagingServiceSid: form.get("MessagingServiceSid") ?? undefined,
          body: form.get("Body") ?? undefined,
          statusCallback: form.get("StatusCallback") ?? undefined,
          direction: "outbound-api",
        },
        deliveryError,
      );
      sendJson(res, 201, messageResource(m));
    } catch (error) {
      if (error instanceof ApiError) return sendTwilioError(res, error);
      throw error;
    }
  }

  function dateFilter(value: string, kind: "on" | "before" | "after"): (d: Date) => boolean {
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
    const at = new Date(dateOnly ? value + "T00:00:00Z" : value);
    if (Number.isNaN(at.getTime())) throw new ApiError(20001, `Invalid DateSent value: ${value}`);
    const dayStart = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
    const dayEnd = dayStart + 86_400_000;
    if (kind === "on") return (d) => d.getTime() >= dayStart && d.getTime() < dayEnd;
    if (kind === "before") return (d) => d.getTime() < (dateOnly ? dayEnd : at.getTime() + 1000);
    return (d) => d.getTime() >= (dateOnly ? dayStart : at.getTime());
  }

  function listMessagesRoute(res: ServerResponse, url: URL): void {
    const q = url.searchParams;
    try {
      const filters: ((m: StoredMessage) => boolean)[] = [];
      const to = q.get("To");
      const from = q.get("From");
      if (to) filters.push((m) => m.to === to);
      if (from) filters.push((m) => m.from === from);
      for (const [param, kind] of [["DateSent", "on"], ["DateSent<", "before"], ["DateSent>", "after"]] as const) {
        const value = q.get(param);
        if (value) {
          const test = dateFilter(value, kind);
          filters.push((m) => test(m.dateSent ?? m.dateCreated));
        }
      }
      const pageSize = Math.min(1000, Math.max(1, Number(q.get("PageSize") ?? 50) || 50));
      const page = Math.max(0, Number(q.get("Page") ?? 0) || 0);
      const all = [...messages.values()].filter((m) => filters.every((f) => f(m))).reverse(); // newest first, like Twilio
      const slice = all.slice(page * pageSize, (page + 1) * pageSize);
      const base = `/${API_VERSION}/Accounts/${accountSid}/Messages.json`;
      const pageUri = (n: number) => {
        const params = new URLSearchParams();
        for (const key of ["To", "From", "DateSent", "DateSent<", "DateSent>"]) {
          const value = q.get(key);
          if (value) params.set(key, value);
        }
        params.set("PageSize", String(pageSize));
        params.set("Page", String(n));
        if (n > 0) params.set("PageToken", `PA${all[n * pageSize - 1]?.sid ?? ""}`);
        return `${base}?${params.toString()}`;
      };
      const hasNext = (page + 1) * pageSize < all.length;
      sendJson(res, 200, {
        end: page * pageSize + Math.max(0, slice.length - 1),
        first_page_uri: pageUri(0),
        messages: slice.map(messageResource),
        next_page_uri: hasNext ? pageUri(page + 1) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 ? pageUri(page - 1) : null,
        start: page * pageSize,
        uri: pageUri(page),
      });
    } catch (error) {
      if (error instanceof ApiError) return sendTwilioError(res, error);
      throw error;
    }
  }

  function incomingNumberResource(n: TwilioNumber) {
    const now = rfc2822(new Date());
    return {
      account_sid: accountSid,
      api_version: API_VERSION,
      capabilities: { fax: false, mms: false, sms: true, voice: true },
      date_created: now,
      date_updated: now,
      friendly_name: n.friendlyName,
      phone_number: n.phoneNumber,
      sid: n.sid,
      sms_application_sid: "",
      sms_fallback_method: "POST",
      sms_fallback_url: "",
      sms_method: "POST",
      sms_url: n.smsUrl ?? "",
      status: "in-use",
      uri: `/${API_VERSION}/Accounts/${accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
    };
  }

  function listIncomingNumbersRoute(res: ServerResponse, url: URL): void {
    const wanted = url.searchParams.get("PhoneNumber");
    const list = [...numbers.values()].filter((n) => !wanted || n.phoneNumber === wanted);
    const base = `/${API_VERSION}/Accounts/${accountSid}/IncomingPhoneNumbers.json`;
    sendJson(res, 200, {
      end: Math.max(0, list.length - 1),
      first_page_uri: `${base}?PageSize=50&Page=0`,
      incoming_phone_numbers: list.map(incomingNumberResource),
      next_page_uri: null,
      page: 0,
      page_size: 50,
      previous_page_uri: null,
      start: 0,
      uri: `${base}?PageSize=50&Page=0`,
    });
  }

  async function incomingNumberRoute(req: IncomingMessage, res: ServerResponse, numberSid: string, path: string): Promise<void> {
    const n = [...numbers.values()].find((x) => x.sid === numberSid);
    if (!n) return sendTwilioError(res, new ApiError(20404, `The requested resource ${path} was not found`));
    if (req.method === "POST") {
      const form = new URLSearchParams(await readBody(req));
      const smsUrl = form.get("SmsUrl");
      if (smsUrl !== null) {
        if (smsUrl !== "" && !/^https?:\/\//i.test(smsUrl)) return sendTwilioError(res, new ApiError(21502, "SmsUrl is not valid"));
        n.smsUrl = smsUrl || null;
      }
      const friendlyName = form.get("FriendlyName");
      if (friendlyName) n.friendlyName = friendlyName;
      publish("number.configured", { number: n });
    }
    sendJson(res, 200, incomingNumberResource(n));
  }

  // ---------------------------------------------------------------- inbound SMS

  async function receiveInbound(fromPhone: string, toNumber: TwilioNumber, body: string): Promise<StoredMessage> {
    const now = new Date();
    const segments = countSegments(body);
    const keyword = toNumber.advancedOptOut ? optOutKeyword(body) : undefined;
    const m: StoredMessage = {
      sid: sid("SM"),
      from: fromPhone,
      to: toNumber.phoneNumber,
      body,
      status: "received",
      direction: "inbound",
      messagingServiceSid: toNumber.messagingServiceSid,
      statusCallback: null,
      dateCreated: now,
      dateUpdated: now,
      dateSent: now,
      errorCode: null,
      errorMessage: null,
      numSegments: segments.segments,
      encoding: segments.encoding,
      optOutType: keyword,
      webhook: { url: toNumber.smsUrl, state: "pending" },
    };
    messageCreated(m);
    if (keyword) {
      const key = `${toNumber.phoneNumber}|${fromPhone}`;
      if (keyword === "STOP") optedOut.add(key);
      if (keyword === "START") optedOut.delete(key);
      // With Advanced Opt-Out Twilio answers the keyword itself, even to the phone that just opted out.
      sendReply(toNumber.phoneNumber, fromPhone, optOutReplies[keyword], undefined, toNumber.messagingServiceSid, true);
    }
    callInboundWebhook(m, toNumber).catch((error) => log(`[twilio] inbound webhook for ${m.sid} crashed: ${(error as Error).stack}`));
    return m;
  }

  function inboundParams(m: StoredMessage): Record<string, string> {
    const params: Record<string, string> = {
      ToCountry: countryOf(m.to), ToState: "", ToCity: "", ToZip: "",
      SmsMessageSid: m.sid, NumMedia: "0", SmsSid: m.sid, SmsStatus: "received",
      FromCountry: countryOf(m.from), FromState: "", FromCity: "", FromZip: "",
      Body: m.body, To: m.to, From: m.from, NumSegments: String(m.numSegments),
      MessageSid: m.sid, AccountSid: accountSid, ApiVersion: API_VERSION,
    };
    if (m.messagingServiceSid) params.MessagingServiceSid = m.messagingServiceSid;
    if (m.optOutType) params.OptOutType = m.optOutType;
    return params;
  }

  async function callInboundWebhook(m: StoredMessage, toNumber: TwilioNumber): Promise<WebhookOutcome> {
    const myGeneration = generation;
    const url = toNumber.smsUrl;
    if (!url) {
      m.webhook = { url: null, state: "failed", error: `no SMS webhook URL configured for ${toNumber.phoneNumber}` };
      publish("message.status", { message: messageView(m) }, [m.from, m.to]);
      return m.webhook;
    }
    m.webhook = { url, state: "pending" };
    const { entry, responseText } = await postWebhook("inbound", url, inboundParams(m), m.sid);
    if (myGeneration !== generation) return m.webhook;
    m.webhook = {
      url,
      state: entry.ok ? "delivered" : "failed",
      httpStatus: entry.httpStatus,
      errorCode: entry.errorCode,
      error: entry.error,
      durationMs: entry.durationMs,
    };
    if (entry.ok) {
      const twiml = parseMessagingTwiml(responseText);
      if (twiml.warning) {
        m.webhook.error = twiml.warning;
        log(`[twilio] ${m.sid}: ${twiml.warning}`);
      }
      for (const reply of twiml.messages) {
        sendReply(reply.from ?? m.to, reply.to ?? m.from, reply.body.trim(), reply.statusCallback, toNumber.messagingServiceSid, false);
      }
    }
    publish("message.status", { message: messageView(m) }, [m.from, m.to]);
    return m.webhook;
  }

  /** A reply Twilio itself sends (TwiML <Message> or an opt-out answer); errors end as a failed message, as in Twilio. */
  function sendReply(
    from: string,
    to: string,
    body: string,
    statusCallback: string | undefined,
    messagingServiceSid: string | null,
    bypassOptOut: boolean,
  ): void {
    try {
      const m = createOutbound({ to, from, body, statusCallback, direction: "outbound-reply", bypassOptOut }, null);
      if (messagingServiceSid) m.messagingServiceSid = messagingServiceSid;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const now = new Date();
      const segments = countSegments(body);
      const m: StoredMessage = {
        sid: sid("SM"), from, to, body, status: "failed", direction: "outbound-reply", messagingServiceSid,
        statusCallback: statusCallback ?? null, dateCreated: now, dateUpdated: now, dateSent: null,
        errorCode: error.code, errorMessage: error.message, numSegments: segments.segments, encoding: segments.encoding,
      };
      messageCreated(m);
      if (m.statusCallback) postWebhook("status-callback", m.statusCallback, statusCallbackParams(m), m.sid).catch(() => {});
    }
  }

  // ---------------------------------------------------------------- control API

  async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    const text = await readBody(req);
    if (text.trim() === "") return {};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpError(400, "request body must be JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpError(400, "request body must be a JSON object");
    return value as Record<string, unknown>;
  }

  function requirePhone(value: unknown, field: string): string {
    if (typeof value !== "string" || !e164.test(value.trim())) {
      throw new HttpError(400, `${field} must be an E.164 phone number like +15551234567, got ${JSON.stringify(value)}`);
    }
    return value.trim();
  }

  function optionalUrl(value: unknown, field: string): string | null {
    if (value === undefined || value === null || value === "") return null;
    if (typeof value !== "string" || !/^https?:\/\/[^\s]+$/i.test(value)) throw new HttpError(400, `${field} must be an http(s) URL`);
    return value;
  }

  /** `?phone=+1555...` written unencoded arrives as " 1555..." (form decoding turns + into a space). */
  function phoneQuery(value: string): string {
    return value.replace(/^ (?=\d)/, "+");
  }

  function phoneThreads(phone: string) {
    return [...messages.values()].filter((m) => m.from === phone || m.to === phone).map(messageView);
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? "GET";
    const route = `${method} ${path}`;

    if (route === "GET /emulator/events") return openEventStream(req, res, url);

    if (route === "POST /emulator/numbers") {
      const input = await readJson(req);
      const phoneNumber = requirePhone(input.phoneNumber, "phoneNumber");
      const smsUrl = optionalUrl(input.smsUrl, "smsUrl");
      if (input.advancedOptOut !== undefined && typeof input.advancedOptOut !== "boolean") throw new HttpError(400, "advancedOptOut must be a boolean");
      const messagingServiceSid = input.messagingServiceSid ?? null;
      if (messagingServiceSid !== null && (typeof messagingServiceSid !== "string" || !messagingServiceSidPattern.test(messagingServiceSid))) {
        throw new HttpError(400, "messagingServiceSid must be MG + 32 hex digits");
      }
      if (input.friendlyName !== undefined && typeof input.friendlyName !== "string") throw new HttpError(400, "friendlyName must be a string");
      const existing = numbers.get(phoneNumber);
      const number: TwilioNumber = {
        sid: existing?.sid ?? sid("PN"),
        phoneNumber,
        smsUrl,
        advancedOptOut: (input.advancedOptOut as boolean | undefined) ?? existing?.advancedOptOut ?? false,
        messagingServiceSid: messagingServiceSid as string | null,
        friendlyName: (input.friendlyName as string | undefined) ?? existing?.friendlyName ?? phoneNumber,
      };
      numbers.set(phoneNumber, number);
      phones.delete(phoneNumber);
      publish("number.configured", { number });
      return sendJson(res, existing ? 200 : 201, number);
    }
    if (route === "GET /emulator/numbers") return sendJson(res, 200, [...numbers.values()]);

    if (route === "POST /emulator/inbound") {
      const input = await readJson(req);
      const from = requirePhone(input.from, "from");
      const to = requirePhone(input.to, "to");
      if (typeof input.body !== "string") throw new HttpError(400, "body must be a string");
      if (input.body.length > 1600) throw new HttpError(400, "body must be at most 1600 characters");
      const number = numbers.get(to);
      if (!number) throw new HttpError(404, `${to} is not a Twilio number of this emulator; configure it with POST /emulator/numbers`);
      if (numbers.has(from)) throw new HttpError(400, `from ${from} is a Twilio number; inbound texts come from phones`);
      const m = await receiveInbound(from, number, input.body);
      return sendJson(res, 201, { sid: m.sid });
    }

    if (method === "GET" && path === "/emulator/messages") {
      const phone = url.searchParams.get("phone");
      if (phone === null) return sendJson(res, 200, [...messages.values()].map(messageView));
      return sendJson(res, 200, phoneThreads(requirePhone(phoneQuery(phone), "phone")));
    }
    const oneMessage = /^\/emulator\/messages\/(SM[0-9a-f]{32})(\/redeliver)?$/.exec(path);
    if (oneMessage) {
      const m = messages.get(oneMessage[1]);
      if (!m) throw new HttpError(404, `no message ${oneMessage[1]}`);
      if (method === "GET" && !oneMessage[2]) return sendJson(res, 200, messageView(m));
      if (method === "POST" && oneMessage[2]) {
        // Replays the same inbound webhook (same MessageSid), as Twilio does when it retries.
        const number = numbers.get(m.to);
        if (m.direction !== "inbound" || !number) throw new HttpError(400, "only inbound messages to a configured number can be redelivered");
        const outcome = await callInboundWebhook(m, number);
        return sendJson(res, 200, { sid: m.sid, webhook: outcome });
      }
    }

    if (route === "POST /emulator/faults") {
      const input = await readJson(req);
      const modes: FaultMode[] = ["http500", "http429", "timeout", "error"];
      if (!modes.includes(input.mode as FaultMode)) throw new HttpError(400, `mode must be one of ${modes.join(", ")}`);
      const mode = input.mode as FaultMode;
      const code = input.code ?? null;
      if (code !== null && (!Number.isInteger(code) || (code as number) < 10000 || (code as number) > 99999)) throw new HttpError(400, "code must be a 5-digit Twilio error code");
      if (mode === "error" && code === null) throw new HttpError(400, 'mode "error" needs a code (e.g. 21611, or 30007 for a delivery failure)');
      const count = input.count ?? null;
      if (count !== null && (!Number.isInteger(count) || (count as number) < 1)) throw new HttpError(400, "count must be a positive integer");
      const rate = input.rate ?? 1;
      if (typeof rate !== "number" || !(rate > 0 && rate <= 1)) throw new HttpError(400, "rate must be a number in (0, 1]");
      const hangMs = input.hangMs ?? 35_000;
      if (!Number.isInteger(hangMs) || (hangMs as number) < 0) throw new HttpError(400, "hangMs must be a non-negative integer");
      const afterHang = input.afterHang ?? "504";
      if (afterHang !== "504" && afterHang !== "close") throw new HttpError(400, 'afterHang must be "504" or "close"');
      const seed = input.seed;
      if (seed !== undefined && !Number.isInteger(seed)) throw new HttpError(400, "seed must be an integer");
      const rule: FaultRule = {
        id: ++faultIds, mode, code: code as number | null, remaining: count as number | null, rate,
        hangMs: hangMs as number, afterHang, triggered: 0,
        random: seed !== undefined ? seededRandom(seed as number) : Math.random,
      };
      faults.push(rule);
      publish("faults.changed", { faults: faults.map(faultView) });
      return sendJson(res, 201, faultView(rule));
    }
    if (route === "GET /emulator/faults") return sendJson(res, 200, faults.map(faultView));
    if (route === "DELETE /emulator/faults") {
      faults = [];
      publish("faults.changed", { faults: [] });
      return sendJson(res, 200, { ok: true });
    }

    if (route === "POST /emulator/phones") {
      const input = await readJson(req);
      const phone = requirePhone(input.phone, "phone");
      const lineTypes: LineType[] = ["mobile", "landline", "unreachable"];
      if (!lineTypes.includes(input.lineType as LineType)) throw new HttpError(400, `lineType must be one of ${lineTypes.join(", ")}`);
      if (input.label !== undefined && typeof input.label !== "string") throw new HttpError(400, "label must be a string");
      if (numbers.has(phone)) throw new HttpError(400, `${phone} is a Twilio number, not a phone`);
      const setting = rememberPhone(phone);
      setting.lineType = input.lineType as LineType;
      if (input.label !== undefined) setting.label = (input.label as string) || undefined;
      publish("phone.updated", { phone: setting }, [phone]);
      return sendJson(res, 200, setting);
    }
    if (route === "GET /emulator/phones") return sendJson(res, 200, [...phones.values()]);

    if (route === "GET /emulator/webhooks") {
      const messageSid = url.searchParams.get("messageSid");
      return sendJson(res, 200, webhookLog.filter((w) => !messageSid || w.messageSid === messageSid));
    }

    if (route === "GET /emulator/settings") return sendJson(res, 200, settings);
    if (route === "POST /emulator/settings") {
      const input = await readJson(req);
      for (const key of ["deliveryDelayMs", "webhookTimeoutMs"] as const) {
        if (input[key] === undefined) continue;
        if (!Number.isInteger(input[key]) || (input[key] as number) < 0) throw new HttpError(400, `${key} must be a non-negative integer`);
        settings[key] = input[key] as number;
      }
      return sendJson(res, 200, settings);
    }

    if (route === "POST /emulator/reset") {
      const input = await readJson(req);
      generation++;
      messages.clear();
      if (input.keepNumbers !== true) numbers.clear();
      phones.clear();
      optedOut.clear();
      faults = [];
      webhookLog.length = 0;
      publish("reset", {});
      return sendJson(res, 200, { ok: true });
    }

    if (route === "GET /emulator/info") {
      return sendJson(res, 200, { accountSid, url: publicUrl, phoneUrl: `${publicUrl}/phone`, apiBaseUrl: publicUrl, eventsUrl: `${publicUrl}/emulator/events`, lastEventSeq: seq });
    }

    throw new HttpError(404, `no emulator route ${route}`);
  }

  function openEventStream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const phoneParam = url.searchParams.get("phone");
    const phone = phoneParam ? requirePhone(phoneQuery(phoneParam), "phone") : undefined;
    const afterParam = url.searchParams.get("after") ?? req.headers["last-event-id"];
    const after = afterParam !== undefined ? Number(afterParam) : null;
    if (after !== null && !Number.isInteger(after)) throw new HttpError(400, "after must be an integer event seq");
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(`retry: 1000\n\n`);
    const sub = { res, phone };
    if (after !== null) {
      for (const event of events) {
        if (event.seq <= after) continue;
        const involved = involvedPhones(event);
        if (phone && involved.length > 0 && !involved.includes(phone)) continue;
        res.write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
      }
    }
    res.write(`data: ${JSON.stringify({ seq, type: "ready" })}\n\n`);
    subscribers.add(sub);
    const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
    req.on("close", () => {
      clearInterval(keepAlive);
      subscribers.delete(sub);
    });
  }

  function involvedPhones(event: EmulatorEvent): string[] {
    const message = event.message as { from?: string; to?: string } | undefined;
    if (message?.from && message.to) return [message.from, message.to];
    const phone = event.phone as { phone?: string } | undefined;
    return phone?.phone ? [phone.phone] : [];
  }

  // ---------------------------------------------------------------- HTTP server

  async function serveStatic(res: ServerResponse, path: string): Promise<boolean> {
    const entry = staticFiles[path];
    if (!entry) return false;
    const content = await readFile(join(phonePageDir, entry.file));
    res.writeHead(200, { "content-type": entry.type, "cache-control": "no-cache", "content-length": content.length });
    res.end(content);
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator.local");
    try {
      if (url.pathname.startsWith("/2010-04-01/")) return await handleApi(req, res, url);
      if (url.pathname.startsWith("/emulator/")) {
        res.setHeader("access-control-allow-origin", "*");
        if (req.method === "OPTIONS") {
          res.writeHead(204, { "access-control-allow-methods": "GET, POST, DELETE", "access-control-allow-headers": "content-type" });
          return void res.end();
        }
        return await handleControl(req, res, url);
      }
      if (url.pathname === "/favicon.ico") {
        res.writeHead(204);
        return void res.end();
      }
      if (url.pathname === "/") {
        res.writeHead(302, { location: "/phone" });
        return void res.end();
      }
      if (req.method === "GET" && (await serveStatic(res, url.pathname))) return;
      sendJson(res, 404, { error: `not found: ${url.pathname}` });
    } catch (error) {
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
      log(`[twilio] ${req.method} ${url.pathname} crashed: ${(error as Error).stack}`);
      sendJson(res, 500, { error: (error as Error).message });
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = options.host && options.host !== "0.0.0.0" && options.host !== "::" ? options.host : "127.0.0.1";
  const publicUrl = (options.publicUrl ?? `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`).replace(/\/$/, "");
  log(`[twilio] emulator listening on ${publicUrl} (phone page ${publicUrl}/phone)`);

  return {
    url: publicUrl,
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const sub of subscribers) sub.res.end();
      subscribers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
