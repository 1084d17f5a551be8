// Everything the emulator remembers (messages, numbers, phones, opt-outs, faults, the webhook log)
// and the event stream every change is published on. One store per emulator; reset clears it.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { errorMessage } from "./errors.ts";
import {
  maxEventsKept,
  type EmulatorEvent,
  type FaultRule,
  type MessageStatus,
  type PhoneSetting,
  type StoredMessage,
  type TwilioNumber,
  type WebhookLogEntry,
} from "./model.ts";

export interface EmulatorSettings {
  deliveryDelayMs: number;
  webhookTimeoutMs: number;
}

export class EmulatorStore {
  readonly messages = new Map<string, StoredMessage>();
  readonly numbers = new Map<string, TwilioNumber>();
  readonly phones = new Map<string, PhoneSetting>();
  /** `${twilioNumber}|${phone}` pairs blocked by Advanced Opt-Out until START. */
  readonly optedOut = new Set<string>();
  faults: FaultRule[] = [];
  faultIds = 0;
  readonly webhookLog: WebhookLogEntry[] = [];
  webhookIds = 0;
  readonly events: EmulatorEvent[] = [];
  seq = 0;
  readonly subscribers = new Set<{ res: ServerResponse; phone?: string }>();
  readonly timers = new Set<NodeJS.Timeout>();
  /** Ends webhook requests still in flight (close()). */
  readonly aborts = new Set<() => void>();
  closed = false;
  /** Incremented on reset so deliveries scheduled before it stop touching the new state. */
  generation = 0;
  /** Set once the server listens. */
  publicUrl = "";

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
    readonly settings: EmulatorSettings,
    readonly log: (line: string) => void,
    /** Where the account's numbers are kept between runs (a dev stack keeps the number an owner bought). */
    readonly numbersFile?: string,
  ) {
    if (numbersFile && existsSync(numbersFile)) {
      let saved: { accountSid?: string; numbers?: TwilioNumber[] };
      try {
        saved = JSON.parse(readFileSync(numbersFile, "utf8"));
      } catch (error) {
        throw new Error(`the Twilio emulator's numbers file ${numbersFile} is unreadable (${(error as Error).message}); fix or delete it`);
      }
      // Numbers belong to an account: another account's file is not this one's inventory.
      if (saved.accountSid === accountSid) for (const n of saved.numbers ?? []) this.numbers.set(n.phoneNumber, n);
    }
  }

  /** Adds or replaces a number the account owns and tells the event stream. */
  putNumber(number: TwilioNumber): void {
    this.numbers.set(number.phoneNumber, number);
    this.phones.delete(number.phoneNumber);
    this.numbersChanged();
    this.publish("number.configured", { number });
  }

  /** Releases a number: it stops receiving, its opt-outs go with it, and it can be bought again. */
  releaseNumber(number: TwilioNumber): void {
    this.numbers.delete(number.phoneNumber);
    for (const key of [...this.optedOut]) if (key.startsWith(`${number.phoneNumber}|`)) this.optedOut.delete(key);
    this.numbersChanged();
    this.publish("number.released", { number });
  }

  numbersChanged(): void {
    if (!this.numbersFile) return;
    const temporary = `${this.numbersFile}.tmp`;
    writeFileSync(temporary, JSON.stringify({ accountSid: this.accountSid, numbers: [...this.numbers.values()] }, null, 2) + "\n");
    renameSync(temporary, this.numbersFile);
  }

  /** A timer that close() cancels. */
  later(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  publish(type: string, payload: Record<string, unknown>, phonesInvolved: string[] = []): void {
    const event: EmulatorEvent = { seq: ++this.seq, type, ...payload };
    this.events.push(event);
    if (this.events.length > maxEventsKept) this.events.splice(0, this.events.length - maxEventsKept);
    const frame = `id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const sub of this.subscribers) {
      if (sub.phone && phonesInvolved.length > 0 && !phonesInvolved.includes(sub.phone)) continue;
      sub.res.write(frame);
    }
  }

  /** A message as the control API and the event stream show it. */
  messageView(m: StoredMessage) {
    return {
      sid: m.sid,
      from: m.from,
      to: m.to,
      body: m.body,
      status: m.status,
      direction: m.direction,
      dateCreated: m.dateCreated.toISOString(),
      dateUpdated: m.dateUpdated.toISOString(),
      dateSent: m.dateSent ? m.dateSent.toISOString() : null,
      ...(m.errorCode !== null ? { errorCode: m.errorCode, errorMessage: m.errorMessage } : {}),
      numSegments: m.numSegments,
      encoding: m.encoding,
      messagingServiceSid: m.messagingServiceSid,
      statusCallback: m.statusCallback,
      ...(m.optOutType ? { optOutType: m.optOutType } : {}),
      ...(m.webhook ? { webhook: m.webhook } : {}),
    };
  }

  messageCreated(m: StoredMessage): void {
    this.messages.set(m.sid, m);
    for (const phone of [m.from, m.to]) if (!this.numbers.has(phone) && !this.phones.has(phone)) this.rememberPhone(phone);
    this.publish("message.created", { message: this.messageView(m) }, [m.from, m.to]);
  }

  setStatus(m: StoredMessage, status: MessageStatus, errorCode: number | null = null): void {
    m.status = status;
    m.dateUpdated = new Date();
    if (status === "sent" && !m.dateSent) m.dateSent = m.dateUpdated;
    if (errorCode !== null) {
      m.errorCode = errorCode;
      m.errorMessage = errorMessage(errorCode);
    }
    this.publish("message.status", { message: this.messageView(m) }, [m.from, m.to]);
  }

  rememberPhone(phone: string): PhoneSetting {
    let setting = this.phones.get(phone);
    if (!setting) {
      setting = { phone, lineType: "mobile" };
      this.phones.set(phone, setting);
    }
    return setting;
  }

  faultView(rule: FaultRule) {
    return { id: rule.id, mode: rule.mode, code: rule.code, remaining: rule.remaining, rate: rule.rate, hangMs: rule.hangMs, afterHang: rule.afterHang, accepted: rule.accepted, triggered: rule.triggered };
  }
}
