// Shared setup for the realtime tests and bench: an HTTP server that routes websocket upgrades to the
// realtime module (what the gateway does), per-test tables with RLS on a membership table, and user JWTs.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import WebSocket from "ws";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { instanceConfig, type InstanceConfig } from "../../local/config.ts";
import { signHs256 } from "../../local/keys.ts";
import { createRealtime, type RealtimeServer } from "../../local/gateway/realtime/index.ts";

export interface RealtimeHarness {
  config: InstanceConfig;
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts realtime behind a bare HTTP server; pass `port` to come back on the same address after a stop. */
export async function startRealtimeHarness(port = 0, config = instanceConfig()): Promise<RealtimeHarness> {
  const realtime: RealtimeServer = await createRealtime({ config });
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
    async stop() {
      await realtime.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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
 * itself does after a sign-in (realtime.setAuth), or only the publishable key when no token is given.
 */
export async function realtimeClient(harness: RealtimeHarness, token?: string): Promise<SupabaseClient> {
  const client = createClient(harness.url, harness.config.keys.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    // Node 20 has no global WebSocket; realtime-js asks for `ws` as its transport there.
    realtime: { transport: WebSocket as never },
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
export async function createTenantFixture(config: InstanceConfig): Promise<TenantFixture> {
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
    userA: randomUUID(),
    userB: randomUUID(),
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
