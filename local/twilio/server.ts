// Twilio emulator: the Messages and number APIs as the official client sees them (api.ts, numbers-api.ts),
// signed webhooks as a Twilio number's owner sees them (delivery.ts, inbound.ts, webhooks.ts), and a JSON
// control API plus the phone page for people and tests (control.ts, phone/). This file is the HTTP
// server that routes to them.
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { handleApi } from "./api.ts";
import { handleControl } from "./control.ts";
import { HttpError, sendJson } from "./http.ts";
import { EmulatorStore } from "./store.ts";
import { keepIdleConnections } from "../keep-alive.ts";

export interface TwilioEmulatorOptions {
  port: number;
  host?: string;
  accountSid: string;
  authToken: string;
  /** URL people and other processes use to reach the emulator (defaults to http://host:port). */
  publicUrl?: string;
  /** Pause between each delivery step (queued -> sent -> delivered). */
  deliveryDelayMs?: number;
  /** Default read timeout of a webhook, when its URL does not set `rt` (Twilio: 15 s). */
  webhookTimeoutMs?: number;
  /** JSON file that keeps the account's numbers between runs (none: they live in memory only). */
  numbersFile?: string;
  log?: (line: string) => void;
}

export interface TwilioEmulator {
  url: string;
  close(): Promise<void>;
}

const phonePageDir = join(dirname(fileURLToPath(import.meta.url)), "phone");
const staticFiles: Record<string, { file: string; type: string }> = {
  "/phone": { file: "index.html", type: "text/html; charset=utf-8" },
  "/phone/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/phone/phone.js": { file: "phone.js", type: "text/javascript; charset=utf-8" },
  "/phone/phone.css": { file: "phone.css", type: "text/css; charset=utf-8" },
};

export async function startTwilioEmulator(options: TwilioEmulatorOptions): Promise<TwilioEmulator> {
  const accountSid = options.accountSid;
  const authToken = options.authToken;
  if (!/^AC[0-9a-f]{32}$/.test(accountSid)) throw new Error(`accountSid must look like AC + 32 hex digits, got "${accountSid}"`);
  if (!authToken) throw new Error("authToken is required");
  const log = options.log ?? (() => {});
  const store = new EmulatorStore(
    accountSid,
    authToken,
    { deliveryDelayMs: options.deliveryDelayMs ?? 300, webhookTimeoutMs: options.webhookTimeoutMs ?? 15_000 },
    log,
    options.numbersFile,
  );
  const sockets = new Set<Socket>();

  async function serveStatic(res: ServerResponse, path: string): Promise<boolean> {
    const entry = staticFiles[path];
    if (!entry) return false;
    const content = await readFile(join(phonePageDir, entry.file));
    res.writeHead(200, { "content-type": entry.type, "cache-control": "no-cache", "content-length": content.length });
    res.end(content);
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator.local");
    try {
      if (url.pathname.startsWith("/2010-04-01/")) return await handleApi(store, req, res, url);
      if (url.pathname.startsWith("/emulator/")) {
        res.setHeader("access-control-allow-origin", "*");
        if (req.method === "OPTIONS") {
          res.writeHead(204, { "access-control-allow-methods": "GET, POST, DELETE", "access-control-allow-headers": "content-type" });
          return void res.end();
        }
        return await handleControl(store, req, res, url);
      }
      if (url.pathname === "/favicon.ico") {
        res.writeHead(204);
        return void res.end();
      }
      if (url.pathname === "/") {
        res.writeHead(302, { location: "/phone" });
        return void res.end();
      }
      if (req.method === "GET" && (await serveStatic(res, url.pathname))) return;
      sendJson(res, 404, { error: `not found: ${url.pathname}` });
    } catch (error) {
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
      log(`[twilio] ${req.method} ${url.pathname} crashed: ${(error as Error).stack}`);
      sendJson(res, 500, { error: (error as Error).message });
    }
  }

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
  const address = server.address() as AddressInfo;
  const host = options.host && options.host !== "0.0.0.0" && options.host !== "::" ? options.host : "127.0.0.1";
  const publicUrl = (store.publicUrl = (options.publicUrl ?? `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`).replace(/\/$/, ""));
  log(`[twilio] emulator listening on ${publicUrl} (phone page ${publicUrl}/phone)`);

  return {
    url: publicUrl,
    async close() {
      store.closed = true;
      for (const timer of store.timers) clearTimeout(timer);
      store.timers.clear();
      for (const abort of [...store.aborts]) abort();
      for (const sub of store.subscribers) sub.res.end();
      store.subscribers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
