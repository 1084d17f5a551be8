// Back-pressure towards a slow subscriber: a client that never reads is disconnected once its send buffer
// passes the limit, the gateway's buffer for it never grows past the limit, and a client that reads
// normally on the same stream still gets every change. Also postgres_changes on vsn 1.0.0 through
// supabase-js, the serializer the other tests do not use.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RealtimePostgresChangesPayload, SupabaseClient } from "@supabase/supabase-js";
import { instanceConfig } from "../../config.ts";
import { SEND_BUFFER_LIMIT_BYTES } from "./connection.ts";
import { createTenantFixture, RawSocket, realtimeClient, sleep, startRealtimeHarness, waitFor, type RealtimeHarness, type TenantFixture } from "./test-harness.ts";

type Change = RealtimePostgresChangesPayload<Record<string, unknown>>;

function subscribeInserts(client: SupabaseClient, table: string, events: Change[]): Promise<void> {
  return new Promise((resolve, reject) => {
    client
      .channel(`reader-${table}`)
      .on("postgres_changes", { event: "INSERT", schema: "public", table }, (payload) => events.push(payload as Change))
      .on("system", {}, (p: { extension?: string; status?: string; message?: string }) => {
        if (p.extension !== "postgres_changes") return;
        if (p.status === "ok") resolve();
        else reject(new Error(p.message));
      })
      .subscribe();
  });
}

describe("realtime back-pressure", { timeout: 180_000 }, () => {
  const config = instanceConfig();
  let h: RealtimeHarness;
  let f: TenantFixture;
  const clients: SupabaseClient[] = [];

  before(async () => {
    h = await startRealtimeHarness(0, config);
    f = await createTenantFixture(config);
  });
  after(async () => {
    for (const c of clients) await c.removeAllChannels();
    await f.drop();
    await h.stop();
  });

  it("disconnects a client that never reads, with bounded memory, while a reading client gets everything (vsn 1.0.0)", async () => {
    const reader = await realtimeClient(h, h.config.keys.serviceRoleKey, "1.0.0");
    clients.push(reader);
    const events: Change[] = [];
    await subscribeInserts(reader, f.items, events);

    const stuck = await RawSocket.open(h, { apikey: h.config.keys.secretKey, vsn: "2.0.0" });
    const closed = new Promise<number>((resolve) => stuck.ws.once("close", (code) => resolve(code)));
    stuck.send(["1", "1", "realtime:stuck", "phx_join", { config: { postgres_changes: [{ event: "INSERT", schema: "public", table: f.items }] } }]);
    await stuck.waitFor((m) => m[3] === "system");
    const serverSide = [...h.realtime!.connections()].find((c) => c.channels.has("realtime:stuck"));
    assert.ok(serverSide, "the gateway holds the stuck socket");
    // From here on the client reads nothing: the kernel buffers fill up, then the gateway's.
    (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const rows = 400;
    const big = "x".repeat(48 * 1024);
    let largestBuffer = 0;
    const sampler = setInterval(() => {
      largestBuffer = Math.max(largestBuffer, serverSide.ws.bufferedAmount);
    }, 5);
    try {
      for (let n = 0; n < rows; n += 20) {
        await f.db.query(
          `insert into public.${f.items} (business_id, title, meta) select $1, 'big ' || g, jsonb_build_object('pad', $2::text) from generate_series($3::int, $3::int + 19) g`,
          [f.businessA, big, n],
        );
      }
      await waitFor(events, () => events.length >= rows, 60_000);
      const deadline = Date.now() + 10_000;
      while ([...h.realtime!.connections()].includes(serverSide) && Date.now() < deadline) await sleep(50);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(serverSide.overflowed, "the stuck client was marked too slow");
    assert.ok(![...h.realtime!.connections()].includes(serverSide), "and disconnected");
    // One frame may be refused past the limit, never queued: the buffer stays below limit + error frames.
    assert.ok(largestBuffer <= SEND_BUFFER_LIMIT_BYTES + 64 * 1024, `largest send buffer ${largestBuffer} bytes`);
    assert.equal(new Set(events.map((e) => (e.new as Record<string, unknown>).title)).size, rows, "the reading client got every change");
    assert.ok(events.every((e) => typeof e.commit_timestamp === "string" && e.eventType === "INSERT"));

    (stuck.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    assert.ok([1006, 1013].includes(await closed), "the socket was closed (1013 when the close frame got through)");
  });
});
