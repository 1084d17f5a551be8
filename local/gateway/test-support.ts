// Shared setup for the gateway conformance tests: an in-process gateway on a free port against the
// instance's database, a superuser connection for fixtures, and supabase-js clients as apps create them.
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import pg from "pg";
import WebSocket from "ws";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { instanceConfig, type InstanceConfig } from "../config.ts";
import type { AuthSettings } from "./auth/settings.ts";
import { startGateway, type Gateway } from "./server.ts";

export interface GatewayFixture {
  config: InstanceConfig;
  gateway: Gateway;
  db: pg.Client;
  /** Lower-case suffix that makes this file's table and function names unique. */
  suffix: string;
  /** Client with the given key (default: the publishable key), as the widget or dashboard would create it. */
  client(key?: string): SupabaseClient;
  sql(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  close(): Promise<void>;
}

export async function startGatewayFixture(
  setupSql?: (suffix: string) => string,
  options: { adjustAuthSettings?: (settings: AuthSettings) => AuthSettings } = {},
): Promise<GatewayFixture> {
  const config = instanceConfig();
  const db = new pg.Client({ connectionString: config.dbUrl });
  await db.connect();
  const suffix = randomBytes(4).toString("hex");
  if (setupSql) {
    await db.query(setupSql(suffix));
    await db.query("NOTIFY pgrst, 'reload schema'");
  }
  const gateway = await startGateway({ config, port: 0, adjustAuthSettings: options.adjustAuthSettings });
  const clients: SupabaseClient[] = [];
  return {
    config,
    gateway,
    db,
    suffix,
    client(key = config.keys.publishableKey) {
      const c = createClient(gateway.url, key, {
        auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
        // Node 20 has no global WebSocket; realtime-js needs `ws` as its transport there.
        realtime: { transport: WebSocket as never },
      });
      clients.push(c);
      return c;
    },
    sql: (text, values) => db.query(text, values),
    async close() {
      for (const c of clients) if (c.getChannels().length > 0) await c.removeAllChannels().catch(() => {});
      await gateway.close();
      await db.end();
    },
  };
}

export function uniqueEmail(tag: string): string {
  return `${tag}-${randomBytes(5).toString("hex")}@example.test`;
}

/**
 * A fresh confirmed user (made with the admin API, since signups wait for the confirmation mail) signed in
 * through the real client; returns the signed-in client and its user id.
 */
export async function signedInClient(f: GatewayFixture, tag = "user"): Promise<{ client: SupabaseClient; userId: string; email: string; password: string }> {
  const email = uniqueEmail(tag);
  const password = "Correct-horse-battery-9";
  const created = await f.client(f.config.keys.secretKey).auth.admin.createUser({ email, password, email_confirm: true });
  if (created.error) throw created.error;
  const client = f.client();
  const { data, error } = await client.auth.signInWithPassword({ email, password });
  if (error) throw error;
  if (!data.session || !data.user) throw new Error("sign-in returned no session");
  return { client, userId: data.user.id, email, password };
}

/**
 * Writes raw bytes to the gateway, for what fetch cannot send (malformed requests, repeated header lines,
 * lying lengths), and resolves with everything answered by the time the socket closes or `timeoutMs` passes.
 */
export function rawRequest(
  gatewayUrl: string,
  data: string | Buffer | Array<string | Buffer>,
  { abortAfterWrite = false, timeoutMs = 3000 } = {},
): Promise<string> {
  const { port } = new URL(gatewayUrl);
  return new Promise((resolve) => {
    let out = "";
    const socket = connect(Number(port), "127.0.0.1", () => {
      for (const part of Array.isArray(data) ? data : [data]) socket.write(part);
      if (abortAfterWrite) {
        socket.destroy();
        resolve("");
      }
    });
    socket.on("data", (d) => (out += d.toString()));
    socket.on("end", () => resolve(out));
    socket.on("close", () => resolve(out));
    socket.on("error", () => resolve(out));
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(out);
    });
  });
}
