// Inbound SMS: a phone texts a Twilio number, the number's webhook (then its fallback) gets Twilio's
// signed parameters, and TwiML <Message> replies and Advanced Opt-Out answers go back to the phone.
import { createOutbound } from "./delivery.ts";
import { countryOf, optOutKeyword, optOutReplies, sid, TwilioApiError, API_VERSION, type StoredMessage, type TwilioNumber, type WebhookOutcome } from "./model.ts";
import { countSegments } from "./segments.ts";
import type { EmulatorStore } from "./store.ts";
import { parseMessagingTwiml } from "./twiml.ts";
import { deliverWebhook, postStatusCallback, type WebhookResult } from "./webhooks.ts";

export async function receiveInbound(store: EmulatorStore, fromPhone: string, toNumber: TwilioNumber, body: string): Promise<StoredMessage> {
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
  store.messageCreated(m);
  if (keyword) {
    const key = `${toNumber.phoneNumber}|${fromPhone}`;
    if (keyword === "STOP") store.optedOut.add(key);
    if (keyword === "START") store.optedOut.delete(key);
    // With Advanced Opt-Out Twilio answers the keyword itself, even to the phone that just opted out.
    sendReply(store, toNumber.phoneNumber, fromPhone, optOutReplies[keyword], undefined, toNumber.messagingServiceSid, true);
  }
  callInboundWebhook(store, m, toNumber).catch((error) => store.log(`[twilio] inbound webhook for ${m.sid} crashed: ${(error as Error).stack}`));
  return m;
}

export function inboundParams(store: EmulatorStore, m: StoredMessage): Record<string, string> {
  const params: Record<string, string> = {
    ToCountry: countryOf(m.to), ToState: "", ToCity: "", ToZip: "",
    SmsMessageSid: m.sid, NumMedia: "0", SmsSid: m.sid, SmsStatus: "received",
    FromCountry: countryOf(m.from), FromState: "", FromCity: "", FromZip: "",
    Body: m.body, To: m.to, From: m.from, NumSegments: String(m.numSegments),
    MessageSid: m.sid, AccountSid: store.accountSid, ApiVersion: API_VERSION,
  };
  if (m.messagingServiceSid) params.MessagingServiceSid = m.messagingServiceSid;
  if (m.optOutType) params.OptOutType = m.optOutType;
  return params;
}

/** A webhook result as the message shows it. */
function outcomeOf(result: WebhookResult): Omit<WebhookOutcome, "fallback"> {
  return {
    url: result.url,
    state: result.ok ? "delivered" : "failed",
    httpStatus: result.entry.httpStatus,
    errorCode: result.entry.errorCode,
    error: result.entry.error,
    durationMs: result.entry.durationMs,
    attempts: result.attempts,
  };
}

/** Sends the TwiML <Message> replies of a webhook's answer; returns the parse problem, if any. */
function replyWithTwiml(store: EmulatorStore, m: StoredMessage, toNumber: TwilioNumber, responseText: string) {
  const twiml = parseMessagingTwiml(responseText);
  if (twiml.warning) store.log(`[twilio] ${m.sid}: ${twiml.warning}`);
  for (const reply of twiml.messages) {
    sendReply(store, reply.from ?? m.to, reply.to ?? m.from, reply.body.trim(), reply.statusCallback, toNumber.messagingServiceSid, false);
  }
  return twiml.warning ? { code: twiml.errorCode ?? 12100, message: twiml.warning } : undefined;
}

/**
 * Delivers an inbound message as Twilio does: the number's SmsUrl (with the retries its connection
 * overrides ask for); when that fails or answers unusable TwiML, its SmsFallbackUrl with ErrorCode
 * and ErrorUrl added. The outcome of both is kept on the message.
 */
export async function callInboundWebhook(store: EmulatorStore, m: StoredMessage, toNumber: TwilioNumber): Promise<WebhookOutcome> {
  const myGeneration = store.generation;
  const configured = toNumber.smsUrl;
  if (!configured) {
    m.webhook = { url: null, state: "failed", error: `no SMS webhook URL configured for ${toNumber.phoneNumber}` };
    store.publish("message.status", { message: store.messageView(m) }, [m.from, m.to]);
    return m.webhook;
  }
  m.webhook = { url: configured.split("#")[0], state: "pending" };
  const params = inboundParams(store, m);
  const primary = await deliverWebhook(store, { kind: "inbound", configuredUrl: configured, method: toNumber.smsMethod, params, messageSid: m.sid });
  if (myGeneration !== store.generation) return m.webhook;
  const outcome: WebhookOutcome = outcomeOf(primary);
  let errorCode = primary.ok ? undefined : primary.entry.errorCode;
  if (primary.ok) {
    const problem = replyWithTwiml(store, m, toNumber, primary.responseText);
    if (problem) {
      outcome.error = problem.message;
      errorCode = problem.code;
    }
  }
  if (errorCode !== undefined && toNumber.smsFallbackUrl) {
    const fallback = await deliverWebhook(store, {
      kind: "inbound",
      configuredUrl: toNumber.smsFallbackUrl,
      method: toNumber.smsFallbackMethod,
      params: { ...params, ErrorCode: String(errorCode), ErrorUrl: primary.url },
      messageSid: m.sid,
      fallback: true,
    });
    if (myGeneration !== store.generation) return m.webhook;
    outcome.fallback = outcomeOf(fallback);
    if (fallback.ok) {
      const problem = replyWithTwiml(store, m, toNumber, fallback.responseText);
      if (problem) outcome.fallback.error = problem.message;
    }
  }
  m.webhook = outcome;
  store.publish("message.status", { message: store.messageView(m) }, [m.from, m.to]);
  return m.webhook;
}

/** A reply Twilio itself sends (TwiML <Message> or an opt-out answer); errors end as a failed message, as in Twilio. */
export function sendReply(
  store: EmulatorStore,
  from: string,
  to: string,
  body: string,
  statusCallback: string | undefined,
  messagingServiceSid: string | null,
  bypassOptOut: boolean,
): void {
  try {
    const m = createOutbound(store, { to, from, body, statusCallback, direction: "outbound-reply", bypassOptOut }, null);
    if (messagingServiceSid) m.messagingServiceSid = messagingServiceSid;
  } catch (error) {
    if (!(error instanceof TwilioApiError)) throw error;
    const now = new Date();
    const segments = countSegments(body);
    const m: StoredMessage = {
      sid: sid("SM"), from, to, body, status: "failed", direction: "outbound-reply", messagingServiceSid,
      statusCallback: statusCallback ?? null, dateCreated: now, dateUpdated: now, dateSent: null,
      errorCode: error.code, errorMessage: error.message, numSegments: segments.segments, encoding: segments.encoding,
    };
    store.messageCreated(m);
    if (m.statusCallback) postStatusCallback(store, m).catch(() => {});
  }
}
