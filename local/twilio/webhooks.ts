// Signed webhook calls as Twilio makes them: form-encoded POSTs (or GETs with the parameters in the
// query string) with X-Twilio-Signature over the URL without its fragment, the connection overrides
// in that fragment (connect/read/total timeouts, retry count and policy, see overrides.ts), the same
// I-Twilio-Idempotency-Token on every retry, and 11200/11205 recorded when the app does not answer well.
import { randomBytes } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { API_VERSION, maxEventsKept, type HttpMethod, type StoredMessage, type WebhookLogEntry } from "./model.ts";
import { parseWebhookUrl, type RetryReason } from "./overrides.ts";
import { twilioSignature } from "./signature.ts";
import type { EmulatorStore } from "./store.ts";

/** Twilio reads at most this much of a webhook's answer (its TwiML size limit). */
const maxResponseBytes = 64 * 1024;

// Webhook requests in flight at once, per emulator; the rest wait their turn (their timeouts start when
// they are sent). Twilio's callbacks come from many machines to a platform that accepts connections as
// fast as they come; here they all land on one local gateway process, and thousands of them at once (a
// busy intake: a few callbacks per text) filled its accept queue and starved every other caller.
const maxWebhooksInFlight = 64;
const webhookSlots = new WeakMap<EmulatorStore, { active: number; waiting: (() => void)[] }>();

async function inWebhookSlot<T>(store: EmulatorStore, send: () => Promise<T>): Promise<T> {
  let slots = webhookSlots.get(store);
  if (!slots) webhookSlots.set(store, (slots = { active: 0, waiting: [] }));
  if (slots.active >= maxWebhooksInFlight) await new Promise<void>((resolve) => slots.waiting.push(resolve));
  else slots.active++;
  try {
    return await send();
  } finally {
    // The slot passes straight to the next waiter, so `active` stays counted for it.
    const next = slots.waiting.shift();
    if (next) next();
    else slots.active--;
  }
}

export interface WebhookRequest {
  kind: WebhookLogEntry["kind"];
  /** The URL as configured, fragment (connection overrides) included. */
  configuredUrl: string;
  method?: HttpMethod;
  params: Record<string, string>;
  messageSid: string;
  fallback?: boolean;
}

export interface WebhookResult {
  ok: boolean;
  /** The URL requested: the configured one without its fragment. */
  url: string;
  /** The last attempt (the one that succeeded, or the final failure). */
  entry: WebhookLogEntry;
  attempts: number;
  responseText: string;
}

type AttemptOutcome =
  | { ok: true; status: number; body: string }
  // "tt": the total time is used up; "3xx": a redirect, which the emulator does not follow. Neither is retried.
  | { ok: false; reason: RetryReason | "tt" | "3xx"; status?: number; body?: string; error: string };

/** One HTTP exchange with Twilio's three clocks: connect, read (between packets too) and the total budget. */
function attemptOnce(
  store: EmulatorStore,
  url: string,
  method: HttpMethod,
  headers: Record<string, string>,
  body: string | undefined,
  timeouts: { connectMs: number; readMs: number; deadline: number },
): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(target, { method, headers, agent: false });
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      store.aborts.delete(abort);
      resolve(outcome);
      if (!outcome.ok) req.destroy();
    };
    // close() of the emulator ends a request still waiting, instead of keeping the process up.
    const abort = () => finish({ ok: false, reason: "tt", error: "the emulator closed" });
    store.aborts.add(abort);
    // Each wait is cut short by the total budget, which ends the whole request (no retry after it).
    const arm = (ms: number, reason: RetryReason, error: string) => {
      clearTimeout(timer);
      const left = timeouts.deadline - Date.now();
      if (left < ms) timer = setTimeout(() => finish({ ok: false, reason: "tt", error: `total time of the request used up (tt) while waiting: ${error}` }), Math.max(0, left));
      else timer = setTimeout(() => finish({ ok: false, reason, error }), ms);
    };
    let connected = false;
    const onConnected = () => {
      connected = true;
      arm(timeouts.readMs, "rt", `no answer within the read timeout of ${timeouts.readMs} ms`);
    };
    arm(timeouts.connectMs, "ct", `no TCP connection within the connect timeout of ${timeouts.connectMs} ms`);
    req.on("socket", (socket) => {
      if (socket.connecting) socket.once("connect", onConnected);
      else onConnected();
    });
    req.on("error", (error) => {
      const cause = (error as NodeJS.ErrnoException).code ?? error.message;
      // A connection never made is a connect failure; one that broke after the request went out is a read failure.
      finish({ ok: false, reason: connected ? "rt" : "ct", error: `${connected ? "connection broken" : "could not connect"}: ${cause}` });
    });
    req.on("response", (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      arm(timeouts.readMs, "rt", `the answer stalled longer than the read timeout of ${timeouts.readMs} ms`);
      res.on("data", (chunk: Buffer) => {
        arm(timeouts.readMs, "rt", `the answer stalled longer than the read timeout of ${timeouts.readMs} ms`);
        if (size < maxResponseBytes) chunks.push(chunk);
        size += chunk.length;
      });
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8").slice(0, maxResponseBytes);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) finish({ ok: true, status, body: text });
        else finish({ ok: false, reason: status >= 500 ? "5xx" : status >= 400 ? "4xx" : "3xx", status, body: text, error: `answered HTTP ${status}` });
      });
      res.on("error", (error) => finish({ ok: false, reason: "rt", error: `connection broken while reading: ${error.message}` }));
    });
    req.end(body);
  });
}

/** Records one attempt on the webhook log and the event stream. */
function logAttempt(store: EmulatorStore, entry: WebhookLogEntry): void {
  store.webhookLog.push(entry);
  if (store.webhookLog.length > maxEventsKept) store.webhookLog.splice(0, store.webhookLog.length - maxEventsKept);
  if (!entry.ok) store.log(`[twilio] ${entry.kind}${entry.fallback ? " fallback" : ""} webhook for ${entry.messageSid} (attempt ${entry.attempt}) failed: ${entry.error}`);
  store.publish("webhook", { webhook: entry });
}

/**
 * Calls a webhook as Twilio does: one request, then up to `rc` retries of the same request for the
 * failures `rp` names, within the total time `tt`. Every attempt is logged.
 */
export async function deliverWebhook(store: EmulatorStore, request: WebhookRequest): Promise<WebhookResult> {
  const method = request.method ?? "POST";
  const parsed = parseWebhookUrl(request.configuredUrl, { readTimeoutMs: store.settings.webhookTimeoutMs });
  const { url, overrides } = parsed;
  const query = method === "GET" ? new URLSearchParams(request.params).toString() : "";
  const requestUrl = query ? `${url}${url.includes("?") ? "&" : "?"}${query}` : url;
  // GET: the parameters are part of the URL, so the signature covers that URL and nothing else.
  const signature = method === "GET" ? twilioSignature(store.authToken, requestUrl, {}) : twilioSignature(store.authToken, url, request.params);
  const body = method === "POST" ? new URLSearchParams(request.params).toString() : undefined;
  const headers: Record<string, string> = {
    accept: "*/*",
    "user-agent": "TwilioProxy/1.1",
    "x-twilio-signature": signature,
    "i-twilio-idempotency-token": randomBytes(16).toString("hex"),
  };
  if (body !== undefined) {
    headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8";
    headers["content-length"] = String(Buffer.byteLength(body));
  }
  // The total time (tt) runs from the first attempt's sending, not from its wait for a slot.
  let deadline = Infinity;
  const newEntry = (attempt: number): WebhookLogEntry => ({
    id: ++store.webhookIds, kind: request.kind, messageSid: request.messageSid, url, configuredUrl: request.configuredUrl, method,
    attempt, fallback: request.fallback ?? false, idempotencyToken: headers["i-twilio-idempotency-token"], params: request.params,
    ok: false, durationMs: 0, at: new Date().toISOString(),
  });

  const problem = parsed.invalid ?? (/^https?:\/\/[^\s/]+/i.test(url) ? undefined : { code: 11100, message: `Invalid URL format: ${url}` });
  if (problem) {
    const entry = { ...newEntry(1), errorCode: problem.code, error: problem.message };
    logAttempt(store, entry);
    return { ok: false, url, entry, attempts: 1, responseText: "" };
  }

  const myGeneration = store.generation;
  let attempt = 0;
  for (;;) {
    attempt++;
    const entry = newEntry(attempt);
    let attemptStarted = Date.now();
    const outcome = await inWebhookSlot(store, () => {
      attemptStarted = Date.now();
      if (attempt === 1) deadline = attemptStarted + overrides.totalTimeMs;
      return attemptOnce(store, requestUrl, method, headers, body, { connectMs: overrides.connectTimeoutMs, readMs: overrides.readTimeoutMs, deadline });
    });
    entry.durationMs = Date.now() - attemptStarted;
    entry.ok = outcome.ok;
    if (outcome.ok || outcome.status !== undefined) entry.httpStatus = outcome.status;
    if (!outcome.ok) {
      entry.errorCode = outcome.status !== undefined ? 11200 : 11205;
      entry.error = outcome.status !== undefined
        ? `HTTP retrieval failure: ${url} answered ${outcome.status}`
        : `HTTP connection failure: ${url}: ${outcome.error}`;
    }
    logAttempt(store, entry);
    const responseText = outcome.body ?? "";
    const retry = !outcome.ok && outcome.reason !== "tt" && outcome.reason !== "3xx" && overrides.retryOn.has(outcome.reason) && attempt <= overrides.retryCount &&
      Date.now() < deadline && !store.closed && myGeneration === store.generation;
    if (!retry) return { ok: outcome.ok, url, entry, attempts: attempt, responseText };
  }
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

/** A message's status callback (its StatusCallback URL may carry connection overrides too). */
export function postStatusCallback(store: EmulatorStore, m: StoredMessage): Promise<WebhookResult> {
  return deliverWebhook(store, { kind: "status-callback", configuredUrl: m.statusCallback!, params: statusCallbackParams(store, m), messageSid: m.sid });
}
