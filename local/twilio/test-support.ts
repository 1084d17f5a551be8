// Shared setup for the emulator tests: an in-process emulator on port 0 and a webhook receiver
// that records every request the emulator makes, the way an app behind a Twilio number sees them.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { emulatorTwilioClient, TwilioEmulatorControl } from "./client.ts";
import { startTwilioEmulator, type TwilioEmulatorOptions } from "./server.ts";

export interface RecordedWebhook {
  method: string;
  path: string;
  /** The full URL the emulator called, which is what Twilio signs. */
  url: string;
  signature: string;
  contentType: string;
  idempotencyToken: string;
  /** Form fields of a POST; a GET's parameters are in its query string (`url`). */
  params: Record<string, string>;
}

export interface WebhookReceiver {
  url: string;
  requests: RecordedWebhook[];
  /** How to answer a request; defaults to 204 with no body. */
  respond: (request: RecordedWebhook, res: ServerResponse) => void;
  /** Resolves once `count` requests matching `predicate` have arrived. */
  waitFor(predicate: (r: RecordedWebhook) => boolean, count?: number, timeoutMs?: number): Promise<RecordedWebhook[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const waiters = new Set<() => void>();
  const receiver: WebhookReceiver = {
    url: "",
    requests: [],
    respond: (_request, res) => {
      res.writeHead(204);
      res.end();
    },
    waitFor(predicate, count = 1, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const matching = receiver.requests.filter(predicate);
          if (matching.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(matching);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} matching webhook(s) within ${timeoutMs} ms, got ${receiver.requests.filter(predicate).length}`));
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
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const recorded: RecordedWebhook = {
        method: req.method ?? "",
        path: new URL(req.url ?? "/", "http://x").pathname,
        url: receiver.url + (req.url ?? "/"),
        signature: String(req.headers["x-twilio-signature"] ?? ""),
        contentType: String(req.headers["content-type"] ?? ""),
        idempotencyToken: String(req.headers["i-twilio-idempotency-token"] ?? ""),
        params: Object.fromEntries(new URLSearchParams(body)),
      };
      receiver.requests.push(recorded);
      receiver.respond(recorded, res);
      for (const waiter of [...waiters]) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

export async function startTestEmulator(options: Partial<TwilioEmulatorOptions> = {}) {
  const accountSid = "AC" + randomBytes(16).toString("hex");
  const authToken = randomBytes(16).toString("hex");
  const emulator = await startTwilioEmulator({ port: 0, accountSid, authToken, deliveryDelayMs: 10, ...options });
  return {
    ...emulator,
    accountSid,
    authToken,
    client: emulatorTwilioClient(emulator.url, accountSid, authToken),
    control: new TwilioEmulatorControl(emulator.url),
  };
}

/** A fresh fake US number per call, so tests never share phones. */
const usedPhones = new Set<string>();
export function newPhone(): string {
  for (;;) {
    const phone = "+1555" + String(randomBytes(4).readUInt32BE(0) % 10_000_000).padStart(7, "0");
    if (!usedPhones.has(phone)) {
      usedPhones.add(phone);
      return phone;
    }
  }
}
