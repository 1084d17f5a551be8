// The /emulator control API (JSON in and out, `{error}` on 400/404): webhook endpoints, the
// clock, event and delivery logs, hold/release/replay of deliveries, settings, test shortcuts
// (pay a checkout session, change a customer's card) and reset. No auth: it is a local tool.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { Core } from "./core.ts";
import { StripeApiError } from "./errors.ts";
import { completeCheckout, replaceDefaultCard } from "./payments.ts";
import type { DeliveryRec, EventRec } from "./records.ts";
import { eventShape } from "./shapes-checkout.ts";
import { defaultSettings } from "./store.ts";

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const endpointBody = z.object({
  url: z.string().url(),
  secret: z.string().regex(/^whsec_\S{8,}$/, "secret must be whsec_ followed by at least 8 characters").optional(),
  enabledEvents: z.array(z.string().min(1)).optional(),
  description: z.string().max(5000).nullable().optional(),
}).strict();

const advanceBody = z.object({
  seconds: z.number().nonnegative().optional(),
  days: z.number().nonnegative().optional(),
  to: z.number().int().positive().optional(),
}).strict().refine((b) => [b.seconds, b.days, b.to].filter((v) => v !== undefined).length === 1, "give exactly one of seconds, days, to (unix seconds)");

const settingsBody = z.object({
  webhookRetrySchedule: z.array(z.number().nonnegative().max(30 * 86400)).max(50).optional(),
  webhookTimeoutMs: z.number().int().min(1).max(600_000).optional(),
  dunning: z.object({
    retryDays: z.array(z.number().positive().max(60)).max(10).optional(),
    afterFinalAttempt: z.enum(["cancel", "unpaid", "past_due"]).optional(),
  }).strict().optional(),
  invoiceFinalizeDelaySeconds: z.number().int().nonnegative().max(72 * 3600).optional(),
  incompleteExpirySeconds: z.number().int().positive().optional(),
  checkoutExpirySeconds: z.number().int().min(1800).max(86400).optional(),
  trialWillEndSeconds: z.number().int().nonnegative().optional(),
}).strict();

const releaseBody = z.object({
  order: z.enum(["created", "reverse", "shuffle"]).optional(),
  duplicate: z.boolean().optional(),
  seed: z.number().int().optional(),
}).strict();

const cardBody = z.object({
  card: z.string().min(1),
  expiry: z.string().optional(),
  cvc: z.string().optional(),
  email: z.string().email().optional(),
  name: z.string().max(200).optional(),
}).strict();

const customerCardBody = z.object({ card: z.string().min(1), chargeOpenInvoices: z.boolean().optional() }).strict();
const resetBody = z.object({ keepCatalog: z.boolean().optional(), keepEndpoints: z.boolean().optional() }).strict();
const replayBody = z.object({ endpointId: z.string().optional() }).strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw new ControlError(400, result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
  return result.data;
}

function deliveryView(d: DeliveryRec) {
  return { id: d.id, eventId: d.eventId, endpointId: d.endpointId, kind: d.kind, state: d.state, attempts: d.attempts, nextAttemptAt: d.nextAttemptAt === null ? null : new Date(d.nextAttemptAt).toISOString() };
}

function eventView(core: Core, e: EventRec) {
  const deliveries = [...core.store.deliveries.values()].filter((d) => d.eventId === e.id).sort((a, b) => a.seq - b.seq).map(deliveryView);
  return { seq: e.seq, id: e.id, type: e.type, created: e.created, objectId: e.objectId, deliveries };
}

/** A test card "number" with the defaults a person would type for the rest. */
function entryFrom(body: { card: string; expiry?: string; cvc?: string }, nowMs: number) {
  const year = new Date(nowMs).getUTCFullYear() + 5;
  const [month, yy] = (body.expiry ?? `12/${year}`).split("/").map((s) => Number(s.trim()));
  const number = body.card.replace(/[\s-]/g, "");
  return { number, expMonth: month || 0, expYear: yy || 0, cvc: body.cvc ?? (number.startsWith("3") ? "1234" : "123") };
}

export async function handleControl(core: Core, req: IncomingMessage, res: ServerResponse, url: URL, extra: { secretKey: string; publishableKey: string; resetApi: () => void }): Promise<void> {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" });
    res.end(JSON.stringify(body, null, 2));
  };
  try {
    let body: unknown = undefined;
    if (req.method === "POST" || req.method === "PUT") {
      let text = "";
      for await (const chunk of req) {
        text += chunk;
        if (text.length > 100_000) throw new ControlError(413, "body too large");
      }
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new ControlError(400, "body must be JSON");
        }
      }
    }
    const result = await route(core, req.method ?? "GET", url, body, extra);
    send(result.status ?? 200, result.body);
  } catch (error) {
    if (error instanceof ControlError) return send(error.status, { error: error.message });
    if (error instanceof StripeApiError) return send(error.status, { error: error.body.message, stripeError: error.body });
    core.log(`[stripe] control ${req.method} ${url.pathname} crashed: ${(error as Error).stack}`);
    send(500, { error: (error as Error).message });
  }
}

async function route(core: Core, method: string, url: URL, body: unknown, extra: { secretKey: string; publishableKey: string; resetApi: () => void }): Promise<{ status?: number; body: unknown }> {
  const { store, webhooks } = core;
  const path = url.pathname.replace(/\/$/, "");
  const clock = () => ({ now: store.now(), iso: new Date(store.nowMs()).toISOString(), offsetSeconds: Math.round(store.clockOffsetMs / 1000) });
  let m: RegExpExecArray | null;

  if (method === "GET" && path === "/emulator/info") {
    return { body: { url: core.publicUrl, apiBase: core.publicUrl, secretKey: extra.secretKey, publishableKey: extra.publishableKey, apiVersion: core.apiVersion, clock: clock(), held: webhooks.held, endpoints: [...store.endpoints.values()], lastEventSeq: Math.max(0, ...[...store.events.values()].map((e) => e.seq)) } };
  }
  if (method === "GET" && path === "/emulator/clock") return { body: clock() };
  if (method === "POST" && path === "/emulator/clock/advance") {
    const b = parse(advanceBody, body);
    const target = b.to !== undefined ? b.to * 1000 : store.nowMs() + (b.seconds ?? (b.days ?? 0) * 86400) * 1000;
    if (target < store.nowMs()) throw new ControlError(400, "the clock only moves forward");
    const before = Math.max(0, ...[...store.events.values()].map((e) => e.seq));
    core.advanceClock(target);
    const caused = [...store.events.values()].filter((e) => e.seq > before).sort((a, b) => a.seq - b.seq).map((e) => ({ id: e.id, type: e.type, objectId: e.objectId, created: e.created }));
    return { body: { ...clock(), events: caused } };
  }
  if (path === "/emulator/settings") {
    if (method === "POST") {
      const b = parse(settingsBody, body);
      store.settings = { ...store.settings, ...b, dunning: { ...store.settings.dunning, ...b.dunning } };
      store.changed();
      core.kick();
    } else if (method === "DELETE") {
      store.settings = structuredClone(defaultSettings);
      store.changed();
    }
    return { body: store.settings };
  }
  if (path === "/emulator/webhook-endpoints") {
    if (method === "POST") {
      const b = parse(endpointBody, body);
      try {
        return { status: 201, body: webhooks.addEndpoint(b) };
      } catch (error) {
        throw new ControlError(400, (error as Error).message);
      }
    }
    if (method === "GET") return { body: [...store.endpoints.values()] };
  }
  if (method === "DELETE" && (m = /^\/emulator\/webhook-endpoints\/([^/]+)$/.exec(path))) {
    if (!webhooks.removeEndpoint(m[1])) throw new ControlError(404, `no such endpoint: ${m[1]}`);
    return { body: { deleted: true } };
  }
  if (method === "GET" && path === "/emulator/events") {
    const type = url.searchParams.get("type");
    const objectId = url.searchParams.get("objectId");
    const after = Number(url.searchParams.get("after") ?? 0);
    const events = [...store.events.values()].filter((e) => e.seq > after && (!type || e.type === type) && (!objectId || e.objectId === objectId)).sort((a, b) => a.seq - b.seq);
    return { body: events.map((e) => eventView(core, e)) };
  }
  if (method === "GET" && (m = /^\/emulator\/events\/([^/]+)$/.exec(path))) {
    const event = store.events.get(m[1]);
    if (!event) throw new ControlError(404, `no such event: ${m[1]}`);
    return { body: { ...eventView(core, event), event: eventShape(store, event) } };
  }
  if (method === "POST" && (m = /^\/emulator\/events\/([^/]+)\/replay$/.exec(path))) {
    const b = parse(replayBody, body);
    if (!store.events.has(m[1])) throw new ControlError(404, `no such event: ${m[1]}`);
    try {
      return { body: webhooks.replay(m[1], b.endpointId).map(deliveryView) };
    } catch (error) {
      throw new ControlError(404, (error as Error).message);
    }
  }
  if (method === "GET" && path === "/emulator/deliveries") {
    const state = url.searchParams.get("state");
    const eventId = url.searchParams.get("eventId");
    const deliveries = [...store.deliveries.values()].filter((d) => (!state || d.state === state) && (!eventId || d.eventId === eventId)).sort((a, b) => a.seq - b.seq);
    return { body: deliveries.map(deliveryView) };
  }
  if (method === "POST" && path === "/emulator/webhooks/hold") {
    webhooks.hold();
    return { body: { held: true } };
  }
  if (method === "POST" && path === "/emulator/webhooks/release") {
    return { body: webhooks.release(parse(releaseBody, body)).map(deliveryView) };
  }
  if (method === "POST" && path === "/emulator/webhooks/settle") {
    await webhooks.settled();
    return { body: { pending: [...store.deliveries.values()].filter((d) => d.state === "pending").length } };
  }
  if (method === "POST" && (m = /^\/emulator\/checkout\/([^/]+)\/pay$/.exec(path))) {
    const b = parse(cardBody, body);
    const session = store.checkoutSessions.get(m[1]);
    if (!session) throw new ControlError(404, `no such checkout session: ${m[1]}`);
    core.automatic(() => completeCheckout(core, session, entryFrom(b, store.nowMs()), { email: b.email ?? null, name: b.name ?? null }));
    core.kick();
    return { body: { session: core.checkoutSession(session), redirectUrl: session.successUrl.replaceAll("{CHECKOUT_SESSION_ID}", session.id) } };
  }
  if (method === "POST" && (m = /^\/emulator\/customers\/([^/]+)\/card$/.exec(path))) {
    const b = parse(customerCardBody, body);
    const customer = store.customers.get(m[1]);
    if (!customer || customer.deleted) throw new ControlError(404, `no such customer: ${m[1]}`);
    const { pm, outcomes } = core.automatic(() => replaceDefaultCard(core, customer, entryFrom(b, store.nowMs()), { email: customer.email, name: customer.name }, b.chargeOpenInvoices ?? false));
    core.kick();
    return { body: { paymentMethod: pm.id, charged: outcomes } };
  }
  if (method === "POST" && path === "/emulator/reset") {
    const b = parse(resetBody, body);
    store.reset(b);
    extra.resetApi();
    webhooks.held = false;
    return { body: { ok: true } };
  }
  throw new ControlError(404, `not found: ${method} ${url.pathname}`);
}
