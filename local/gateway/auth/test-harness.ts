// What the Auth conformance tests share: a gateway with adjusted [auth] settings, the instance's mail catcher,
// a browser-like follow of a mail link, confirmed accounts, and requests from another loopback address.
import { spawn } from "node:child_process";
import { request } from "node:http";
import { Inbox, firstLink, type CaughtMail } from "../../mail/inbox.ts";
import type { AuthSettings } from "./settings.ts";
import { startGatewayFixture, uniqueEmail, type GatewayFixture } from "../test-support.ts";

/** Passes config.toml's policy (10+ characters, lower, upper, digit). */
export const PASSWORD = "Good-passw0rd-here";

/** Limits high enough that a test file never meets them unless it means to. */
export function roomy(s: AuthSettings): AuthSettings {
  return {
    ...s,
    email: { ...s.email, maxFrequencySeconds: 0 },
    rateLimit: { emailSentPerHour: 100_000, tokenRefresh: 100_000, signInSignUps: 100_000, tokenVerifications: 100_000 },
  };
}

export async function authFixture(adjust: (s: AuthSettings) => AuthSettings = roomy): Promise<GatewayFixture & { inbox: Inbox }> {
  const f = await startGatewayFixture(undefined, { adjustAuthSettings: adjust });
  return Object.assign(f, { inbox: new Inbox(`http://127.0.0.1:${f.config.ports.mail}`) });
}

/** The newest mail to `email` once `count` have arrived. */
export async function mailTo(f: { inbox: Inbox }, email: string, count = 1): Promise<CaughtMail> {
  const mails = await f.inbox.waitFor(email, { count });
  return mails[count - 1];
}

export interface Followed {
  status: number;
  location: string;
  /** The redirect's fragment and query parameters. */
  fragment: URLSearchParams;
  query: URLSearchParams;
}

/** Opens a link as a browser would, without following the redirect. */
export async function follow(link: string): Promise<Followed> {
  const res = await fetch(link, { redirect: "manual" });
  await res.arrayBuffer();
  const location = res.headers.get("location") ?? "";
  const u = location ? new URL(location) : undefined;
  return {
    status: res.status,
    location,
    fragment: new URLSearchParams(u?.hash.replace(/^#/, "") ?? ""),
    query: u?.searchParams ?? new URLSearchParams(),
  };
}

export async function followMail(f: { inbox: Inbox }, email: string, count = 1): Promise<Followed> {
  return follow(firstLink(await mailTo(f, email, count)));
}

/** A confirmed account made with the admin API. */
export async function confirmedAccount(f: GatewayFixture, tag: string, password = PASSWORD): Promise<{ id: string; email: string; password: string }> {
  const email = uniqueEmail(tag);
  const { data, error } = await f.client(f.config.keys.secretKey).auth.admin.createUser({ email, password, email_confirm: true });
  if (error) throw error;
  return { id: data.user!.id, email, password };
}

/** A JSON request to the gateway from a chosen loopback address (127.0.0.x), for per-address behaviour. */
export function fromAddress(
  f: GatewayFixture,
  localAddress: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(`${f.gateway.url}${path}`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        localAddress,
        headers: {
          apikey: f.config.keys.publishableKey,
          "Content-Type": "application/json",
          "X-Supabase-Api-Version": "2024-01-01",
          ...headers,
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

// The client side of a timing measurement, in a process of its own: run on the gateway's event loop (as the
// test's own requests are), the client would be slowed by whatever work the server does after answering.
const TIMER_SCRIPT = `
const { request } = await import("node:http");
const { url, apikey, gapMs, calls } = JSON.parse(await new Promise((resolve) => {
  let text = ""; process.stdin.on("data", (d) => (text += d)); process.stdin.on("end", () => resolve(text));
}));
const out = [];
for (const { path, body } of calls) {
  const payload = JSON.stringify(body);
  const start = performance.now();
  const status = await new Promise((resolve, reject) => {
    const req = request(url + path, { method: "POST", headers: { apikey, "Content-Type": "application/json", Connection: "close" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end(payload);
  });
  out.push({ ms: performance.now() - start, status });
  await new Promise((resolve) => setTimeout(resolve, gapMs));
}
process.stdout.write(JSON.stringify(out));
`;

/** Times POSTs to the gateway one after another from a separate Node process; returns ms and status per call. */
export function timeFromElsewhere(f: GatewayFixture, calls: Array<{ path: string; body: unknown }>, gapMs = 40): Promise<Array<{ ms: number; status: number }>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", TIMER_SCRIPT], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`timer process exited with ${code}`))));
    child.stdin.end(JSON.stringify({ url: `${f.gateway.url}/auth/v1`, apikey: f.config.keys.publishableKey, gapMs, calls }));
  });
}
