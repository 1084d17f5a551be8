// What the realtime conformance files share: one gateway with two signed-in owners of different businesses
// and a tenant fixture, a typed insert helper, and a subscribe helper that resolves on the system ok.
import type { RealtimePostgresChangesPayload, SupabaseClient } from "@supabase/supabase-js";
import {
  createTenantFixture,
  signedInUser,
  startTestGateway,
  type RawSocket,
  type RealtimeHarness,
  type TenantFixture,
} from "./test-harness.ts";

export type Row = Record<string, unknown>;
export type Change = RealtimePostgresChangesPayload<Row>;

export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function subscribeAll(client: SupabaseClient, name: string, table: string, events: Change[], filter?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client
      .channel(name)
      .on("postgres_changes", { event: "*", schema: "public", table, ...(filter ? { filter } : {}) }, (payload) => events.push(payload as Change))
      .on("system", {}, (payload: { extension?: string; status?: string; message?: string }) => {
        if (payload.extension !== "postgres_changes") return;
        if (payload.status === "ok") resolve();
        else reject(new Error(`subscription failed: ${payload.message}`));
      })
      .subscribe((status, error) => {
        if (status === "CHANNEL_ERROR" || status === "TIMED_OUT") reject(error ?? new Error(status));
      });
  });
}

export interface RealtimeSuite {
  h: RealtimeHarness;
  f: TenantFixture;
  ownerA: Awaited<ReturnType<typeof signedInUser>>;
  ownerB: Awaited<ReturnType<typeof signedInUser>>;
  /** Clients and raw sockets a test opens; closed by stop(). */
  clients: SupabaseClient[];
  sockets: RawSocket[];
  insertItem(business: string, fields?: Row): Promise<number>;
  stop(): Promise<void>;
}

export async function startRealtimeSuite(): Promise<RealtimeSuite> {
  const h = await startTestGateway();
  const ownerA = await signedInUser(h);
  const ownerB = await signedInUser(h);
  const f = await createTenantFixture(h.config, { userA: ownerA.userId, userB: ownerB.userId });
  const clients: SupabaseClient[] = [ownerA.client, ownerB.client];
  const sockets: RawSocket[] = [];
  return {
    h,
    f,
    ownerA,
    ownerB,
    clients,
    sockets,
    async insertItem(business: string, fields: Row = {}): Promise<number> {
      const { rows } = await f.db.query<{ id: string }>(
        `insert into public.${f.items} (business_id, title, status, amount, tags, meta, secret_note)
         values ($1, $2, $3, $4, $5, $6, 'hidden') returning id`,
        [business, fields.title ?? "t", fields.status ?? "new", fields.amount ?? null, fields.tags ?? [], fields.meta ?? null],
      );
      return Number(rows[0].id);
    },
    async stop() {
      for (const s of sockets) s.close();
      for (const c of clients) await c.removeAllChannels();
      await f.drop();
      await h.stop();
    },
  };
}
