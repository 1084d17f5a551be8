// Twilio's REST API as the official client calls it (Basic auth, form bodies, Twilio's JSON and paging):
// Messages create/fetch/list with injectable faults, and IncomingPhoneNumbers' SMS URL.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { twilioError } from "./errors.ts";
import { createOutbound } from "./delivery.ts";
import { readBody, sendJson } from "./http.ts";
import { API_VERSION, rfc2822, TwilioApiError, type FaultRule, type StoredMessage, type TwilioNumber } from "./model.ts";
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
  if (rest === "/IncomingPhoneNumbers.json" && req.method === "GET") return listIncomingNumbersRoute(store, res, url);
  const incoming = /^\/IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/.exec(rest);
  if (incoming && (req.method === "POST" || req.method === "GET")) return incomingNumberRoute(store, req, res, incoming[1], path);
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
      // Hold the request past the client's patience; nothing is created, like a request lost on the way.
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
    const pageSize = Math.min(1000, Math.max(1, Number(q.get("PageSize") ?? 50) || 50));
    const page = Math.max(0, Number(q.get("Page") ?? 0) || 0);
    const all = [...store.messages.values()].filter((m) => filters.every((f) => f(m))).reverse(); // newest first, like Twilio
    const slice = all.slice(page * pageSize, (page + 1) * pageSize);
    const base = `/${API_VERSION}/Accounts/${store.accountSid}/Messages.json`;
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
      messages: slice.map((m) => messageResource(store, m)),
      next_page_uri: hasNext ? pageUri(page + 1) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      start: page * pageSize,
      uri: pageUri(page),
    });
  } catch (error) {
    if (error instanceof TwilioApiError) return sendTwilioError(res, error);
    throw error;
  }
}

export function incomingNumberResource(store: EmulatorStore, n: TwilioNumber) {
  const now = rfc2822(new Date());
  return {
    account_sid: store.accountSid,
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
    uri: `/${API_VERSION}/Accounts/${store.accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
  };
}

export function listIncomingNumbersRoute(store: EmulatorStore, res: ServerResponse, url: URL): void {
  const wanted = url.searchParams.get("PhoneNumber");
  const list = [...store.numbers.values()].filter((n) => !wanted || n.phoneNumber === wanted);
  const base = `/${API_VERSION}/Accounts/${store.accountSid}/IncomingPhoneNumbers.json`;
  sendJson(res, 200, {
    end: Math.max(0, list.length - 1),
    first_page_uri: `${base}?PageSize=50&Page=0`,
    incoming_phone_numbers: list.map((n) => incomingNumberResource(store, n)),
    next_page_uri: null,
    page: 0,
    page_size: 50,
    previous_page_uri: null,
    start: 0,
    uri: `${base}?PageSize=50&Page=0`,
  });
}

export async function incomingNumberRoute(store: EmulatorStore, req: IncomingMessage, res: ServerResponse, numberSid: string, path: string): Promise<void> {
  const n = [...store.numbers.values()].find((x) => x.sid === numberSid);
  if (!n) return sendTwilioError(res, new TwilioApiError(20404, `The requested resource ${path} was not found`));
  if (req.method === "POST") {
    const form = new URLSearchParams(await readBody(req));
    const smsUrl = form.get("SmsUrl");
    if (smsUrl !== null) {
      if (smsUrl !== "" && !/^https?:\/\//i.test(smsUrl)) return sendTwilioError(res, new TwilioApiError(21502, "SmsUrl is not valid"));
      n.smsUrl = smsUrl || null;
    }
    const friendlyName = form.get("FriendlyName");
    if (friendlyName) n.friendlyName = friendlyName;
    store.publish("number.configured", { number: n });
  }
  sendJson(res, 200, incomingNumberResource(store, n));
}
