// Inbound SMS: a phone texts a Twilio number, the number's webhook gets Twilio's signed parameters, and
// TwiML <Message> replies and Advanced Opt-Out answers go back to the phone.
import { createOutbound } from "./delivery.ts";
import { countryOf, optOutKeyword, optOutReplies, sid, TwilioApiError, API_VERSION, type StoredMessage, type TwilioNumber, type WebhookOutcome } from "./model.ts";
import { countSegments } from "./segments.ts";
import type { EmulatorStore } from "./store.ts";
import { parseMessagingTwiml } from "./twiml.ts";
import { postWebhook, statusCallbackParams } from "./webhooks.ts";

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

export async function callInboundWebhook(store: EmulatorStore, m: StoredMessage, toNumber: TwilioNumber): Promise<WebhookOutcome> {
  const myGeneration = store.generation;
  const url = toNumber.smsUrl;
  if (!url) {
    m.webhook = { url: null, state: "failed", error: `no SMS webhook URL configured for ${toNumber.phoneNumber}` };
    store.publish("message.status", { message: store.messageView(m) }, [m.from, m.to]);
    return m.webhook;
  }
  m.webhook = { url, state: "pending" };
  const { entry, responseText } = await postWebhook(store, "inbound", url, inboundParams(store, m), m.sid);
  if (myGeneration !== store.generation) return m.webhook;
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
      store.log(`[twilio] ${m.sid}: ${twiml.warning}`);
    }
    for (const reply of twiml.messages) {
      sendReply(store, reply.from ?? m.to, reply.to ?? m.from, reply.body.trim(), reply.statusCallback, toNumber.messagingServiceSid, false);
    }
  }
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
    if (m.statusCallback) postWebhook(store, "status-callback", m.statusCallback, statusCallbackParams(store, m), m.sid).catch(() => {});
  }
}
