// Twilio's REST API as the official client calls it (Basic auth, form bodies, Twilio's JSON and paging):
// Messages create/fetch/list with injectable faults here; the number resources in numbers-api.ts.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { twilioError } from "./errors.ts";
import { createOutbound } from "./delivery.ts";
import { readBody, sendJson } from "./http.ts";
import { API_VERSION, rfc2822, TwilioApiError, type FaultRule, type StoredMessage } from "./model.ts";
import { handleNumbersApi } from "./numbers-api.ts";
import { listPage } from "./paging.ts";
import type { EmulatorStore } from "./store.ts";

export function messageUri(store: EmulatorStore, messageSid: string): string {
  return `/${API_VERSION}/Accounts/${store.accountSid}/Messages/${messageSid}.json`;
}

export function messageResource(store: EmulatorStore, m: StoredMessage) {
  const uri = messageUri(store, m.sid);
  return {
    account_sid: store.accountSid,
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

export function takeFault(store: EmulatorStore): FaultRule | null {
  for (const rule of store.faults) {
    if (rule.remaining !== null && rule.remaining <= 0) continue;
    if (rule.random() >= rule.rate) continue;
    rule.triggered++;
    if (rule.remaining !== null) rule.remaining--;
    const view = store.faultView(rule);
    store.faults = store.faults.filter((r) => r.remaining === null || r.remaining > 0);
    store.publish("fault", { fault: view });
    return rule;
  }
  return null;
}

function sendTwilioError(res: ServerResponse, error: TwilioApiError): void {
  const headers: Record<string, string> = error.status === 401 ? { "www-authenticate": 'Basic realm="Twilio API"' } : {};
  if (error.status === 429) headers["retry-after"] = "1";
  sendJson(res, error.status, twilioError(error.code, error.message, error.status), headers);
}

export function authenticated(store: EmulatorStore, req: IncomingMessage): boolean {
  const header = req.headers.authorization ?? "";
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) return false;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const expected = Buffer.from(`${store.accountSid}:${store.authToken}`);
  const given = Buffer.from(decoded);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function handleApi(store: EmulatorStore, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (!authenticated(store, req)) return sendTwilioError(res, new TwilioApiError(20003));
  const path = url.pathname;
  const account = /^\/2010-04-01\/Accounts\/([^/]+)(\/.*)?$/.exec(path);
  if (!account) return sendTwilioError(res, new TwilioApiError(20404, `The requested resource ${path} was not found`));
  if (account[1] !== store.accountSid) return sendTwilioError(res, new TwilioApiError(20003));
  const rest = account[2] ?? "";
  if (rest === "/Messages.json" && req.method === "POST") return createMessageRoute(store, req, res);
  if (rest === "/Messages.json" && req.method === "GET") return listMessagesRoute(store, res, url);
  const one = /^\/Messages\/(SM[0-9a-f]{32})\.json$/.exec(rest);
  if (one && req.method === "GET") {
    const m = store.messages.get(one[1]);
    if (!m) return sendTwilioError(res, new TwilioApiError(20404, `The requested resource ${path} was not found`));
    return sendJson(res, 200, messageResource(store, m));
  }
  if (rest.startsWith("/IncomingPhoneNumbers") || rest.startsWith("/AvailablePhoneNumbers")) {
    try {
      return await handleNumbersApi(store, req, res, url, rest);
    } catch (error) {
      if (error instanceof TwilioApiError) return sendTwilioError(res, error);
      throw error;
    }
  }
  return sendTwilioError(res, new TwilioApiError(20404, `The requested resource ${path} was not found`));
}

export async function createMessageRoute(store: EmulatorStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = new URLSearchParams(await readBody(req));
  const fault = takeFault(store);
  let deliveryError: number | null = null;
  if (fault) {
    store.log(`[twilio] injecting fault ${fault.mode}${fault.code ? " " + fault.code : ""}`);
    if (fault.mode === "http500") return sendTwilioError(res, new TwilioApiError(fault.code ?? 20500, undefined, 500));
    if (fault.mode === "http429") return sendTwilioError(res, new TwilioApiError(fault.code ?? 20429, undefined, 429));
    if (fault.mode === "timeout") {
      // Hold the request past the client's patience: nothing is created, like a request lost on the way,
      // or (accepted) the message is created first, like an answer lost on the way back.
      if (fault.accepted) {
        try {
          createOutbound(store, {
            to: form.get("To") ?? undefined,
            from: form.get("From") ?? undefined,
            messagingServiceSid: form.get("MessagingServiceSid") ?? undefined,
            body: form.get("Body") ?? undefined,
            statusCallback: form.get("StatusCallback") ?? undefined,
            direction: "outbound-api",
          }, null);
        } catch (error) {
          if (!(error instanceof TwilioApiError)) throw error;
        }
      }
      await store.later(fault.hangMs);
      if (res.destroyed) return;
      if (fault.afterHang === "close") res.socket?.destroy();
      else sendTwilioError(res, new TwilioApiError(20504, "Gateway Timeout", 504));
      return;
    }
    if (fault.code !== null && fault.code >= 30000) deliveryError = fault.code;
    else return sendTwilioError(res, new TwilioApiError(fault.code ?? 20500));
  }
  try {
    const m = createOutbound(
      store,
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
    sendJson(res, 201, messageResource(store, m));
  } catch (error) {
    if (error instanceof TwilioApiError) return sendTwilioError(res, error);
    throw error;
  }
}

function dateFilter(value: string, kind: "on" | "before" | "after"): (d: Date) => boolean {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const at = new Date(dateOnly ? value + "T00:00:00Z" : value);
  if (Number.isNaN(at.getTime())) throw new TwilioApiError(20001, `Invalid DateSent value: ${value}`);
  const dayStart = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const dayEnd = dayStart + 86_400_000;
  if (kind === "on") return (d) => d.getTime() >= dayStart && d.getTime() < dayEnd;
  if (kind === "before") return (d) => d.getTime() < (dateOnly ? dayEnd : at.getTime() + 1000);
  return (d) => d.getTime() >= (dateOnly ? dayStart : at.getTime());
}

export function listMessagesRoute(store: EmulatorStore, res: ServerResponse, url: URL): void {
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
    const items = [...store.messages.values()].filter((m) => filters.every((f) => f(m))).reverse(); // newest first, like Twilio
    sendJson(res, 200, listPage({
      key: "messages",
      basePath: `/${API_VERSION}/Accounts/${store.accountSid}/Messages.json`,
      query: q,
      filterKeys: ["To", "From", "DateSent", "DateSent<", "DateSent>"],
      items,
      idOf: (m) => m.sid,
    }, (m) => messageResource(store, m)));
  } catch (error) {
    if (error instanceof TwilioApiError) return sendTwilioError(res, error);
    throw error;
  }
}
