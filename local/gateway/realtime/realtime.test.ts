// Realtime postgres_changes through the gateway (docs/supabase-standin-spec.md §3, §6 item 3): join reply and
// system message, INSERT/UPDATE/DELETE frames, RLS by the subscriber's own claims (two signed-in owners of
// different businesses), access_token refresh and expiry.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { signHs256 } from "../../keys.ts";
import { RawSocket, sleep, waitFor } from "./test-harness.ts";
import { ISO_MS, startRealtimeSuite, subscribeAll, type Change, type RealtimeSuite, type Row } from "./test-suite.ts";

describe("realtime", { timeout: 120_000 }, () => {
  let s: RealtimeSuite;
  let h: RealtimeSuite["h"];
  let f: RealtimeSuite["f"];
  let ownerA: RealtimeSuite["ownerA"];
  let ownerB: RealtimeSuite["ownerB"];
  let sockets: RawSocket[];

  before(async () => {
    s = await startRealtimeSuite();
    ({ h, f, ownerA, ownerB, sockets } = s);
  });
  after(() => s.stop());

  const insertItem = (business: string, fields?: Row) => s.insertItem(business, fields);

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
    // A longer wait than the others: on a full test stack the minute sweep's transactions share the WAL stream.
    await waitFor(events, (e) => (e.new as Row).id === id, 15_000);
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
});
