// Signed webhook calls as Twilio makes them: form-encoded POSTs with X-Twilio-Signature over the exact URL,
// Twilio's 15 s patience, and 11200/11205 recorded when the app does not answer well.
import { randomBytes } from "node:crypto";
import { API_VERSION, maxEventsKept, type StoredMessage, type WebhookLogEntry } from "./model.ts";
import { twilioSignature } from "./signature.ts";
import type { EmulatorStore } from "./store.ts";

export async function postWebhook(
  store: EmulatorStore,
  kind: WebhookLogEntry["kind"],
  url: string,
  params: Record<string, string>,
  messageSid: string,
): Promise<{ entry: WebhookLogEntry; responseText: string }> {
  const started = Date.now();
  const entry: WebhookLogEntry = {
    id: ++store.webhookIds, kind, messageSid, url, params, ok: false, durationMs: 0, at: new Date(started).toISOString(),
  };
  let responseText = "";
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        accept: "*/*",
        "user-agent": "TwilioProxy/1.1",
        "x-twilio-signature": twilioSignature(store.authToken, url, params),
        "i-twilio-idempotency-token": randomBytes(16).toString("hex"),
      },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(store.settings.webhookTimeoutMs),
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
      ? `HTTP connection failure: ${url} did not answer within ${store.settings.webhookTimeoutMs} ms`
      : `HTTP connection failure: ${url}: ${(error as Error).cause ?? (error as Error).message}`;
  }
  entry.durationMs = Date.now() - started;
  store.webhookLog.push(entry);
  if (store.webhookLog.length > maxEventsKept) store.webhookLog.splice(0, store.webhookLog.length - maxEventsKept);
  if (!entry.ok) store.log(`[twilio] ${kind} webhook for ${messageSid} failed: ${entry.error}`);
  store.publish("webhook", { webhook: entry });
  return { entry, responseText };
}

export function statusCallbackParams(store: EmulatorStore, m: StoredMessage): Record<string, string> {
  const params: Record<string, string> = {
    SmsSid: m.sid,
    SmsStatus: m.status,
    MessageStatus: m.status,
    To: m.to,
    MessageSid: m.sid,
    AccountSid: store.accountSid,
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
