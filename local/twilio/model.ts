// The emulator's data model and Twilio's fixed facts: message, number and phone records, fault rules,
// the magic test numbers, opt-out keywords and Twilio's own formats (SIDs, dates).
import { randomBytes } from "node:crypto";
import parsePhoneNumber from "libphonenumber-js";
import { errorMessage, httpStatusForCode } from "./errors.ts";

export type Direction = "inbound" | "outbound-api" | "outbound-reply";
export type MessageStatus = "accepted" | "queued" | "sending" | "sent" | "delivered" | "undelivered" | "failed" | "received";
export type LineType = "mobile" | "landline" | "unreachable";

export interface WebhookOutcome {
  /** The URL requested (the configured one without its fragment). */
  url: string | null;
  state: "pending" | "delivered" | "failed";
  httpStatus?: number;
  errorCode?: number;
  error?: string;
  durationMs?: number;
  /** Requests made to this URL (1 + retries). */
  attempts?: number;
  /** What the number's SmsFallbackUrl answered, when the primary URL failed. */
  fallback?: Omit<WebhookOutcome, "fallback">;
}

export interface StoredMessage {
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

export type HttpMethod = "GET" | "POST";

/** A number the account owns: an IncomingPhoneNumber resource, and where its texts are delivered. */
export interface TwilioNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  /** "twilio": bought through IncomingPhoneNumbers; "hosted": given to the account by the control API (a number it had before). */
  origin: "twilio" | "hosted";
  capabilities: { voice: boolean; sms: boolean; mms: boolean; fax: boolean };
  /** Where inbound texts go; may carry connection overrides in its fragment (#rc=3&rp=5xx). */
  smsUrl: string | null;
  smsMethod: HttpMethod;
  /** Requested after SmsUrl fails (retries included), with ErrorCode and ErrorUrl added. */
  smsFallbackUrl: string | null;
  smsFallbackMethod: HttpMethod;
  /** Twilio uses this for voice call status; kept for the resource's shape, unused by SMS. */
  statusCallback: string | null;
  statusCallbackMethod: HttpMethod;
  voiceUrl: string | null;
  voiceMethod: HttpMethod;
  advancedOptOut: boolean;
  messagingServiceSid: string | null;
  dateCreated: string;
  dateUpdated: string;
}

export interface PhoneSetting {
  phone: string;
  lineType: LineType;
  label?: string;
}

export type FaultMode = "http500" | "http429" | "timeout" | "error";

export interface FaultRule {
  id: number;
  mode: FaultMode;
  code: number | null;
  /** Faults left before the rule retires; null = no limit. */
  remaining: number | null;
  rate: number;
  hangMs: number;
  /** What a held request finally gets: a 504 answer, or its connection closed with no answer. */
  afterHang: "504" | "close";
  /** timeout only: the message is created before the request is held (Twilio took it; the answer is lost). */
  accepted: boolean;
  triggered: number;
  random: () => number;
}

export interface WebhookLogEntry {
  id: number;
  kind: "inbound" | "status-callback";
  messageSid: string;
  /** The URL requested (no fragment); `configuredUrl` is the setting it came from. */
  url: string | null;
  configuredUrl: string | null;
  method: HttpMethod;
  /** 1 for the first request, 2.. for Twilio's retries of it. */
  attempt: number;
  /** A request to the number's SmsFallbackUrl. */
  fallback: boolean;
  /** Same on every retry of one request, as Twilio's I-Twilio-Idempotency-Token. */
  idempotencyToken: string;
  params: Record<string, string>;
  ok: boolean;
  httpStatus?: number;
  errorCode?: number;
  error?: string;
  durationMs: number;
  at: string;
}

export interface EmulatorEvent {
  seq: number;
  type: string;
  [key: string]: unknown;
}

/** A Messages API error: Twilio's numeric code, its message and the HTTP status Twilio answers with. */
export class TwilioApiError extends Error {
  constructor(readonly code: number, message = errorMessage(code), readonly status = httpStatusForCode(code)) {
    super(message);
  }
}

export const API_VERSION = "2010-04-01";
export const e164 = /^\+[1-9]\d{1,14}$/;
export const alphanumericSender = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
export const messagingServiceSidPattern = /^MG[0-9a-f]{32}$/;
export const maxEventsKept = 20000;

/** Twilio's magic test numbers (docs/sms-compliance.md): From/To values that always fail the same way. */
export const magicFrom: Record<string, number> = { "+15005550001": 21212, "+15005550007": 21606, "+15005550008": 21611 };
export const magicTo: Record<string, number> = {
  "+15005550001": 21211,
  "+15005550002": 21612,
  "+15005550003": 21408,
  "+15005550004": 21610,
  "+15005550009": 21614,
};
export const MAGIC_PASSING_FROM = "+15005550006";

const optOutKeywords: Record<string, "STOP" | "START" | "HELP"> = {
  STOP: "STOP", STOPALL: "STOP", UNSUBSCRIBE: "STOP", CANCEL: "STOP", END: "STOP", QUIT: "STOP",
  REVOKE: "STOP", OPTOUT: "STOP", START: "START", YES: "START", UNSTOP: "START", HELP: "HELP", INFO: "HELP",
};
// What Twilio's Advanced Opt-Out answers by default.
export const optOutReplies = {
  STOP: "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.",
  START: "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
  HELP: "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
};

export function optOutKeyword(body: string): "STOP" | "START" | "HELP" | undefined {
  const word = body.trim().replace(/[.!?,;:]+$/, "").trim().toUpperCase();
  return optOutKeywords[word];
}

export function sid(prefix: string): string {
  return prefix + randomBytes(16).toString("hex");
}

/** Twilio's date format: RFC 2822 with a numeric zone, e.g. "Thu, 24 Aug 2023 05:01:45 +0000". */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace("GMT", "+0000");
}

/** Small seeded generator so a rate fault can be replayed exactly when a test passes `seed`. */
export function seededRandom(seed: number): () => number {
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

export function countryOf(phone: string): string {
  try {
    const parsed = parsePhoneNumber(phone);
    if (parsed?.country) return parsed.country;
    if (parsed?.countryCallingCode === "1") return "US";
  } catch {
    // An unparsable number simply has no known country, like Twilio's empty FromCountry.
  }
  return "";
}
