// Shared setup for the realtime tests and bench: an HTTP server that routes websocket upgrades to the
// realtime module (what the gateway does), per-test tables with RLS on a membership table, and user JWTs.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import WebSocket from "ws";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { instanceConfig, type InstanceConfig } from "../../config.ts";
import { signHs256 } from "../../keys.ts";
import { createRealtime, type RealtimeOptions, type RealtimeServer } from "./index.ts";
import { startGateway } from "../server.ts";

export interface RealtimeHarness {
  config: InstanceConfig;
  url: string;
  port: number;
  /** Present when the harness runs realtime itself (startRealtimeHarness). */
  realtime?: RealtimeServer;
  stop(): Promise<void>;
}

/** Starts realtime behind a bare HTTP server; pass `port` to come back on the same address after a stop. */
export async function startRealtimeHarness(
  port = 0,
  config = instanceConfig(),
  options: Omit<RealtimeOptions, "config"> = {},
): Promise<RealtimeHarness> {
  const realtime: RealtimeServer = await createRealtime({ ...options, config });
  const server: Server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  server.on("upgrade", (req, socket, head) => realtime.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    config,
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    realtime,
    async stop() {
      await realtime.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The whole gateway (REST, Auth, Functions, Realtime), as `npm start` runs it. */
export async function startTestGateway(port = 0, config = instanceConfig()): Promise<RealtimeHarness> {
  const gateway = await startGateway({ config, port });
  const actualPort = Number(new URL(gateway.url).port);
  return { config, port: actualPort, url: gateway.url, stop: () => gateway.close() };
}

export function userToken(userId: string, config: InstanceConfig, expiresInSeconds = 3600, extra: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return signHs256(
    { sub: userId, role: "authenticated", aud: "authenticated", iat: now, exp: now + expiresInSeconds, email: `${userId}@example.test`, ...extra },
    config.keys.jwtSecret,
  );
}

/**
 * A supabase-js client whose realtime connection carries `token` (a user JWT), set the way supabase-js
 * itself does after a sign-in (realtime.setAuth), or only the publishable key when no token is given;
 * `vsn` picks the serializer (2.0.0 is realtime-js's default).
 */
export async function realtimeClient(harness: RealtimeHarness, token?: string, vsn: "1.0.0" | "2.0.0" = "2.0.0"): Promise<SupabaseClient> {
  const client = createClient(harness.url, harness.config.keys.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    // Node 20 has no global WebSocket; realtime-js asks for `ws` as its transport there.
    realtime: { transport: WebSocket as never, vsn },
  });
  if (token) await client.realtime.setAuth(token);
  return client;
}

export interface TenantFixture {
  db: pg.Client;
  items: string;
  members: string;
  businessA: string;
  businessB: string;
  userA: string;
  userB: string;
  drop(): Promise<void>;
}

/**
 * Two businesses, one owner each, and an `items` table in the realtime publication whose RLS lets a
 * user see only rows of businesses they are a member of.
 */
export async function createTenantFixture(config: InstanceConfig, users?: { userA: string; userB: string }): Promise<TenantFixture> {
  const db = new pg.Client({ connectionString: config.dbUrl });
  await db.connect();
  const suffix = randomUUID().replace(/-/g, "").slice(0, 10);
  const members = `rt_members_${suffix}`;
  const items = `rt_items_${suffix}`;
  const fixture: TenantFixture = {
    db,
    items,
    members,
    businessA: randomUUID(),
    businessB: randomUUID(),
    userA: users?.userA ?? randomUUID(),
    userB: users?.userB ?? randomUUID(),
    async drop() {
      await db.query(`drop table if exists public.${items}, public.${members}`);
      await db.end();
    },
  };
  await db.query(`
    create table public.${members} (business_id uuid not null, user_id uuid not null, primary key (business_id, user_id));
    alter table public.${members} enable row level security;
    create policy own_membership on public.${members} for select to authenticated using (user_id = auth.uid());
    grant select on public.${members} to authenticated;
    create table public.${items} (
      id bigserial primary key,
      business_id uuid not null,
      title text not null,
      status text not null default 'new',
      amount numeric,
      tags text[] not null default '{}',
      meta jsonb,
      secret_note text,
      created_at timestamptz not null default now()
    );
    alter table public.${items} enable row level security;
    revoke all on public.${items} from anon, authenticated;
    create policy members_read on public.${items} for select to authenticated
      using (business_id in (select m.business_id from public.${members} m where m.user_id = auth.uid()));
    grant select (id, business_id, title, status, amount, tags, meta, created_at) on public.${items} to authenticated;
    grant all on public.${items} to service_role;
    alter publication supabase_realtime add table public.${items};
  `);
  await db.query(`insert into public.${members} (business_id, user_id) values ($1, $2), ($3, $4)`, [
    fixture.businessA,
    fixture.userA,
    fixture.businessB,
    fixture.userB,
  ]);
  return fixture;
}

/** Resolves with the first value `pick` returns for an event pushed to `sink`, or rejects after `ms`. */
export function waitFor<T>(sink: T[], predicate: (value: T) => boolean, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const found = sink.find(predicate);
      if (found !== undefined) return resolve(found);
      if (Date.now() - started > ms) return reject(new Error(`timed out after ${ms} ms; saw ${JSON.stringify(sink).slice(0, 800)}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A user signed up through Auth with supabase-js; realtime carries their session token like after SIGNED_IN. */
export async function signedInUser(harness: RealtimeHarness): Promise<{ client: SupabaseClient; userId: string; accessToken: string }> {
  const client = createClient(harness.url, harness.config.keys.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  // Signups wait for the confirmation mail (config.toml), so the account is made confirmed with the admin API.
  const email = `rt-${randomUUID()}@example.test`;
  const password = `Pw-${randomUUID()}`;
  const admin = createClient(harness.url, harness.config.keys.secretKey, { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: WebSocket as never } });
  const created = await admin.auth.admin.createUser({ email, password, email_confirm: true });
  if (created.error) throw new Error(`createUser failed: ${created.error.message}`);
  const { data, error } = await client.auth.signInWithPassword({ email, password });
  if (error || !data.session) throw new Error(`sign-in failed: ${error?.message ?? "no session"}`);
  // supabase-js does this itself on SIGNED_IN; doing it here too makes the order deterministic.
  await client.realtime.setAuth(data.session.access_token);
  return { client, userId: data.session.user.id, accessToken: data.session.access_token };
}

/** A bare websocket speaking Phoenix frames, for what supabase-js cannot send (vsn 1.0.0, garbage, bad tokens). */
export class RawSocket {
  readonly frames: unknown[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      try {
        this.frames.push(JSON.parse(data.toString()));
      } catch {
        this.frames.push(data.toString());
      }
    });
  }

  static open(harness: RealtimeHarness, query: Record<string, string>): Promise<RawSocket> {
    const url = new URL("/realtime/v1/websocket", harness.url.replace(/^http/, "ws"));
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once("open", () => resolve(new RawSocket(ws)));
      ws.once("error", reject);
    });
  }

  /** Resolves with the HTTP status and body of a refused upgrade. */
  static refusal(harness: RealtimeHarness, query: Record<string, string>): Promise<{ status: number; body: string }> {
    const url = new URL("/realtime/v1/websocket", harness.url.replace(/^http/, "ws"));
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once("open", () => {
        ws.close();
        reject(new Error("upgrade was accepted"));
      });
      ws.once("unexpected-response", (_req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      ws.once("error", () => undefined);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  waitFor(predicate: (frame: any) => boolean, ms = 5000): Promise<any> {
    return waitFor(this.frames as any[], predicate, ms);
  }

  close(): void {
    this.ws.close();
  }
}
