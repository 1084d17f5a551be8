// Events and their signed delivery to webhook endpoints, as Stripe does it: one POST per event
// and endpoint with `Stripe-Signature: t=<unix>,v1=<HMAC-SHA256(secret, "t.body")>`, success on
// any 2xx, retries with backoff on anything else (including redirects and timeouts). Each
// endpoint gets its first attempts in event order; retries fall behind newer events, so ordering
// is not guaranteed, exactly as Stripe warns. Controls can hold deliveries and release them
// reordered or doubled, and replay any event.
import Stripe from "stripe";
import type { AttemptRec, DeliveryRec, EndpointRec, EventRec } from "./records.ts";
import { eventShape } from "./shapes-checkout.ts";
import { randomId, type Store } from "./store.ts";

export type ReleaseOrder = "created" | "reverse" | "shuffle";

const maxEventsKept = 20_000;
const maxResponseBodyKept = 500;

export class Webhooks {
  /** While held, new deliveries wait for `release()` instead of being sent. */
  held = false;
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<AbortController>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly store: Store,
    private readonly apiVersion: string,
    private readonly log: (line: string) => void,
  ) {}

  // ------------------------------------------------------------------ endpoints

  addEndpoint(input: { url: string; secret?: string; enabledEvents?: string[]; description?: string | null }): EndpointRec {
    const url = new URL(input.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("url must be http or https");
    if (input.secret !== undefined && !/^whsec_\S{8,}$/.test(input.secret)) throw new Error("secret must look like whsec_ followed by at least 8 characters");
    const existing = [...this.store.endpoints.values()].find((e) => e.url === input.url);
    const endpoint: EndpointRec = existing ?? {
      id: randomId("we_"),
      created: this.store.now(),
      seq: this.store.nextSeq(),
      url: input.url,
      secret: input.secret ?? randomId("whsec_", 32),
      enabledEvents: ["*"],
      description: null,
    };
    if (input.secret !== undefined) endpoint.secret = input.secret;
    if (input.enabledEvents !== undefined) endpoint.enabledEvents = input.enabledEvents.length ? input.enabledEvents : ["*"];
    if (input.description !== undefined) endpoint.description = input.description;
    this.store.endpoints.set(endpoint.id, endpoint);
    this.store.changed();
    return endpoint;
  }

  removeEndpoint(id: string): boolean {
    if (!this.store.endpoints.delete(id)) return false;
    // Stripe stops retrying for an endpoint that is deleted.
    for (const delivery of this.store.deliveries.values()) {
      if (delivery.endpointId === id && (delivery.state === "pending" || delivery.state === "held")) {
        delivery.state = "failed";
        delivery.nextAttemptAt = null;
      }
    }
    this.store.changed();
    return true;
  }

  // ------------------------------------------------------------------ events

  emit(
    type: string,
    object: { id: string },
    previousAttributes: Record<string, unknown> | null,
    request: EventRec["request"],
  ): EventRec {
    const event: EventRec = {
      id: randomId("evt_"),
      created: this.store.now(),
      seq: this.store.nextSeq(),
      type,
      objectId: object.id,
      // A snapshot: the event shows the object as it was when the event happened.
      object: structuredClone(object) as Record<string, unknown>,
      previousAttributes,
      request,
      apiVersion: this.apiVersion,
    };
    this.store.events.set(event.id, event);
    for (const endpoint of this.store.endpoints.values()) {
      if (!endpoint.enabledEvents.includes("*") && !endpoint.enabledEvents.includes(type)) continue;
      this.addDelivery(event, endpoint, "automatic", this.held ? "held" : "pending");
    }
    this.prune();
    this.store.changed();
    this.pump();
    return event;
  }

  private addDelivery(event: EventRec, endpoint: EndpointRec, kind: DeliveryRec["kind"], state: "held" | "pending"): DeliveryRec {
    const delivery: DeliveryRec = {
      id: randomId("whd_"),
      seq: this.store.nextSeq(),
      eventId: event.id,
      endpointId: endpoint.id,
      state,
      kind,
      attempts: [],
      nextAttemptAt: state === "pending" ? this.store.nowMs() : null,
    };
    this.store.deliveries.set(delivery.id, delivery);
    return delivery;
  }

  /** Sends the event again to one endpoint or all of them (the Dashboard's "Resend"): one attempt each. */
  replay(eventId: string, endpointId?: string): DeliveryRec[] {
    const event = this.store.events.get(eventId);
    if (!event) throw new Error(`no such event: ${eventId}`);
    const endpoints = endpointId ? [this.store.endpoints.get(endpointId)].filter((e) => e !== undefined) : [...this.store.endpoints.values()];
    if (endpointId && endpoints.length === 0) throw new Error(`no such endpoint: ${endpointId}`);
    const created = endpoints.map((endpoint) => this.addDelivery(event, endpoint, "replay", "pending"));
    this.store.changed();
    this.pump();
    return created;
  }

  hold(): void {
    this.held = true;
  }

  /**
   * Sends every held delivery now, in the given order (`created`, `reverse`, or `shuffle` with an
   * optional seed); with `duplicate`, each event is sent a second time after all of them.
   */
  release(options: { order?: ReleaseOrder; duplicate?: boolean; seed?: number } = {}): DeliveryRec[] {
    this.held = false;
    const heldDeliveries = [...this.store.deliveries.values()].filter((d) => d.state === "held").sort((a, b) => a.seq - b.seq);
    const ordered = reorder(heldDeliveries, options.order ?? "created", options.seed);
    const now = this.store.nowMs();
    const released: DeliveryRec[] = [];
    for (const delivery of ordered) {
      delivery.seq = this.store.nextSeq();
      delivery.state = "pending";
      delivery.nextAttemptAt = now;
      released.push(delivery);
    }
    if (options.duplicate) {
      for (const original of ordered) {
        const event = this.store.events.get(original.eventId);
        const endpoint = this.store.endpoints.get(original.endpointId);
        if (event && endpoint) released.push(this.addDelivery(event, endpoint, "duplicate", "pending"));
      }
    }
    this.store.changed();
    this.pump();
    return released;
  }

  // ------------------------------------------------------------------ sending

  /** Starts every endpoint's next due delivery and arms a timer for the next one due later. */
  pump(): void {
    if (this.closed) return;
    const now = this.store.nowMs();
    const nextByEndpoint = new Map<string, DeliveryRec>();
    let nextDue = Infinity;
    for (const delivery of this.store.deliveries.values()) {
      if (delivery.state !== "pending" || delivery.nextAttemptAt === null) continue;
      if (delivery.nextAttemptAt > now) {
        nextDue = Math.min(nextDue, delivery.nextAttemptAt);
        continue;
      }
      const current = nextByEndpoint.get(delivery.endpointId);
      if (!current || delivery.nextAttemptAt < current.nextAttemptAt! || (delivery.nextAttemptAt === current.nextAttemptAt && delivery.seq < current.seq)) {
        nextByEndpoint.set(delivery.endpointId, delivery);
      }
    }
    for (const [endpointId, delivery] of nextByEndpoint) {
      if (this.busy.has(endpointId)) continue;
      this.busy.add(endpointId);
      void this.send(delivery).finally(() => {
        this.busy.delete(endpointId);
        this.pump();
      });
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (nextDue !== Infinity) {
      this.timer = setTimeout(() => this.pump(), Math.min(Math.max(nextDue - now, 1), 2 ** 31 - 1));
    }
    if (this.busy.size === 0 && nextByEndpoint.size === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  /** Resolves when nothing is being sent and nothing is due now (later retries may remain). */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.idle.push(resolve);
      this.pump();
    });
  }

  private async send(delivery: DeliveryRec): Promise<void> {
    const event = this.store.events.get(delivery.eventId);
    const endpoint = this.store.endpoints.get(delivery.endpointId);
    if (!event || !endpoint) {
      delivery.state = "failed";
      delivery.nextAttemptAt = null;
      return;
    }
    delivery.state = "sending";
    const payload = JSON.stringify(eventShape(this.store, event), null, 2);
    // Signed with real time, as Stripe signs test-clock events: receivers check it against their clock.
    const header = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: endpoint.secret, timestamp: Math.floor(Date.now() / 1000) });
    const started = Date.now();
    const attempt: AttemptRec = { at: new Date(started).toISOString(), ok: false, httpStatus: null, error: null, durationMs: 0, responseBody: null };
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(new Error("timeout")), this.store.settings.webhookTimeoutMs);
    try {
      const response = await fetch(endpoint.url, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          accept: "*/*; q=0.5, application/xml",
          "cache-control": "no-cache",
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          "stripe-signature": header,
        },
        body: payload,
        redirect: "manual",
        signal: controller.signal,
      });
      attempt.httpStatus = response.status;
      attempt.responseBody = (await response.text()).slice(0, maxResponseBodyKept);
      attempt.ok = response.status >= 200 && response.status < 300;
      if (!attempt.ok) attempt.error = `HTTP ${response.status}`;
    } catch (error) {
      attempt.error = controller.signal.aborted
        ? this.closed ? "emulator closed" : `timed out after ${this.store.settings.webhookTimeoutMs} ms`
        : `connection failed: ${String((error as Error).cause ?? (error as Error).message)}`;
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
    attempt.durationMs = Date.now() - started;
    delivery.attempts.push(attempt);
    if (attempt.ok) {
      delivery.state = "succeeded";
      delivery.nextAttemptAt = null;
    } else {
      const retryIndex = delivery.attempts.length - 1;
      const schedule = this.store.settings.webhookRetrySchedule;
      if (delivery.kind !== "replay" && retryIndex < schedule.length && !this.closed) {
        delivery.state = "pending";
        delivery.nextAttemptAt = this.store.nowMs() + schedule[retryIndex] * 1000;
      } else {
        delivery.state = "failed";
        delivery.nextAttemptAt = null;
      }
      this.log(`[stripe] webhook ${event.type} ${event.id} -> ${endpoint.url}: ${attempt.error} (${delivery.state === "pending" ? "will retry" : "gave up"})`);
    }
    this.store.changed();
  }

  private prune(): void {
    if (this.store.events.size <= maxEventsKept) return;
    const oldest = [...this.store.events.values()].sort((a, b) => a.seq - b.seq).slice(0, this.store.events.size - maxEventsKept);
    const gone = new Set(oldest.map((e) => e.id));
    for (const id of gone) this.store.events.delete(id);
    for (const [id, delivery] of this.store.deliveries) {
      if (gone.has(delivery.eventId) && delivery.state !== "pending" && delivery.state !== "held") this.store.deliveries.delete(id);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const controller of this.inFlight) controller.abort(new Error("closed"));
    for (const resolve of this.idle.splice(0)) resolve();
  }
}

function reorder<T>(items: T[], order: ReleaseOrder, seed?: number): T[] {
  if (order === "created") return items;
  if (order === "reverse") return [...items].reverse();
  const random = seededRandom(seed ?? Date.now());
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return shuffled;
}

/** xorshift32: a shuffle a test can repeat by passing the same seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}
