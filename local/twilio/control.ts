// The emulator's own JSON control API (numbers, inbound texts, phones, faults, settings, reset) and the
// server-sent event stream the phone page and tests follow.
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, readBody, sendJson } from "./http.ts";
import { callInboundWebhook, receiveInbound } from "./inbound.ts";
import {
  e164,
  messagingServiceSidPattern,
  seededRandom,
  type EmulatorEvent,
  type FaultMode,
  type FaultRule,
  type LineType,
  type TwilioNumber,
} from "./model.ts";
import { newNumberRecord } from "./numbers-api.ts";
import type { EmulatorStore } from "./store.ts";

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

export function phoneThreads(store: EmulatorStore, phone: string) {
  return [...store.messages.values()].filter((m) => m.from === phone || m.to === phone).map((m) => store.messageView(m));
}

export async function handleControl(store: EmulatorStore, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  const method = req.method ?? "GET";
  const route = `${method} ${path}`;

  if (route === "GET /emulator/events") return openEventStream(store, req, res, url);

  if (route === "POST /emulator/numbers") {
    // Gives the account a number it already had (ported in, bought before this run): the same
    // IncomingPhoneNumbers resource a purchase makes, configured in one call.
    const input = await readJson(req);
    const phoneNumber = requirePhone(input.phoneNumber, "phoneNumber");
    const smsUrl = optionalUrl(input.smsUrl, "smsUrl");
    const smsFallbackUrl = optionalUrl(input.smsFallbackUrl, "smsFallbackUrl");
    if (smsFallbackUrl && !smsUrl) throw new HttpError(400, "smsFallbackUrl needs an smsUrl (Twilio error 21406)");
    if (input.advancedOptOut !== undefined && typeof input.advancedOptOut !== "boolean") throw new HttpError(400, "advancedOptOut must be a boolean");
    const messagingServiceSid = input.messagingServiceSid ?? null;
    if (messagingServiceSid !== null && (typeof messagingServiceSid !== "string" || !messagingServiceSidPattern.test(messagingServiceSid))) {
      throw new HttpError(400, "messagingServiceSid must be MG + 32 hex digits");
    }
    if (input.friendlyName !== undefined && typeof input.friendlyName !== "string") throw new HttpError(400, "friendlyName must be a string");
    const existing = store.numbers.get(phoneNumber);
    const number: TwilioNumber = {
      ...(existing ?? newNumberRecord(phoneNumber, "hosted")),
      smsUrl,
      smsFallbackUrl,
      advancedOptOut: (input.advancedOptOut as boolean | undefined) ?? existing?.advancedOptOut ?? false,
      messagingServiceSid: messagingServiceSid as string | null,
      friendlyName: (input.friendlyName as string | undefined) ?? existing?.friendlyName ?? phoneNumber,
      dateUpdated: new Date().toISOString(),
    };
    store.putNumber(number);
    return sendJson(res, existing ? 200 : 201, number);
  }
  if (route === "GET /emulator/numbers") return sendJson(res, 200, [...store.numbers.values()]);

  if (route === "POST /emulator/inbound") {
    const input = await readJson(req);
    const from = requirePhone(input.from, "from");
    const to = requirePhone(input.to, "to");
    if (typeof input.body !== "string") throw new HttpError(400, "body must be a string");
    if (input.body.length > 1600) throw new HttpError(400, "body must be at most 1600 characters");
    const number = store.numbers.get(to);
    if (!number) throw new HttpError(404, `${to} is not a number of this Twilio account; buy it (IncomingPhoneNumbers) or add it with POST /emulator/numbers`);
    if (store.numbers.has(from)) throw new HttpError(400, `from ${from} is a Twilio number; inbound texts come from phones`);
    const m = await receiveInbound(store, from, number, input.body);
    return sendJson(res, 201, { sid: m.sid });
  }

  if (method === "GET" && path === "/emulator/messages") {
    const phone = url.searchParams.get("phone");
    if (phone === null) return sendJson(res, 200, [...store.messages.values()].map((m) => store.messageView(m)));
    return sendJson(res, 200, phoneThreads(store, requirePhone(phoneQuery(phone), "phone")));
  }
  const oneMessage = /^\/emulator\/messages\/(SM[0-9a-f]{32})(\/redeliver)?$/.exec(path);
  if (oneMessage) {
    const m = store.messages.get(oneMessage[1]);
    if (!m) throw new HttpError(404, `no message ${oneMessage[1]}`);
    if (method === "GET" && !oneMessage[2]) return sendJson(res, 200, store.messageView(m));
    if (method === "POST" && oneMessage[2]) {
      // Replays the same inbound webhook (same MessageSid), as Twilio does when it retries.
      const number = store.numbers.get(m.to);
      if (m.direction !== "inbound" || !number) throw new HttpError(400, "only inbound messages to a configured number can be redelivered");
      const outcome = await callInboundWebhook(store, m, number);
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
    const accepted = input.accepted ?? false;
    if (typeof accepted !== "boolean") throw new HttpError(400, "accepted must be a boolean");
    if (accepted && mode !== "timeout") throw new HttpError(400, 'accepted applies to mode "timeout" only');
    const rule: FaultRule = {
      id: ++store.faultIds, mode, code: code as number | null, remaining: count as number | null, rate,
      hangMs: hangMs as number, afterHang, accepted, triggered: 0,
      random: seed !== undefined ? seededRandom(seed as number) : Math.random,
    };
    store.faults.push(rule);
    store.publish("faults.changed", { faults: store.faults.map((rule) => store.faultView(rule)) });
    return sendJson(res, 201, store.faultView(rule));
  }
  if (route === "GET /emulator/faults") return sendJson(res, 200, store.faults.map((rule) => store.faultView(rule)));
  if (route === "DELETE /emulator/faults") {
    store.faults = [];
    store.publish("faults.changed", { faults: [] });
    return sendJson(res, 200, { ok: true });
  }

  if (route === "POST /emulator/phones") {
    const input = await readJson(req);
    const phone = requirePhone(input.phone, "phone");
    const lineTypes: LineType[] = ["mobile", "landline", "unreachable"];
    if (!lineTypes.includes(input.lineType as LineType)) throw new HttpError(400, `lineType must be one of ${lineTypes.join(", ")}`);
    if (input.label !== undefined && typeof input.label !== "string") throw new HttpError(400, "label must be a string");
    if (store.numbers.has(phone)) throw new HttpError(400, `${phone} is a Twilio number, not a phone`);
    const setting = store.rememberPhone(phone);
    setting.lineType = input.lineType as LineType;
    if (input.label !== undefined) setting.label = (input.label as string) || undefined;
    store.publish("phone.updated", { phone: setting }, [phone]);
    return sendJson(res, 200, setting);
  }
  if (route === "GET /emulator/phones") return sendJson(res, 200, [...store.phones.values()]);

  if (route === "GET /emulator/webhooks") {
    const messageSid = url.searchParams.get("messageSid");
    return sendJson(res, 200, store.webhookLog.filter((w) => !messageSid || w.messageSid === messageSid));
  }

  if (route === "GET /emulator/settings") return sendJson(res, 200, store.settings);
  if (route === "POST /emulator/settings") {
    const input = await readJson(req);
    for (const key of ["deliveryDelayMs", "webhookTimeoutMs"] as const) {
      if (input[key] === undefined) continue;
      if (!Number.isInteger(input[key]) || (input[key] as number) < 0) throw new HttpError(400, `${key} must be a non-negative integer`);
      store.settings[key] = input[key] as number;
    }
    return sendJson(res, 200, store.settings);
  }

  if (route === "POST /emulator/reset") {
    const input = await readJson(req);
    store.generation++;
    store.messages.clear();
    if (input.keepNumbers !== true) {
      store.numbers.clear();
      store.numbersChanged();
    }
    store.phones.clear();
    store.optedOut.clear();
    store.faults = [];
    store.webhookLog.length = 0;
    store.publish("reset", {});
    return sendJson(res, 200, { ok: true });
  }

  if (route === "GET /emulator/info") {
    return sendJson(res, 200, { accountSid: store.accountSid, url: store.publicUrl, phoneUrl: `${store.publicUrl}/phone`, apiBaseUrl: store.publicUrl, eventsUrl: `${store.publicUrl}/emulator/events`, lastEventSeq: store.seq });
  }

  throw new HttpError(404, `no emulator route ${route}`);
}

export function openEventStream(store: EmulatorStore, req: IncomingMessage, res: ServerResponse, url: URL): void {
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
    for (const event of store.events) {
      if (event.seq <= after) continue;
      const involved = involvedPhones(event);
      if (phone && involved.length > 0 && !involved.includes(phone)) continue;
      res.write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
    }
  }
  res.write(`data: ${JSON.stringify({ seq: store.seq, type: "ready" })}\n\n`);
  store.subscribers.add(sub);
  const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
  req.on("close", () => {
    clearInterval(keepAlive);
    store.subscribers.delete(sub);
  });
}

function involvedPhones(event: EmulatorEvent): string[] {
  const message = event.message as { from?: string; to?: string } | undefined;
  if (message?.from && message.to) return [message.from, message.to];
  const phone = event.phone as { phone?: string } | undefined;
  return phone?.phone ? [phone.phone] : [];
}
