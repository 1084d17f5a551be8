// Stripe emulator: the /v1 API as the official `stripe` client sees it (pointed here with
// `new Stripe(key, {host, port, protocol: "http"})`), the hosted checkout, portal and invoice
// pages, signed webhooks, and the /emulator control API for people and tests.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Stripe from "stripe";
import { Api } from "./api.ts";
import { handleControl } from "./control.ts";
import { Core } from "./core.ts";
import { localStripeKeys } from "./keys.ts";
import { handleCheckoutPage } from "./pages/checkout-page.ts";
import { handleInvoicePage, handlePortalPage } from "./pages/portal-page.ts";
import { Store, type Settings } from "./store.ts";
import { Webhooks } from "./webhooks.ts";
import { keepIdleConnections } from "../keep-alive.ts";

export interface StripeEmulatorOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  secretKey?: string;
  publishableKey?: string;
  /** URL people and other processes use to reach the emulator (defaults to http://host:port). */
  publicUrl?: string;
  /** Keeps customers, subscriptions, events... across restarts (JSON file). */
  stateFile?: string;
  settings?: Partial<Settings>;
  /** An endpoint to register at start (the stack's stripe-webhook function). */
  webhookEndpoint?: { url: string; secret: string };
  log?: (line: string) => void;
}

export interface StripeEmulator {
  url: string;
  port: number;
  secretKey: string;
  publishableKey: string;
  apiVersion: string;
  close(): Promise<void>;
}

export async function startStripeEmulator(options: StripeEmulatorOptions): Promise<StripeEmulator> {
  const log = options.log ?? (() => {});
  const secretKey = options.secretKey ?? localStripeKeys.secretKey;
  const publishableKey = options.publishableKey ?? localStripeKeys.publishableKey;
  if (!/^sk_test_\w{8,}$/.test(secretKey)) throw new Error("secretKey must look like sk_test_...");
  const store = new Store(options.stateFile);
  if (options.settings) store.settings = { ...store.settings, ...options.settings };
  const webhooks = new Webhooks(store, Stripe.API_VERSION, log);

  const sockets = new Set<Socket>();
  const server = keepIdleConnections(createServer((req, res) => void handle(req, res)));
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host && options.host !== "0.0.0.0" && options.host !== "::" ? options.host : "127.0.0.1";
  const publicUrl = (options.publicUrl ?? `http://${host.includes(":") ? `[${host}]` : host}:${port}`).replace(/\/$/, "");
  const core = new Core(store, webhooks, publicUrl, Stripe.API_VERSION, log);
  const api = new Api(core, secretKey);
  if (options.webhookEndpoint) webhooks.addEndpoint(options.webhookEndpoint);
  core.kick();
  webhooks.pump();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator.local");
    let m: RegExpExecArray | null;
    try {
      if (url.pathname.startsWith("/v1/")) return await api.handle(req, res, url);
      if (url.pathname.startsWith("/emulator/")) {
        return await handleControl(core, req, res, url, { secretKey, publishableKey, resetApi: () => api.reset() });
      }
      if ((m = /^\/c\/pay\/([A-Za-z0-9_]+)$/.exec(url.pathname))) return await handleCheckoutPage(core, req, res, m[1]);
      if ((m = /^\/p\/session\/([A-Za-z0-9_]+)$/.exec(url.pathname))) return await handlePortalPage(core, req, res, m[1], url);
      if ((m = /^\/i\/([A-Za-z0-9_]+)$/.exec(url.pathname))) return await handleInvoicePage(core, req, res, m[1], url);
      if (url.pathname === "/") {
        res.writeHead(302, { location: "/emulator/info" });
        return void res.end();
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `not found: ${url.pathname}` }));
    } catch (error) {
      log(`[stripe] ${req.method} ${url.pathname} crashed: ${(error as Error).stack}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: (error as Error).message }));
    }
  }

  log(`[stripe] emulator listening on ${publicUrl}`);
  return {
    url: publicUrl,
    port,
    secretKey,
    publishableKey,
    apiVersion: Stripe.API_VERSION,
    async close() {
      core.close();
      webhooks.close();
      store.flush();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
