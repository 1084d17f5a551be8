// Shared setup for the Stripe emulator tests: an emulator on a free port with the official client
// and the control client, a catalog, and an app-side webhook receiver that verifies every delivery
// with stripe.webhooks.constructEventAsync, as the stripe-webhook edge function will.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { emulatorStripeClient, StripeEmulatorControl } from "./client.ts";
import { startStripeEmulator, type StripeEmulatorOptions } from "./server.ts";

export async function startTestEmulator(options: Partial<StripeEmulatorOptions> = {}) {
  const secretKey = `sk_test_${randomBytes(12).toString("hex")}`;
  const emulator = await startStripeEmulator({ port: 0, secretKey, ...options });
  return {
    ...emulator,
    stripe: emulatorStripeClient(emulator.url, secretKey),
    control: new StripeEmulatorControl(emulator.url),
  };
}
export type TestEmulator = Awaited<ReturnType<typeof startTestEmulator>>;

/** A product with a monthly and a yearly price, each with a lookup key unique to this call. */
export async function createPlans(stripe: Stripe) {
  const tag = randomBytes(3).toString("hex");
  const starter = await stripe.prices.create({
    currency: "usd",
    unit_amount: 2900,
    recurring: { interval: "month" },
    lookup_key: `starter_monthly_${tag}`,
    product_data: { name: "Starter" },
    metadata: { conversations: "100" },
  });
  const pro = await stripe.prices.create({
    currency: "usd",
    unit_amount: 7900,
    recurring: { interval: "month" },
    lookup_key: `pro_monthly_${tag}`,
    product_data: { name: "Pro" },
    metadata: { conversations: "500" },
  });
  const proYearly = await stripe.prices.create({
    currency: "usd",
    unit_amount: 79000,
    recurring: { interval: "year" },
    product: pro.product as string,
  });
  return { starter, pro, proYearly };
}

export interface ReceivedWebhook {
  event: Stripe.Event;
  signature: string;
  body: string;
  receivedAt: number;
}

export interface WebhookReceiver {
  url: string;
  secret: string;
  /** Deliveries whose signature verified, in arrival order. */
  received: ReceivedWebhook[];
  /** Deliveries that failed verification (should stay empty). */
  rejected: { body: string; signature: string; error: string }[];
  /** How to answer a verified delivery; defaults to 200. Runs before it is recorded as received. */
  respond: (delivery: ReceivedWebhook, res: ServerResponse) => void;
  waitFor(predicate: (d: ReceivedWebhook) => boolean, count?: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/** An app endpoint on a free port; GET requests (success/cancel/return URLs) get a small page. */
export async function startWebhookReceiver(stripe: Stripe, secret = `whsec_${randomBytes(16).toString("hex")}`): Promise<WebhookReceiver> {
  const waiters = new Set<() => void>();
  const receiver: WebhookReceiver = {
    url: "",
    secret,
    received: [],
    rejected: [],
    respond: (_delivery, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"received":true}');
    },
    waitFor(predicate, count = 1, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const matching = receiver.received.filter(predicate);
          if (matching.length < count) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(matching);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const seen = receiver.received.map((d) => d.event.type).join(", ");
          reject(new Error(`expected ${count} matching webhook(s) within ${timeoutMs} ms; got ${receiver.received.filter(predicate).length} (seen: ${seen})`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html lang="en"><title>App</title><h1>App page ${new URL(req.url ?? "/", "http://x").pathname}</h1></html>`);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const signature = String(req.headers["stripe-signature"] ?? "");
      stripe.webhooks.constructEventAsync(body, signature, secret).then(
        (event) => {
          const delivery: ReceivedWebhook = { event, signature, body, receivedAt: Date.now() };
          receiver.respond(delivery, res);
          receiver.received.push(delivery);
          for (const waiter of [...waiters]) waiter();
        },
        (error: Error) => {
          receiver.rejected.push({ body, signature, error: error.message });
          res.writeHead(400);
          res.end(error.message);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
