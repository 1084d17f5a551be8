// Realtime postgres_changes through the gateway (docs/supabase-standin-spec.md §3, §6 item 3): join reply and system message,
// INSERT/UPDATE/DELETE frames, per-binding event and filter matching, RLS by the subscriber's own claims
// (two signed-in owners of different businesses), access_token refresh, heartbeats, leave, unmatched
// topics, garbage frames, upgrade refusals, and the vsn 1.0.0 serializer.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { RealtimePostgresChangesPayload, SupabaseClient } from "@supabase/supabase-js";
import WebSocket from "ws";
import { signHs256 } from "../../local/keys.ts";
import {
  createTenantFixture,
  RawSocket,
  signedInUser,
  sleep,
  startTestGateway,
  waitFor,
  type RealtimeHarness,
  type TenantFixture,
} from "./realtime-harness.ts";

type Row = Record<string, unknown>;
type Change = RealtimePostgresChangesPayload<Row>;

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function subscribeAll(client: SupabaseClient, name: string, table: string, events: Change[], filter?: string): Promise<void> {
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

describe("realtime", { timeout: 120_000 }, () => {
  let h: RealtimeHarness;
  let f: TenantFixture;
  let ownerA: Awaited<ReturnType<typeof signedInUser>>;
  let ownerB: Awaited<ReturnType<typeof signedInUser>>;
  const clients: SupabaseClient[] = [];
  const sockets: RawSocket[] = [];

  before(async () => {
    h = await startTestGateway();
    ownerA = await signedInUser(h);
    ownerB = await signedInUser(h);
    clients.push(ownerA.client, ownerB.client);
    f = await createTenantFixture(h.config, { userA: ownerA.userId, userB: ownerB.userId });
  });

  after(async () => {
    for (const s of sockets) s.close();
    for (const c of clients) await c.removeAllChannels();
    await f.drop();
    await h.stop();
  });

  async function insertItem(business: string, fields: Row = {}): Promise<number> {
    const { rows } = await f.db.query<{ id: string }>(
      `insert into public.${f.items} (business_id, title, status, amount, tags, meta, secret_note)
       values ($1, $2, $3, $4, $5, $6, 'hidden') returning id`,
      [business, fields.title ?? "t", fields.status ?? "new", fields.amount ?? null, fields.tags ?? [], fields.meta ?? null],
    );
    return Number(rows[0].id);
  }

  it("join reply echoes the bindings with integer ids, then the system ok; heartbeats are answered", async () => {
    const raw = await RawSocket.open(h, { apikey: h.config.keys.publishableKey, vsn: "2.0.0" });
    sockets.push(raw);
    const bindings = [
      { event: "*", schema: "public", table: f.items, filter: `business_id=eq.${f.businessA}` },
      { event: "INSERT", schema: "public", table: f.items },
    ];
    raw.send(["1", "1", "realtime:proto", "phx_join", { config: { broadcast: { ack: false, self: false }, presence: { key: "", enabled: false }, postgres_changes: bindings, private: false }, access_token: h.config.keys.serviceRoleKey }]);
    const replyFrame = await raw.waitFor((m) => m[3] === "phx_reply" && m[1] === "1");
    assert.equal(replyFrame[0], "1");
    assert.equal(replyFrame[2], "realtime:proto");
    assert.equal(replyFrame[4].status, "ok");
    const echoed = replyFrame[4].response.postgres_changes as Array<Row & { id: number }>;
    assert.equal(echoed.length, 2);
    echoed.forEach((entry, i) => {
      const { id, ...rest } = entry;
      assert.deepEqual(rest, bindings[i]);
      assert.ok(Number.isInteger(id) && id > 0);
    });
    assert.notEqual(echoed[0].id, echoed[1].id);
    const system = await raw.waitFor((m) => m[3] === "system");
    assert.deepEqual(system, ["1", null, "realtime:proto", "system", { extension: "postgres_changes", status: "ok", message: "Subscribed to PostgreSQL", channel: "proto" }]);
    assert.ok(raw.frames.indexOf(replyFrame) < raw.frames.indexOf(system), "the reply comes before the system message");

    raw.send([null, "2", "phoenix", "heartbeat", {}]);
    assert.deepEqual(await raw.waitFor((m) => m[1] === "2"), [null, "2", "phoenix", "phx_reply", { status: "ok", response: {} }]);

    // A change matching both bindings carries both ids; one matching only the INSERT binding carries one.
    const idA = await insertItem(f.businessA, { title: "both" });
    const idB = await insertItem(f.businessB, { title: "insert-only" });
    const frameA = await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.record?.id === idA);
    const frameB = await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.record?.id === idB);
    assert.deepEqual([...frameA[4].ids].sort(), [echoed[0].id, echoed[1].id].sort());
    assert.deepEqual(frameB[4].ids, [echoed[1].id]);
    assert.equal(frameA[0], null);
    assert.equal(frameA[1], null);

    // UPDATE outside the filter matches no binding (INSERT-only binding ignores UPDATE): no frame at all.
    await f.db.query(`update public.${f.items} set title = 'u' where id = $1`, [idB]);
    await f.db.query(`update public.${f.items} set title = 'u' where id = $1`, [idA]);
    const updateA = await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.type === "UPDATE");
    assert.equal(updateA[4].data.record.id, idA);
    assert.deepEqual(updateA[4].ids, [echoed[0].id]);
    await sleep(300);
    assert.equal(raw.frames.filter((m: any) => m[3] === "postgres_changes" && m[4].data.type === "UPDATE").length, 1);
  });

  it("frames have the §3.5 shape: typnames, typed record values, old_record, commit timestamp", async () => {
    const raw = await RawSocket.open(h, { apikey: h.config.keys.secretKey, vsn: "2.0.0" });
    sockets.push(raw);
    raw.send(["1", "1", "realtime:shape", "phx_join", { config: { postgres_changes: [{ event: "*", schema: "public", table: f.items }] } }]);
    await raw.waitFor((m) => m[3] === "system");
    const id = await insertItem(f.businessA, { title: "shape", amount: "12.50", tags: ["x", "y z"], meta: { nested: { n: 1 }, list: [true] } });
    const insert = (await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.type === "INSERT" && m[4].data.record.id === id))[4].data;
    assert.deepEqual(Object.keys(insert).sort(), ["columns", "commit_timestamp", "errors", "record", "schema", "table", "type"]);
    assert.equal(insert.schema, "public");
    assert.equal(insert.table, f.items);
    assert.equal(insert.errors, null);
    assert.match(insert.commit_timestamp, ISO_MS);
    assert.ok(Math.abs(Date.parse(insert.commit_timestamp) - Date.now()) < 10_000);
    // service_role can read every column, so the frame lists them all, in table order.
    assert.deepEqual(insert.columns, [
      { name: "id", type: "int8" },
      { name: "business_id", type: "uuid" },
      { name: "title", type: "text" },
      { name: "status", type: "text" },
      { name: "amount", type: "numeric" },
      { name: "tags", type: "_text" },
      { name: "meta", type: "jsonb" },
      { name: "secret_note", type: "text" },
      { name: "created_at", type: "timestamptz" },
    ]);
    const { rows } = await f.db.query<{ expected: Row }>(`select to_jsonb(i) as expected from public.${f.items} i where id = $1`, [id]);
    assert.deepEqual(insert.record, rows[0].expected, "record values are what to_jsonb gives");
    assert.equal(insert.record.amount, 12.5);
    assert.deepEqual(insert.record.tags, ["x", "y z"]);

    await f.db.query(`update public.${f.items} set status = 'done' where id = $1`, [id]);
    const update = (await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.type === "UPDATE" && m[4].data.record.id === id))[4].data;
    assert.deepEqual(Object.keys(update).sort(), ["columns", "commit_timestamp", "errors", "old_record", "record", "schema", "table", "type"]);
    assert.equal(update.record.status, "done");
    assert.deepEqual(update.old_record, { id }, "default replica identity: old_record is the primary key");

    await f.db.query(`delete from public.${f.items} where id = $1`, [id]);
    const del = (await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.type === "DELETE" && m[4].data.old_record.id === id))[4].data;
    assert.deepEqual(Object.keys(del).sort(), ["columns", "commit_timestamp", "errors", "old_record", "schema", "table", "type"]);
    assert.deepEqual(del.old_record, { id });

    // REPLICA IDENTITY FULL: UPDATE carries the whole old row; DELETE on an RLS table is still cut to the PK.
    await f.db.query(`alter table public.${f.items} replica identity full`);
    try {
      const id2 = await insertItem(f.businessA, { title: "full" });
      await f.db.query(`update public.${f.items} set title = 'full2' where id = $1`, [id2]);
      const fullUpdate = (await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.type === "UPDATE" && m[4].data.record.id === id2))[4].data;
      assert.equal(fullUpdate.old_record.title, "full");
      assert.equal(fullUpdate.old_record.business_id, f.businessA);
      await f.db.query(`delete from public.${f.items} where id = $1`, [id2]);
      const fullDelete = (await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.type === "DELETE" && m[4].data.old_record.id === id2))[4].data;
      assert.deepEqual(fullDelete.old_record, { id: id2 });
    } finally {
      await f.db.query(`alter table public.${f.items} replica identity default`);
    }
  });

  it("supabase-js callbacks get eventType/new/old, without columns the role may not select", async () => {
    const events: Change[] = [];
    await subscribeAll(ownerA.client, "shapes-js", f.items, events);
    const id = await insertItem(f.businessA, { title: "js", amount: 3, meta: { k: "v" } });
    const insert = await waitFor(events, (e) => e.eventType === "INSERT" && (e.new as Row).id === id);
    assert.equal(insert.schema, "public");
    assert.equal(insert.table, f.items);
    assert.match(insert.commit_timestamp, ISO_MS);
    assert.deepEqual(insert.errors, null);
    const row = insert.new as Row;
    assert.equal(row.title, "js");
    assert.equal(row.amount, 3);
    assert.deepEqual(row.meta, { k: "v" });
    assert.ok(!("secret_note" in row), "column privileges apply to the frame");
    assert.deepEqual(insert.old, {});

    await f.db.query(`update public.${f.items} set status = 'won' where id = $1`, [id]);
    const update = await waitFor(events, (e) => e.eventType === "UPDATE" && (e.new as Row).id === id);
    assert.equal((update.new as Row).status, "won");
    assert.deepEqual(update.old, { id });

    await f.db.query(`delete from public.${f.items} where id = $1`, [id]);
    const del = await waitFor(events, (e) => e.eventType === "DELETE" && (e.old as Row).id === id);
    assert.deepEqual(del.new, {});
    assert.deepEqual(del.old, { id });
    await ownerA.client.removeChannel(ownerA.client.channel("shapes-js"));
  });

  it("two signed-in owners of different businesses each receive only their own rows", async () => {
    const eventsA: Change[] = [];
    const eventsB: Change[] = [];
    await subscribeAll(ownerA.client, "isolation", f.items, eventsA);
    await subscribeAll(ownerB.client, "isolation", f.items, eventsB);
    // Owner A also asks for business B's rows by filter: a filter never widens what RLS allows.
    const sneaky: Change[] = [];
    await subscribeAll(ownerA.client, "isolation-sneaky", f.items, sneaky, `business_id=eq.${f.businessB}`);

    const stranger = randomUUID();
    const a1 = await insertItem(f.businessA, { title: "a1" });
    const b1 = await insertItem(f.businessB, { title: "b1" });
    const s1 = await insertItem(stranger, { title: "nobody's" });
    const a2 = await insertItem(f.businessA, { title: "a2" });
    await f.db.query(`update public.${f.items} set title = 'b1 updated' where id = $1`, [b1]);
    await waitFor(eventsA, (e) => (e.new as Row).id === a2);
    await waitFor(eventsB, (e) => e.eventType === "UPDATE" && (e.new as Row).id === b1);
    await sleep(300);

    const idsOf = (events: Change[]) => events.filter((e) => e.eventType !== "DELETE").map((e) => (e.new as Row).id);
    const businessesOf = (events: Change[]) => new Set(events.filter((e) => e.eventType !== "DELETE").map((e) => (e.new as Row).business_id));
    assert.deepEqual(idsOf(eventsA), [a1, a2]);
    assert.deepEqual(idsOf(eventsB), [b1, b1]);
    assert.deepEqual([...businessesOf(eventsA)], [f.businessA]);
    assert.deepEqual([...businessesOf(eventsB)], [f.businessB]);
    assert.equal(sneaky.length, 0);
    assert.ok(!idsOf(eventsA).includes(s1) && !idsOf(eventsB).includes(s1));
    await ownerA.client.removeAllChannels();
    await ownerB.client.removeAllChannels();
  });

  it("token refresh during a subscription is accepted silently and keeps the stream", async () => {
    const events: Change[] = [];
    await subscribeAll(ownerA.client, "refresh", f.items, events);
    await sleep(1100); // a new token in a later second, so it differs from the current one
    const { data, error } = await ownerA.client.auth.refreshSession();
    assert.equal(error, null);
    assert.notEqual(data.session?.access_token, ownerA.accessToken);
    // supabase-js pushes access_token to joined channels on TOKEN_REFRESHED; make sure it went out.
    await ownerA.client.realtime.setAuth(data.session!.access_token);
    const id = await insertItem(f.businessA, { title: "after refresh" });
    await waitFor(events, (e) => (e.new as Row).id === id);
    await ownerA.client.removeAllChannels();
  });

  it("access_token pushes replace the channel's claims; an expired one closes the channel", async () => {
    const raw = await RawSocket.open(h, { apikey: h.config.keys.publishableKey, vsn: "2.0.0" });
    sockets.push(raw);
    raw.send(["5", "5", "realtime:claims", "phx_join", { config: { postgres_changes: [{ event: "INSERT", schema: "public", table: f.items }] }, access_token: h.config.keys.serviceRoleKey }]);
    await raw.waitFor((m) => m[3] === "system" && m[2] === "realtime:claims");
    const before = await insertItem(f.businessB, { title: "seen by service_role" });
    await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.record.id === before);

    raw.send(["5", "6", "realtime:claims", "access_token", { access_token: ownerA.accessToken }]);
    await sleep(300);
    assert.equal(raw.frames.filter((m: any) => m[1] === "6").length, 0, "access_token gets no reply");
    const hidden = await insertItem(f.businessB, { title: "B's row, now hidden" });
    const visible = await insertItem(f.businessA, { title: "A's row" });
    await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.record.id === visible);
    assert.ok(!raw.frames.some((m: any) => m[3] === "postgres_changes" && m[4].data.record?.id === hidden));
    const frame = raw.frames.find((m: any) => m[3] === "postgres_changes" && m[4].data.record?.id === visible) as any;
    assert.ok(!("secret_note" in frame[4].data.record), "the new role's column privileges apply");

    const expired = signHs256({ sub: ownerA.userId, role: "authenticated", exp: Math.floor(Date.now() / 1000) - 60 }, h.config.keys.jwtSecret);
    raw.send(["5", "7", "realtime:claims", "access_token", { access_token: expired }]);
    const system = await raw.waitFor((m) => m[3] === "system" && m[4].extension === "system");
    assert.equal(system[4].status, "error");
    assert.match(system[4].message, /expired/i);
    assert.deepEqual(await raw.waitFor((m) => m[3] === "phx_close"), ["5", "5", "realtime:claims", "phx_close", {}]);
    raw.send(["5", "8", "realtime:claims", "access_token", { access_token: ownerA.accessToken }]);
    const unmatched = await raw.waitFor((m) => m[1] === "8");
    assert.deepEqual(unmatched, [null, "8", "realtime:claims", "phx_reply", { status: "error", response: { reason: "unmatched topic" } }]);
  });

  it("handles table names with dots, spaces and quotes", async () => {
    const name = `rt weird.name "${randomUUID().slice(0, 6)}"`;
    const quoted = `"${name.replace(/"/g, '""')}"`;
    await f.db.query(`create table public.${quoted} (id int primary key, "the.value" text); alter publication supabase_realtime add table public.${quoted}`);
    try {
      const raw = await RawSocket.open(h, { apikey: h.config.keys.secretKey, vsn: "2.0.0" });
      sockets.push(raw);
      raw.send(["1", "1", "realtime:weird", "phx_join", { config: { postgres_changes: [{ event: "*", schema: "public", table: name, filter: "the.value=eq.a,b" }] } }]);
      // "the.value=eq.a,b" is two clauses; the second has no "=", so the filter is refused...
      assert.equal((await raw.waitFor((m) => m[3] === "system" && m[2] === "realtime:weird"))[4].status, "error");
      raw.send(["2", "2", "realtime:weird2", "phx_join", { config: { postgres_changes: [{ event: "*", schema: "public", table: name, filter: 'the.value=eq."a,b"' }] } }]);
      assert.equal((await raw.waitFor((m) => m[3] === "system" && m[2] === "realtime:weird2"))[4].status, "ok");
      await f.db.query(`insert into public.${quoted} values (1, 'a,b'), (2, 'other')`);
      const frame = await raw.waitFor((m) => m[3] === "postgres_changes" && m[2] === "realtime:weird2");
      assert.deepEqual(frame[4].data.record, { id: 1, "the.value": "a,b" });
      await sleep(200);
      assert.equal(raw.frames.filter((m: any) => m[3] === "postgres_changes").length, 1);
    } finally {
      await f.db.query(`drop table public.${quoted}`);
    }
  });

  it("schema-only and '*' bindings cover every published table; x-api-key works like the apikey param", async () => {
    const url = new URL("/realtime/v1/websocket?vsn=2.0.0", h.url.replace(/^http/, "ws"));
    const ws = new WebSocket(url, { headers: { "x-api-key": h.config.keys.serviceRoleKey } });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const frames: any[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    try {
      ws.send(JSON.stringify(["1", "1", "realtime:wide", "phx_join", { config: { postgres_changes: [{ event: "INSERT", schema: "public" }, { event: "INSERT", schema: "*", table: "*" }] } }]));
      const reply = await waitFor(frames, (m) => m[1] === "1");
      const [schemaOnly, everything] = reply[4].response.postgres_changes.map((b: { id: number }) => b.id);
      assert.equal((await waitFor(frames, (m) => m[3] === "system"))[4].status, "ok");
      const id = await insertItem(f.businessA, { title: "wide" });
      const frame = await waitFor(frames, (m) => m[3] === "postgres_changes" && m[4].data.record.id === id);
      assert.deepEqual([...frame[4].ids].sort(), [schemaOnly, everything].sort());
    } finally {
      ws.close();
    }
  });

  it("closes a channel when its token expires while joined", async () => {
    const raw = await RawSocket.open(h, { apikey: h.config.keys.publishableKey, vsn: "2.0.0" });
    sockets.push(raw);
    const shortLived = signHs256({ sub: ownerA.userId, role: "authenticated", exp: Math.floor(Date.now() / 1000) + 2 }, h.config.keys.jwtSecret);
    raw.send(["9", "9", "realtime:short", "phx_join", { config: { postgres_changes: [] }, access_token: shortLived }]);
    assert.equal((await raw.waitFor((m) => m[1] === "9"))[4].status, "ok");
    const system = await raw.waitFor((m) => m[3] === "system" && m[2] === "realtime:short", 6000);
    assert.deepEqual(system[4], { extension: "system", status: "error", message: "Token has expired", channel: "short" });
    assert.deepEqual(await raw.waitFor((m) => m[3] === "phx_close" && m[2] === "realtime:short"), ["9", "9", "realtime:short", "phx_close", {}]);
  });

  it("filters: eq, neq, lt, lte, gt, gte, in and their combination, per binding", async () => {
    const raw = await RawSocket.open(h, { apikey: h.config.keys.secretKey, vsn: "2.0.0" });
    sockets.push(raw);
    const specs = {
      eq: "status=eq.hot",
      neq: "status=neq.hot",
      lt: "amount=lt.10",
      lte: "amount=lte.10",
      gt: "amount=gt.10",
      gte: "amount=gte.10",
      in: "status=in.(warm,\"very hot\")",
      both: `status=eq.hot,business_id=eq.${f.businessA}`,
    } as const;
    raw.send(["1", "1", "realtime:filters", "phx_join", { config: { postgres_changes: Object.values(specs).map((filter) => ({ event: "INSERT", schema: "public", table: f.items, filter })) } }]);
    const reply = await raw.waitFor((m) => m[3] === "phx_reply");
    const ids = Object.fromEntries(Object.keys(specs).map((k, i) => [k, reply[4].response.postgres_changes[i].id as number]));
    await raw.waitFor((m) => m[3] === "system");
    const cases: Array<[Row & { business?: string }, string[]]> = [
      [{ status: "hot", amount: 10 }, ["eq", "lte", "gte", "both"]],
      [{ status: "warm", amount: 9.5 }, ["neq", "lt", "lte", "in"]],
      [{ status: "very hot", amount: 11, business: f.businessB }, ["neq", "gt", "gte", "in"]],
      [{ status: "hot", amount: null, business: f.businessB }, ["eq"]],
    ];
    for (const [fields, expected] of cases) {
      const id = await insertItem((fields.business as string) ?? f.businessA, fields);
      const frame = await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.record.id === id);
      assert.deepEqual([...frame[4].ids].sort(), expected.map((k) => ids[k]).sort(), `row ${JSON.stringify(fields)}`);
    }
  });

  it("bad subscriptions get a system error: unknown table, unknown filter op or column", async () => {
    const raw = await RawSocket.open(h, { apikey: h.config.keys.publishableKey, vsn: "2.0.0" });
    sockets.push(raw);
    raw.send(["1", "1", "realtime:bad1", "phx_join", { config: { postgres_changes: [{ event: "*", schema: "public", table: "no_such_table_xyz" }] } }]);
    const s1 = await raw.waitFor((m) => m[3] === "system" && m[2] === "realtime:bad1");
    assert.equal(s1[4].status, "error");
    assert.match(s1[4].message, /^Unable to subscribe to changes with given parameters/);
    raw.send(["2", "2", "realtime:bad2", "phx_join", { config: { postgres_changes: [{ event: "*", schema: "public", table: f.items, filter: "status=foo.bar" }] }, access_token: h.config.keys.serviceRoleKey }]);
    const s2 = await raw.waitFor((m) => m[3] === "system" && m[2] === "realtime:bad2");
    assert.equal(s2[4].status, "error");
    assert.match(s2[4].message, /^Error parsing `filter` params/);
    raw.send(["3", "3", "realtime:bad3", "phx_join", { config: { postgres_changes: [{ event: "*", schema: "public", table: f.items, filter: "nope=eq.1" }] }, access_token: h.config.keys.serviceRoleKey }]);
    const s3 = await raw.waitFor((m) => m[3] === "system" && m[2] === "realtime:bad3");
    assert.equal(s3[4].status, "error");
    // anon cannot select the table at all.
    raw.send(["4", "4", "realtime:bad4", "phx_join", { config: { postgres_changes: [{ event: "*", schema: "public", table: f.items }] } }]);
    const s4 = await raw.waitFor((m) => m[3] === "system" && m[2] === "realtime:bad4");
    assert.equal(s4[4].status, "error");
    raw.send(["5", "5", "realtime:", "phx_join", { config: {} }]);
    const s5 = await raw.waitFor((m) => m[1] === "5");
    assert.equal(s5[4].status, "error");
    const expired = signHs256({ role: "authenticated", exp: Math.floor(Date.now() / 1000) - 30 }, h.config.keys.jwtSecret);
    raw.send(["6", "6", "realtime:exp", "phx_join", { config: {}, access_token: expired }]);
    const s6 = await raw.waitFor((m) => m[1] === "6");
    assert.equal(s6[4].status, "error");
    assert.match(s6[4].response.reason, /^InvalidJWTToken: Token has expired \d+ seconds ago$/);
  });

  it("leave gets a reply then phx_close; unmatched topics and garbage frames are answered without harm", async () => {
    const raw = await RawSocket.open(h, { apikey: h.config.keys.publishableKey, vsn: "2.0.0" });
    sockets.push(raw);
    raw.send(["3", "3", "realtime:room", "phx_join", { config: { postgres_changes: [] } }]);
    const join = await raw.waitFor((m) => m[1] === "3");
    assert.deepEqual(join[4], { status: "ok", response: { postgres_changes: [] } });
    for (const junk of ["not json", "[1,2]", '{"topic":1}', "[null,null,null,null,null]", '["1","2","t","e","payload-not-object"]', ""]) raw.send(junk);
    raw.ws.send(Buffer.from([3, 1, 2, 3, 250]), { binary: true });
    raw.send([null, "4", "realtime:elsewhere", "broadcast", { type: "broadcast", event: "x", payload: {} }]);
    assert.deepEqual(await raw.waitFor((m) => m[1] === "4"), [null, "4", "realtime:elsewhere", "phx_reply", { status: "error", response: { reason: "unmatched topic" } }]);
    raw.send(["3", "5", "realtime:room", "phx_leave", {}]);
    assert.deepEqual(await raw.waitFor((m) => m[1] === "5"), ["3", "5", "realtime:room", "phx_reply", { status: "ok", response: {} }]);
    assert.deepEqual(await raw.waitFor((m) => m[3] === "phx_close"), ["3", "3", "realtime:room", "phx_close", {}]);
    raw.send([null, "6", "phoenix", "heartbeat", {}]);
    await raw.waitFor((m) => m[1] === "6" && m[3] === "phx_reply");
  });

  it("refuses upgrades with the §3.1 errors", async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[Record<string, string>, string]> = [
      [{ vsn: "2.0.0" }, "API key is missing"],
      [{ apikey: "not-a-jwt", vsn: "2.0.0" }, "The token provided is not a valid JWT"],
      [{ apikey: signHs256({ role: "anon", exp: now + 60 }, "wrong-secret-wrong-secret-wrong-secret"), vsn: "2.0.0" }, "Failed to validate JWT signature"],
      [{ apikey: signHs256({ role: "anon", exp: now - 60 }, h.config.keys.jwtSecret), vsn: "2.0.0" }, "Token has expired"],
      [{ apikey: signHs256({ role: "anon" }, h.config.keys.jwtSecret), vsn: "2.0.0" }, "Fields `role` and `exp` are required in JWT"],
    ];
    for (const [query, message] of cases) {
      const refusal = await RawSocket.refusal(h, query);
      assert.equal(refusal.status, 401, message);
      assert.deepEqual(JSON.parse(refusal.body), { error: message });
    }
  });

  it("edge cases: no primary key, unchanged TOAST values, a policy that fails for one subscriber", async () => {
    const suffix = randomUUID().replace(/-/g, "").slice(0, 8);
    const nopk = `rt_nopk_${suffix}`;
    const docs = `rt_docs_${suffix}`;
    await f.db.query(`
      create table public.${nopk} (name text);
      create table public.${docs} (id int primary key, owner uuid not null, body text, status text);
      alter table public.${docs} alter column body set storage external;
      alter table public.${docs} replica identity full;
      alter table public.${docs} enable row level security;
      create function public.${docs}_guard(owner uuid) returns boolean language plpgsql stable as $$
      begin
        if auth.uid() = '${ownerB.userId}' then raise exception 'policy exploded for this user'; end if;
        return owner = auth.uid();
      end $$;
      create policy guarded on public.${docs} for select to authenticated using (public.${docs}_guard(owner));
      grant select on public.${docs}, public.${nopk} to authenticated;
      alter publication supabase_realtime add table public.${nopk}, public.${docs};
    `);
    try {
      const raw = await RawSocket.open(h, { apikey: h.config.keys.secretKey, vsn: "2.0.0" });
      sockets.push(raw);
      raw.send(["1", "1", "realtime:edge", "phx_join", { config: { postgres_changes: [{ event: "*", schema: "public", table: nopk }, { event: "*", schema: "public", table: docs }] } }]);
      await raw.waitFor((m) => m[3] === "system");
      await f.db.query(`insert into public.${nopk} values ('x')`);
      const noPkFrame = await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.table === nopk);
      assert.deepEqual(noPkFrame[4].data, { schema: "public", table: nopk, type: "INSERT", errors: ["Error 400: Bad Request, no primary key"] });

      const big = "x".repeat(20_000);
      await f.db.query(`insert into public.${docs} values (1, $1, $2, 'draft')`, [ownerA.userId, big]);
      await f.db.query(`update public.${docs} set status = 'final' where id = 1`);
      const update = await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.table === docs && m[4].data.type === "UPDATE");
      assert.equal(update[4].data.record.status, "final");
      // wal2json leaves the unchanged TOASTed value out of the new row; it comes from the full old row.
      assert.ok(update[4].data.record.body === big, "the unchanged TOASTed value is filled in");

      // Owner B's policy check raises: B misses the change, A still gets it.
      const eventsA: Change[] = [];
      const eventsB: Change[] = [];
      await subscribeAll(ownerA.client, "edge-a", docs, eventsA);
      await subscribeAll(ownerB.client, "edge-b", docs, eventsB);
      await f.db.query(`insert into public.${docs} values (2, $1, 'small', 'new')`, [ownerA.userId]);
      await waitFor(eventsA, (e) => (e.new as Row).id === 2);
      await sleep(300);
      assert.equal(eventsB.length, 0);
      await ownerA.client.removeAllChannels();
      await ownerB.client.removeAllChannels();

      // Only tables in the supabase_realtime publication produce events.
      await f.db.query(`alter publication supabase_realtime drop table public.${docs}`);
      await f.db.query(`insert into public.${docs} values (3, $1, 'unpublished', 'new')`, [ownerA.userId]);
      await f.db.query(`insert into public.${nopk} values ('still published')`);
      await raw.waitFor((m) => m[3] === "postgres_changes" && m[4].data.table === nopk && raw.frames.filter((x: any) => x[4]?.data?.table === nopk).length === 2);
      assert.ok(!raw.frames.some((m: any) => m[3] === "postgres_changes" && m[4].data.record?.id === 3));
    } finally {
      await f.db.query(`drop table public.${nopk}, public.${docs}; drop function public.${docs}_guard(uuid)`);
    }
  });

  it("speaks vsn 1.0.0 (JSON objects, no join_ref from the server)", async () => {
    const raw = await RawSocket.open(h, { apikey: h.config.keys.serviceRoleKey, vsn: "1.0.0" });
    sockets.push(raw);
    raw.send({ topic: "realtime:v1", event: "phx_join", payload: { config: { postgres_changes: [{ event: "INSERT", schema: "public", table: f.items }] } }, ref: "1", join_ref: "1" });
    const reply = await raw.waitFor((m) => m.event === "phx_reply");
    assert.deepEqual(Object.keys(reply).sort(), ["event", "payload", "ref", "topic"]);
    assert.equal(reply.ref, "1");
    assert.equal(reply.payload.status, "ok");
    const id = reply.payload.response.postgres_changes[0].id;
    const system = await raw.waitFor((m) => m.event === "system");
    assert.deepEqual(system, { topic: "realtime:v1", event: "system", payload: { extension: "postgres_changes", status: "ok", message: "Subscribed to PostgreSQL", channel: "v1" }, ref: null });
    raw.send({ topic: "phoenix", event: "heartbeat", payload: {}, ref: "2" });
    assert.deepEqual(await raw.waitFor((m) => m.ref === "2"), { topic: "phoenix", event: "phx_reply", payload: { status: "ok", response: {} }, ref: "2" });
    const row = await insertItem(f.businessA, { title: "v1" });
    const change = await raw.waitFor((m) => m.event === "postgres_changes" && m.payload.data.record.id === row);
    assert.deepEqual(Object.keys(change).sort(), ["event", "payload", "ref", "topic"]);
    assert.equal(change.ref, null);
    assert.deepEqual(change.payload.ids, [id]);
    raw.send(["1", "3", "realtime:v1", "phx_leave", {}]); // a v2 frame on a v1 socket is garbage, and ignored
    raw.send({ topic: "realtime:v1", event: "phx_leave", payload: {}, ref: "4", join_ref: "1" });
    assert.deepEqual(await raw.waitFor((m) => m.ref === "4"), { topic: "realtime:v1", event: "phx_reply", payload: { status: "ok", response: {} }, ref: "4" });
  });
});
