// The /v1 HTTP surface: secret-key auth (Bearer or Basic), form bodies, idempotency keys,
// `expand[]`, list pagination and Stripe's error bodies, around the route handlers of
// api-catalog.ts, api-checkout.ts and api-billing.ts.
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { catalogRoutes } from "./api-catalog.ts";
import { billingRoutes } from "./api-billing.ts";
import { checkoutRoutes } from "./api-checkout.ts";
import type { Core } from "./core.ts";
import { authenticationError, idempotencyError, invalidParam, invalidState, noSuch, StripeApiError, unrecognizedUrl } from "./errors.ts";
import { parseForm, Params } from "./form.ts";
import { customerShape, deletedCustomerShape, paymentMethodShape, priceShape, productShape } from "./shapes-catalog.ts";
import { checkoutLineItemShape, portalConfigShape, portalSessionShape } from "./shapes-checkout.ts";
import { invoicePaymentShape } from "./shapes-billing.ts";
import { randomId } from "./store.ts";

export type Handler = (core: Core, params: Params, id: string) => object;
export interface Route {
  method: "GET" | "POST" | "DELETE";
  /** Path below /v1 with `{id}` for one id segment, e.g. `/customers/{id}`. */
  path: string;
  handler: Handler;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
}

interface IdempotentResult {
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
  expiresAt: number;
}

const maxBodyBytes = 1_000_000;
const idempotencyTtlMs = 24 * 3600 * 1000;
const maxIdempotencyKeys = 100_000;

export class Api {
  private readonly routes: CompiledRoute[];
  private readonly idempotent = new Map<string, IdempotentResult>();
  private readonly inProgress = new Set<string>();

  constructor(
    private readonly core: Core,
    private readonly secretKey: string,
  ) {
    this.routes = [...catalogRoutes, ...checkoutRoutes, ...billingRoutes].map((route) => ({
      ...route,
      pattern: new RegExp(`^/v1${route.path.replace("{id}", "([^/]+)")}$`),
    }));
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = randomId("req_", 14);
    const method = req.method ?? "GET";
    const headers: Record<string, string> = {
      "request-id": requestId,
      "stripe-version": String(req.headers["stripe-version"] ?? this.core.apiVersion),
      "access-control-allow-origin": "*",
    };
    let idempotencyKey: string | null = null;
    try {
      this.authenticate(req);
      const version = req.headers["stripe-version"];
      if (version !== undefined && !/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(String(version))) {
        throw invalidState(`Invalid Stripe API version: ${version}`);
      }
      if (req.headers["stripe-account"] !== undefined || req.headers["stripe-context"] !== undefined) {
        throw invalidState("The Stripe emulator has one account: Connect (Stripe-Account / Stripe-Context) is not emulated.");
      }
      const route = this.match(method, url.pathname);
      const body = method === "GET" ? "" : await readBody(req);
      if (body && !String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
        throw invalidState("Invalid request: the body must be form-encoded (Content-Type: application/x-www-form-urlencoded).");
      }
      const raw = { ...parseForm(url.search.slice(1)), ...parseForm(body) };
      const rawKey = req.headers["idempotency-key"];
      if (method !== "GET" && rawKey !== undefined) {
        idempotencyKey = String(rawKey);
        if (idempotencyKey.length > 255) throw invalidParam("", "Invalid idempotency key: must be 255 characters or less.");
        const fingerprint = createHash("sha256").update(`${method} ${url.pathname}\n${canonical(raw)}`).digest("hex");
        const replay = this.replayed(idempotencyKey, fingerprint);
        if (replay) {
          res.writeHead(replay.status, { ...headers, "request-id": replay.requestId, "content-type": "application/json", "idempotency-key": idempotencyKey, "idempotent-replayed": "true" });
          res.end(replay.body);
          return;
        }
        this.inProgress.add(idempotencyKey);
        try {
          const { status, text } = this.run(route.route, raw, route.id, requestId, idempotencyKey);
          // Like Stripe, only results of requests that started executing are saved (not validation errors).
          if (status === 200 || status === 402) this.remember(idempotencyKey, { fingerprint, status, body: text, requestId, expiresAt: Date.now() + idempotencyTtlMs });
          res.writeHead(status, { ...headers, "content-type": "application/json", "idempotency-key": idempotencyKey });
          res.end(text);
        } finally {
          this.inProgress.delete(idempotencyKey);
        }
        return;
      }
      const { status, text } = this.run(route.route, raw, route.id, requestId, null);
      res.writeHead(status, { ...headers, "content-type": "application/json" });
      res.end(text);
    } catch (error) {
      const apiError = error instanceof StripeApiError ? error : internalError(error, this.core.log);
      res.writeHead(apiError.status, { ...headers, ...apiError.headers, "content-type": "application/json" });
      res.end(JSON.stringify(apiError.toJSON(requestId), null, 2));
    }
  }

  /** Runs a handler with the request stamped on its events; errors become Stripe error bodies. */
  private run(route: CompiledRoute, raw: ReturnType<typeof parseForm>, id: string, requestId: string, idempotencyKey: string | null): { status: number; text: string } {
    this.core.request = { id: requestId, idempotency_key: idempotencyKey };
    try {
      const params = new Params(raw);
      const expand = params.strings("expand") ?? [];
      if (expand.length > 20) throw invalidParam("expand", "You cannot expand more than 20 properties.");
      const result = route.handler(this.core, params, id);
      for (const path of expand) expandPath(this.core, result as Record<string, unknown>, path.split("."), path, 0);
      this.core.kick();
      return { status: 200, text: JSON.stringify(result, null, 2) };
    } catch (error) {
      const apiError = error instanceof StripeApiError ? error : internalError(error, this.core.log);
      return { status: apiError.status, text: JSON.stringify(apiError.toJSON(requestId), null, 2) };
    } finally {
      this.core.request = { id: null, idempotency_key: null };
    }
  }

  private authenticate(req: IncomingMessage): void {
    const header = req.headers.authorization;
    if (!header) {
      throw authenticationError(
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      );
    }
    let key = "";
    const [scheme, value = ""] = header.split(" ", 2);
    if (/^bearer$/i.test(scheme)) key = value.trim();
    else if (/^basic$/i.test(scheme)) key = Buffer.from(value, "base64").toString("utf8").split(":")[0];
    else throw authenticationError("Invalid Authorization header: use Bearer auth with your secret key.");
    if (key.startsWith("pk_")) {
      throw authenticationError("This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.");
    }
    if (key !== this.secretKey) {
      const shown = key.length > 12 ? `${key.slice(0, 8)}${"*".repeat(key.length - 12)}${key.slice(-4)}` : key;
      throw authenticationError(`Invalid API Key provided: ${shown}`);
    }
  }

  private match(method: string, path: string): { route: CompiledRoute; id: string } {
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (m && route.method === method) return { route, id: m[1] ? decodeURIComponent(m[1]) : "" };
    }
    // Stripe answers the same 404 for an unknown path and for a known path with the wrong method.
    throw unrecognizedUrl(method, path);
  }

  private replayed(key: string, fingerprint: string): IdempotentResult | null {
    if (this.inProgress.has(key)) {
      throw idempotencyError("There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through). Please try again later.", 409, "idempotency_key_in_use");
    }
    const saved = this.idempotent.get(key);
    if (!saved || saved.expiresAt < Date.now()) return null;
    if (saved.fingerprint !== fingerprint) {
      throw idempotencyError(`Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`);
    }
    return saved;
  }

  private remember(key: string, result: IdempotentResult): void {
    this.idempotent.set(key, result);
    if (this.idempotent.size > maxIdempotencyKeys) {
      const now = Date.now();
      for (const [k, v] of this.idempotent) if (v.expiresAt < now || this.idempotent.size > maxIdempotencyKeys) this.idempotent.delete(k);
    }
  }

  reset(): void {
    this.idempotent.clear();
  }
}

function internalError(error: unknown, log: (line: string) => void): StripeApiError {
  log(`[stripe] internal error: ${(error as Error).stack ?? error}`);
  return new StripeApiError(500, { type: "api_error", message: `An unknown error occurred in the Stripe emulator: ${(error as Error).message}` }, { "stripe-should-retry": "false" });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new StripeApiError(413, { type: "invalid_request_error", message: `Request body too large (over ${maxBodyBytes} bytes).` });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Order-independent text of the params, so the same request with reordered fields still matches. */
function canonical(value: unknown): string {
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

// ------------------------------------------------------------------------------------ lists

interface Listable {
  id: string;
  created: number;
  seq: number;
}

/** Stripe's list envelope, newest first, with `limit`, `starting_after`, `ending_before`, `created`. */
export function listOf<T extends Listable>(params: Params, records: Iterable<T>, url: string, shape: (record: T) => object, kind: string): object {
  const limit = params.integer("limit", { min: 1, max: 100 }) ?? 10;
  const startingAfter = params.string("starting_after");
  const endingBefore = params.string("ending_before");
  const created = readRange(params, "created");
  params.rejectUnknown();
  if (startingAfter && endingBefore) throw invalidState("You may only specify one of these parameters: starting_after, ending_before.");
  let sorted = [...records].filter((r) => created(r.created)).sort((a, b) => b.created - a.created || b.seq - a.seq);
  let hasMore: boolean;
  if (endingBefore) {
    const index = sorted.findIndex((r) => r.id === endingBefore);
    if (index < 0) throw noSuch(kind, endingBefore, "ending_before");
    sorted = sorted.slice(0, index);
    hasMore = sorted.length > limit;
    sorted = sorted.slice(Math.max(0, sorted.length - limit));
  } else {
    if (startingAfter) {
      const index = sorted.findIndex((r) => r.id === startingAfter);
      if (index < 0) throw noSuch(kind, startingAfter, "starting_after");
      sorted = sorted.slice(index + 1);
    }
    hasMore = sorted.length > limit;
    sorted = sorted.slice(0, limit);
  }
  return { object: "list", data: sorted.map(shape), has_more: hasMore, url };
}

/** `created=123` or `created[gte]=..&created[lt]=..`. */
export function readRange(params: Params, key: string): (value: number) => boolean {
  if (!params.has(key)) {
    params.ignore(key);
    return () => true;
  }
  if (typeof params.raw[key] === "string") {
    const exact = params.integer(key)!;
    return (value) => value === exact;
  }
  const range = params.object(key)!;
  const gt = range.integer("gt");
  const gte = range.integer("gte");
  const lt = range.integer("lt");
  const lte = range.integer("lte");
  range.rejectUnknown();
  return (value) => (gt === undefined || value > gt) && (gte === undefined || value >= gte) && (lt === undefined || value < lt) && (lte === undefined || value <= lte);
}

// ---------------------------------------------------------------------------------- expand

/** Fields that are not in the object unless expanded ("includable" in Stripe's docs). */
function includable(core: Core, object: Record<string, unknown>, field: string): unknown {
  const id = object.id as string;
  if (object.object === "checkout.session" && field === "line_items") {
    const session = core.store.checkoutSessions.get(id)!;
    return { object: "list", data: session.lineItems.map((item) => checkoutLineItemShape(core.store, item)), has_more: false, url: `/v1/checkout/sessions/${id}/line_items` };
  }
  if (object.object === "invoice" && field === "payments") {
    const invoice = core.store.invoices.get(id)!;
    return { object: "list", data: invoice.payments.map((p) => invoicePaymentShape(invoice, p)).reverse(), has_more: false, url: `/v1/invoices/${id}/payments` };
  }
  return undefined;
}

/** The full object behind an id, for `expand[]`. */
export function resolveId(core: Core, id: string): object | undefined {
  const s = core.store;
  const [prefix] = id.split("_", 1);
  switch (prefix) {
    case "cus": {
      const c = s.customers.get(id);
      return c && (c.deleted ? deletedCustomerShape(c) : customerShape(c));
    }
    case "prod": {
      const p = s.products.get(id);
      return p && productShape(p);
    }
    case "price": {
      const p = s.prices.get(id);
      return p && priceShape(p);
    }
    case "pm": {
      const p = s.paymentMethods.get(id);
      return p && paymentMethodShape(p);
    }
    case "sub": {
      const sub = s.subscriptions.get(id);
      return sub && core.subscription(sub);
    }
    case "in": {
      const inv = s.invoices.get(id);
      return inv && core.invoice(inv);
    }
    case "cs": {
      const session = s.checkoutSessions.get(id);
      return session && core.checkoutSession(session);
    }
    case "bps": {
      const session = s.portalSessions.get(id);
      return session && portalSessionShape(core.publicUrl, session);
    }
    case "bpc": {
      const config = s.portalConfigs.get(id);
      return config && portalConfigShape(config);
    }
  }
  return undefined;
}

function expandPath(core: Core, node: Record<string, unknown> | unknown[], path: string[], full: string, depth: number): void {
  if (depth > 4) throw invalidParam("expand", `You cannot expand more than 4 levels of a property (${full}).`);
  if (Array.isArray(node)) {
    for (const item of node) if (item && typeof item === "object") expandPath(core, item as Record<string, unknown>, path, full, depth);
    return;
  }
  const [head, ...rest] = path;
  let value = node[head];
  if (value === undefined) {
    value = includable(core, node, head);
    if (value === undefined) throw invalidParam("expand", `This property cannot be expanded (${full}).`);
    node[head] = value;
  } else if (typeof value === "string" && head !== "id" && head !== "object") {
    const resolved = resolveId(core, value);
    if (!resolved) throw invalidParam("expand", `This property cannot be expanded (${full}).`);
    node[head] = value = resolved;
  } else if (value !== null && typeof value !== "object") {
    throw invalidParam("expand", `This property cannot be expanded (${full}).`);
  }
  if (rest.length && value !== null) expandPath(core, value as Record<string, unknown>, rest, full, head === "data" ? depth : depth + 1);
}
