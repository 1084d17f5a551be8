// Sends one SMS through Twilio's Messages API and classifies the outcome as sent / retryable /
// permanent, as docs/sms-compliance.md says, and whether Twilio may have taken it all the same
// (outcomeUnknown: a timeout after the request left). Such a send is looked up in Twilio's message
// list (findSentMessage) before it is sent again.
import { z } from "zod";
import type { TwilioEnv } from "./env.ts";

export type SendOutcome =
  | { kind: "sent"; sid: string }
  | { kind: "failed"; retryable: boolean; code: string; message: string; outcomeUnknown: boolean };

/** Twilio codes that mean "not processed, try again later". */
export const retryableTwilioCodes = new Set(["20429", "21611", "30003", "30008"]);

const successSchema = z.object({ sid: z.string().min(1) });
const messageListSchema = z.object({
  messages: z.array(z.object({ sid: z.string(), body: z.string().nullish(), date_created: z.string().nullish() })),
  next_page_uri: z.string().nullish(),
});
const errorSchema = z.object({ code: z.union([z.number(), z.string()]).optional(), message: z.string().optional() });

export interface SmsToSend {
  to: string;
  from: string;
  body: string;
}

export function messagesUrl(env: TwilioEnv): string {
  return `${env.TWILIO_API_BASE_URL.replace(/\/+$/, "")}/2010-04-01/Accounts/${
    encodeURIComponent(env.TWILIO_ACCOUNT_SID)
  }/Messages.json`;
}

export function statusCallbackUrl(env: TwilioEnv): string {
  return `${env.TWILIO_WEBHOOK_BASE_URL.replace(/\/+$/, "")}/twilio-status`;
}

export async function sendSms(env: TwilioEnv, sms: SmsToSend, fetchFn: typeof fetch = fetch): Promise<SendOutcome> {
  const form = new URLSearchParams({ To: sms.to, From: sms.from, Body: sms.body, StatusCallback: statusCallbackUrl(env) });
  let res: Response;
  try {
    res = await fetchFn(messagesUrl(env), {
      method: "POST",
      headers: {
        Authorization: "Basic " + btoa(`${env.TWILIO_ACCOUNT_SID}:${env.TWILIO_AUTH_TOKEN}`),
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
      },
      body: form,
      signal: AbortSignal.timeout(env.TWILIO_REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const name = (err as Error)?.name;
    const timedOut = name === "TimeoutError" || name === "AbortError";
    // A connection that was never made sent nothing; anything after that may have reached Twilio.
    const neverConnected = !timedOut &&
      /tcp connect error|connection refused|dns error|failed to lookup|network is unreachable|no route to host/i.test(String((err as Error)?.message ?? err));
    return {
      kind: "failed",
      retryable: true,
      code: timedOut ? "timeout" : "network",
      message: timedOut
        ? `Twilio did not answer within ${env.TWILIO_REQUEST_TIMEOUT_MS} ms`
        : `network error: ${(err as Error)?.message ?? err}`,
      outcomeUnknown: !neverConnected,
    };
  }
  let payload: unknown = null;
  const text = await res.text();
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (res.ok) {
    const ok = successSchema.safeParse(payload);
    // Twilio accepted something we cannot identify: look it up before any second try.
    if (!ok.success) {
      return { kind: "failed", retryable: true, code: "invalid_response", message: `HTTP ${res.status} without a message sid`, outcomeUnknown: true };
    }
    return { kind: "sent", sid: ok.data.sid };
  }
  const err = errorSchema.safeParse(payload);
  const code = err.success && err.data.code !== undefined ? String(err.data.code) : `http_${res.status}`;
  const message = (err.success && err.data.message) || `HTTP ${res.status}`;
  const retryable = res.status === 429 || res.status >= 500 || retryableTwilioCodes.has(code);
  // Twilio's own 5xx means "not processed"; a gateway's 502/504 in front of it may have come after it was.
  const outcomeUnknown = res.status === 502 || res.status === 504;
  return { kind: "failed", retryable, code, message: message.slice(0, 500), outcomeUnknown };
}

export interface SentLookup {
  to: string;
  from: string;
  body: string;
  /** When the attempt whose outcome is unknown began. */
  since: Date;
}

/**
 * The SID of a message Twilio took from an attempt whose outcome is unknown, or null when it has none:
 * Twilio's message list filtered by To, From and DateSent (from a minute before the attempt to a few
 * minutes after it, paged to the end), matched on the body and a creation time at or after the attempt.
 * Throws when Twilio cannot be asked: the caller must not send again then.
 */
export async function findSentMessage(env: TwilioEnv, lookup: SentLookup, fetchFn: typeof fetch = fetch): Promise<string | null> {
  const query = new URLSearchParams({
    To: lookup.to,
    From: lookup.from,
    "DateSent>": new Date(lookup.since.getTime() - 60_000).toISOString(),
    "DateSent<": new Date(lookup.since.getTime() + 5 * 60_000).toISOString(),
    PageSize: "1000",
  });
  const origin = new URL(messagesUrl(env)).origin;
  let url: string | null = `${messagesUrl(env)}?${query}`;
  const earliest = lookup.since.getTime() - 5_000;
  for (let page = 0; url && page < 20; page++) {
    const res: Response = await fetchFn(url, {
      method: "GET",
      headers: {
        Authorization: "Basic " + btoa(`${env.TWILIO_ACCOUNT_SID}:${env.TWILIO_AUTH_TOKEN}`),
        Accept: "application/json",
      },
      signal: AbortSignal.timeout(env.TWILIO_REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Twilio's message list answered HTTP ${res.status}`);
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      throw new Error("Twilio's message list is not JSON");
    }
    const list = messageListSchema.safeParse(payload);
    if (!list.success) throw new Error("Twilio's message list has an unexpected shape");
    const found = list.data.messages.find((m) =>
      (m.body ?? "") === lookup.body && (!m.date_created || Date.parse(m.date_created) >= earliest)
    );
    if (found) return found.sid;
    url = list.data.next_page_uri ? origin + list.data.next_page_uri : null;
  }
  return null;
}
