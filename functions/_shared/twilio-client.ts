// Sends one SMS through Twilio's Messages API and classifies the outcome as
// sent / retryable / permanent, as docs/sms-compliance.md says.
import { z } from "zod";
import type { TwilioEnv } from "./env.ts";

export type SendOutcome =
  | { kind: "sent"; sid: string }
  | { kind: "failed"; retryable: boolean; code: string; message: string };

/** Twilio codes that mean "not processed, try again later". */
export const retryableTwilioCodes = new Set(["20429", "21611", "30003", "30008"]);

const successSchema = z.object({ sid: z.string().min(1) });
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
    return {
      kind: "failed",
      retryable: true,
      code: timedOut ? "timeout" : "network",
      message: timedOut
        ? `Twilio did not answer within ${env.TWILIO_REQUEST_TIMEOUT_MS} ms`
        : `network error: ${(err as Error)?.message ?? err}`,
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
    // Twilio accepted something we cannot identify: retrying could text the lead twice.
    if (!ok.success) {
      return { kind: "failed", retryable: false, code: "invalid_response", message: `HTTP ${res.status} without a message sid` };
    }
    return { kind: "sent", sid: ok.data.sid };
  }
  const err = errorSchema.safeParse(payload);
  const code = err.success && err.data.code !== undefined ? String(err.data.code) : `http_${res.status}`;
  const message = (err.success && err.data.message) || `HTTP ${res.status}`;
  const retryable = res.status === 429 || res.status >= 500 || retryableTwilioCodes.has(code);
  return { kind: "failed", retryable, code, message: message.slice(0, 500) };
}
