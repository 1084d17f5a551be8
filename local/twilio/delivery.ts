// Outbound messages: validated as Twilio validates them (error codes, magic numbers, opt-outs), then driven
// queued -> sent -> delivered (or failed/undelivered) with a signed status callback after each change.
import { failedBeforeCarrier } from "./errors.ts";
import {
  alphanumericSender,
  e164,
  MAGIC_PASSING_FROM,
  magicFrom,
  magicTo,
  messagingServiceSidPattern,
  sid,
  TwilioApiError,
  type Direction,
  type MessageStatus,
  type StoredMessage,
} from "./model.ts";
import { countSegments } from "./segments.ts";
import type { EmulatorStore } from "./store.ts";
import { postStatusCallback } from "./webhooks.ts";
import { errorMessage } from "./errors.ts";


/**
 * Drives one outbound message through Twilio's states, posting a signed callback after each change. Twilio
 * never calls back for the status a message is created with (queued, or accepted with a Messaging Service):
 * the API's answer carries it. https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
 */
export async function deliver(store: EmulatorStore, m: StoredMessage, deliveryError: number | null): Promise<void> {
  const myGeneration = store.generation;
  const step = async (status: MessageStatus, errorCode: number | null = null) => {
    if (store.closed || myGeneration !== store.generation) return false;
    store.setStatus(m, status, errorCode);
    if (m.statusCallback) await postStatusCallback(store, m);
    return !store.closed && myGeneration === store.generation;
  };
  if (m.status === "accepted") {
    await store.later(Math.min(store.settings.deliveryDelayMs, 20));
    if (!(await step("queued"))) return;
  }
  await store.later(store.settings.deliveryDelayMs);
  if (deliveryError !== null && failedBeforeCarrier.has(deliveryError)) {
    await step("failed", deliveryError);
    return;
  }
  if (!(await step("sent"))) return;
  await store.later(store.settings.deliveryDelayMs);
  const lineType = store.phones.get(m.to)?.lineType ?? "mobile";
  const carrierError = deliveryError ?? (lineType === "landline" ? 30006 : lineType === "unreachable" ? 30003 : null);
  if (carrierError !== null) await step("undelivered", carrierError);
  else await step("delivered");
}

export function startDelivery(store: EmulatorStore, m: StoredMessage, deliveryError: number | null): void {
  deliver(store, m, deliveryError).catch((error) => store.log(`[twilio] delivery of ${m.sid} crashed: ${(error as Error).stack}`));
}

interface SendRequest {
  to?: string;
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  statusCallback?: string;
  direction: Direction;
  /** Twilio's own opt-out confirmations reach a phone that just opted out. */
  bypassOptOut?: boolean;
}

/** Validates like Twilio does and returns the stored message, or throws the TwilioApiError Twilio answers with. */
export function createOutbound(store: EmulatorStore, request: SendRequest, deliveryError: number | null): StoredMessage {
  const to = request.to?.trim();
  const body = request.body ?? "";
  if (!to) throw new TwilioApiError(21604);
  if (body === "") throw new TwilioApiError(21602);
  if (body.length > 1600) throw new TwilioApiError(21617);
  let from = request.from?.trim() || "";
  let messagingServiceSid: string | null = null;
  if (request.messagingServiceSid) {
    if (!messagingServiceSidPattern.test(request.messagingServiceSid)) throw new TwilioApiError(21701);
    messagingServiceSid = request.messagingServiceSid;
    if (!from) {
      const pooled = [...store.numbers.values()].find((n) => n.messagingServiceSid === messagingServiceSid);
      if (!pooled) throw new TwilioApiError(21704);
      from = pooled.phoneNumber;
    }
  }
  if (!from) throw new TwilioApiError(21603);
  if (magicFrom[from]) throw new TwilioApiError(magicFrom[from]);
  if (!e164.test(from) && !alphanumericSender.test(from)) {
    throw new TwilioApiError(21212, `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`);
  }
  // A sender must be a number the account owns (bought, or given with POST /emulator/numbers) that can text.
  if (from !== MAGIC_PASSING_FROM && !store.numbers.get(from)?.capabilities.sms) {
    throw new TwilioApiError(21606, `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination/account.`);
  }
  if (magicTo[to]) {
    const code = magicTo[to];
    throw new TwilioApiError(code, code === 21211 ? `The 'To' number ${to} is not a valid phone number.` : errorMessage(code));
  }
  if (!e164.test(to)) throw new TwilioApiError(21211, `The 'To' number ${to} is not a valid phone number.`);
  if (to === from) throw new TwilioApiError(21266);
  if (!request.bypassOptOut && store.optedOut.has(`${from}|${to}`)) throw new TwilioApiError(21610);
  if (request.statusCallback !== undefined && request.statusCallback !== "" && !/^https?:\/\//i.test(request.statusCallback)) {
    throw new TwilioApiError(21609, "Invalid StatusCallback: the URL must be an absolute http or https URL.");
  }
  const now = new Date();
  const segments = countSegments(body);
  const m: StoredMessage = {
    sid: sid("SM"),
    from,
    to,
    body,
    status: messagingServiceSid && !request.from ? "accepted" : "queued",
    direction: request.direction,
    messagingServiceSid,
    statusCallback: request.statusCallback || null,
    dateCreated: now,
    dateUpdated: now,
    dateSent: null,
    errorCode: null,
    errorMessage: null,
    numSegments: segments.segments,
    encoding: segments.encoding,
  };
  store.messageCreated(m);
  startDelivery(store, m, deliveryError);
  return m;
}
