// Helpers for tests and tools that talk to the emulator: the official `twilio` client aimed at it,
// and a small typed client for the /emulator control API and its event stream.
import twilio from "twilio";
import type { TwilioNumber, WebhookLogEntry, WebhookOutcome } from "./model.ts";

type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>["request"]>[0];

/**
 * twilio-node always builds https://<product>.twilio.com URLs (edge/region only change the host name),
 * so the supported way to aim it elsewhere is a custom httpClient: this one swaps the origin.
 */
export class EmulatorRequestClient extends twilio.RequestClient {
  constructor(
    private readonly emulatorUrl: string,
    opts: ConstructorParameters<typeof twilio.RequestClient>[0] = {},
  ) {
    super(opts);
  }

  override request<TData>(opts: RequestOptions & { data?: TData }) {
    const target = new URL(opts.uri);
    const base = new URL(this.emulatorUrl);
    target.protocol = base.protocol;
    target.host = base.host;
    return super.request<TData>({ ...opts, uri: target.toString() });
  }
}

/** `twilio(accountSid, authToken)` whose REST calls land on the emulator at `emulatorUrl`. */
export function emulatorTwilioClient(emulatorUrl: string, accountSid: string, authToken: string, timeoutMs?: number) {
  return twilio(accountSid, authToken, {
    httpClient: new EmulatorRequestClient(emulatorUrl, timeoutMs ? { timeout: timeoutMs } : {}),
  });
}

export interface EmulatorMessage {
  sid: string;
  from: string;
  to: string;
  body: string;
  status: string;
  direction: "inbound" | "outbound-api" | "outbound-reply";
  dateCreated: string;
  dateUpdated: string;
  dateSent: string | null;
  errorCode?: number;
  errorMessage?: string;
  numSegments: number;
  encoding: "GSM-7" | "UCS-2";
  messagingServiceSid: string | null;
  statusCallback: string | null;
  optOutType?: "STOP" | "START" | "HELP";
  webhook?: WebhookOutcome;
}

export interface EmulatorEvent {
  seq: number;
  type: string;
  message?: EmulatorMessage;
  webhook?: WebhookLogEntry;
  [key: string]: unknown;
}

/** Thin JSON client for the emulator's control API. */
export class TwilioEmulatorControl {
  constructor(readonly url: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(this.url + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  /** Gives the account a number it already had (the IncomingPhoneNumbers resource a purchase makes). */
  configureNumber(number: { phoneNumber: string; smsUrl?: string | null; smsFallbackUrl?: string | null; advancedOptOut?: boolean; messagingServiceSid?: string; friendlyName?: string }) {
    return this.call<TwilioNumber>("POST", "/emulator/numbers", number);
  }
  numbers() {
    return this.call<TwilioNumber[]>("GET", "/emulator/numbers");
  }
  inbound(text: { from: string; to: string; body: string }) {
    return this.call<{ sid: string }>("POST", "/emulator/inbound", text);
  }
  messages(phone?: string) {
    return this.call<EmulatorMessage[]>("GET", phone ? `/emulator/messages?phone=${encodeURIComponent(phone)}` : "/emulator/messages");
  }
  message(sid: string) {
    return this.call<EmulatorMessage>("GET", `/emulator/messages/${sid}`);
  }
  redeliver(sid: string) {
    return this.call<{ sid: string }>("POST", `/emulator/messages/${sid}/redeliver`);
  }
  fault(fault: { mode: "http500" | "http429" | "timeout" | "error"; code?: number; count?: number; rate?: number; hangMs?: number; afterHang?: "504" | "close"; accepted?: boolean; seed?: number }) {
    return this.call<{ id: number }>("POST", "/emulator/faults", fault);
  }
  clearFaults() {
    return this.call<{ ok: true }>("DELETE", "/emulator/faults");
  }
  setPhone(phone: { phone: string; lineType: "mobile" | "landline" | "unreachable"; label?: string }) {
    return this.call<unknown>("POST", "/emulator/phones", phone);
  }
  reset(options: { keepNumbers?: boolean } = {}) {
    return this.call<{ ok: true }>("POST", "/emulator/reset", options);
  }
  webhooks(messageSid?: string) {
    return this.call<WebhookLogEntry[]>("GET", messageSid ? `/emulator/webhooks?messageSid=${messageSid}` : "/emulator/webhooks");
  }

  /** Seq of the newest event so far; pass it as `afterSeq` to see only what happens next. */
  async lastSeq(): Promise<number> {
    return (await this.call<{ lastEventSeq: number }>("GET", "/emulator/info")).lastEventSeq;
  }

  /**
   * Opens the live event stream and resolves once it is connected, so nothing that happens after
   * this call is missed. `afterSeq` also replays earlier events.
   */
  async events(options: { afterSeq?: number; phone?: string } = {}): Promise<EmulatorEventStream> {
    const params = new URLSearchParams();
    if (options.afterSeq !== undefined) params.set("after", String(options.afterSeq));
    if (options.phone) params.set("phone", options.phone);
    const stream = new EmulatorEventStream(`${this.url}/emulator/events?${params}`);
    await stream.ready;
    return stream;
  }
}

/** Buffered reader of GET /emulator/events: `next(predicate)` finds a past or future matching event. */
export class EmulatorEventStream {
  readonly ready: Promise<void>;
  private readonly seen: EmulatorEvent[] = [];
  private readonly waiters = new Set<{ predicate: (e: EmulatorEvent) => boolean; resolve: (e: EmulatorEvent) => void }>();
  private readonly controller = new AbortController();
  private failure: Error | null = null;

  constructor(url: string) {
    let markReady!: () => void;
    let failReady!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    void (async () => {
      try {
        const response = await fetch(url, { signal: this.controller.signal });
        if (!response.ok || !response.body) throw new Error(`event stream answered ${response.status}: ${await response.text()}`);
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of response.body) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
            if (!data) continue;
            const event = JSON.parse(data) as EmulatorEvent;
            if (event.type === "ready") {
              markReady();
              continue;
            }
            this.seen.push(event);
            for (const waiter of this.waiters) {
              if (waiter.predicate(event)) {
                this.waiters.delete(waiter);
                waiter.resolve(event);
              }
            }
          }
        }
        throw new Error("event stream ended");
      } catch (error) {
        this.failure = this.controller.signal.aborted ? new Error("event stream closed") : (error as Error);
        failReady(this.failure);
      }
    })();
  }

  /** Every event received so far, oldest first. */
  get received(): readonly EmulatorEvent[] {
    return this.seen;
  }

  next(predicate: (event: EmulatorEvent) => boolean, timeoutMs = 10_000): Promise<EmulatorEvent> {
    const found = this.seen.find(predicate);
    if (found) return Promise.resolve(found);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (event: EmulatorEvent) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching emulator event within ${timeoutMs} ms (saw ${this.seen.length} events)`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Resolves with the message once `sid` reaches `status` (or a final status when `status` is omitted). */
  async messageStatus(sid: string, status?: string, timeoutMs = 10_000): Promise<EmulatorMessage> {
    const final = ["delivered", "undelivered", "failed", "received"];
    const event = await this.next(
      (e) => e.message?.sid === sid && (status ? e.message.status === status : final.includes(e.message.status)),
      timeoutMs,
    );
    return event.message!;
  }

  close(): void {
    this.controller.abort();
  }
}
