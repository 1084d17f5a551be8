// Realtime's protocol edges through the gateway (docs/supabase-standin-spec.md §3): per-binding filters, bad
// subscriptions, leave, unmatched topics, garbage frames, upgrade refusals, changes without a primary key or
// with unchanged TOAST values, and the vsn 1.0.0 serializer.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { signHs256 } from "../../keys.ts";
import { RawSocket, sleep, waitFor } from "./test-harness.ts";
import { startRealtimeSuite, subscribeAll, type Change, type RealtimeSuite, type Row } from "./test-suite.ts";

describe("realtime protocol", { timeout: 120_000 }, () => {
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
