// PostgREST conformance through @supabase/supabase-js, writes and the rest: mutations, rpc, schemas and errors.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@supabase/supabase-js";
import WebSocket from "ws";
import { signedInClient, type GatewayFixture } from "../test-support.ts";
import { startRestFixture, stopRestFixture, type RestFixture } from "./test-fixture.ts";

let fixture: RestFixture;
let f: GatewayFixture;
let T: (name: string) => string;

before(async () => {
  fixture = await startRestFixture();
  ({ f, T } = fixture);
});
after(() => stopRestFixture(fixture));

describe("mutations", () => {
  test("insert without select: 201 and no body; with select: the rows", async () => {
    const c = f.client();
    const plain = await c.from(T("posts")).insert({ title: "quiet insert", author_id: 3 });
    assert.equal(plain.status, 201);
    assert.equal(plain.data, null);
    assert.equal(plain.error, null);
    // The client sends columns= with the union of keys; a key a row lacks becomes NULL, not the default.
    const rows = await c
      .from(T("posts"))
      .insert([{ title: "bulk one", body: "x" }, { title: "bulk two", rating: 1.5 }])
      .select("title, body, rating, views");
    assert.equal(rows.status, 201);
    assert.deepEqual(rows.data, [
      { title: "bulk one", body: "x", rating: null, views: 0 },
      { title: "bulk two", body: null, rating: 1.5, views: 0 },
    ]);
    const notNull = await c.from(T("posts")).insert([{ title: "has tags", tags: ["a"] }, { title: "lacks tags" }]);
    assert.equal(notNull.error?.code, "23502");
  });

  test("the representation of a mutation can embed related rows", async () => {
    const c = f.client();
    const inserted = await c
      .from(T("posts"))
      .insert({ title: "embedded on insert", author_id: 2 })
      .select(`title, author:${T("authors")}!author_id(name)`)
      .single();
    assert.deepEqual(inserted.data, { title: "embedded on insert", author: { name: "Brian" } });
    const updated = await c
      .from(T("posts"))
      .update({ author_id: 1 })
      .eq("title", "embedded on insert")
      .select(`author:${T("authors")}!author_id(name)`);
    assert.deepEqual(updated.data, [{ author: { name: "Ada" } }]);
    const deleted = await c.from(T("posts")).delete().eq("title", "embedded on insert").select("title");
    assert.deepEqual(deleted.data, [{ title: "embedded on insert" }]);
  });

  test("missing=default fills defaults for keys a row omits", async () => {
    const { data, error } = await f
      .client()
      .from(T("posts"))
      .insert([{ title: "default a", views: 7 }, { title: "default b" }], { defaultToNull: false })
      .select("title, views, tags, published");
    assert.equal(error, null);
    assert.deepEqual(data, [
      { title: "default a", views: 7, tags: [], published: false },
      { title: "default b", views: 0, tags: [], published: false },
    ]);
  });

  test("upsert merges on the primary key or on_conflict, and ignoreDuplicates keeps the row", async () => {
    const c = f.client();
    const first = await c.from(T("counters")).upsert({ key: "a", n: 1 }).select();
    assert.equal(first.status, 201);
    assert.deepEqual(first.data, [{ key: "a", n: 1, note: "fresh" }]);
    const merged = await c.from(T("counters")).upsert({ key: "a", n: 5 }).select("key, n");
    assert.equal(merged.status, 200);
    assert.deepEqual(merged.data, [{ key: "a", n: 5 }]);
    const ignored = await c.from(T("counters")).upsert({ key: "a", n: 99 }, { ignoreDuplicates: true }).select("key, n");
    assert.equal(ignored.status, 200);
    assert.deepEqual(ignored.data, []);
    const ignoredMinimal = await c.from(T("counters")).upsert({ key: "a", n: 98 }, { ignoreDuplicates: true });
    assert.equal(ignoredMinimal.status, 200);
    const insertedMinimal = await c.from(T("counters")).upsert({ key: "b", n: 1 }, { ignoreDuplicates: true });
    assert.equal(insertedMinimal.status, 201);
    assert.deepEqual((await c.from(T("counters")).select("n").eq("key", "a").single()).data, { n: 5 });
    const byEmail = await c
      .from(T("authors"))
      .upsert({ id: 1, name: "Ada Lovelace", email: "ada@example.test" }, { onConflict: "email" })
      .select("id, name");
    assert.deepEqual(byEmail.data, [{ id: 1, name: "Ada Lovelace" }]);
    await c.from(T("authors")).update({ name: "Ada" }).eq("id", 1);
  });

  test("update and delete: 204 without select, rows with select, count=exact", async () => {
    const c = f.client();
    await c.from(T("counters")).insert([{ key: "u1" }, { key: "u2" }, { key: "u3" }]);
    const upd = await c.from(T("counters")).update({ note: "seen" }).in("key", ["u1", "u2"]);
    assert.equal(upd.status, 204);
    assert.equal(upd.data, null);
    const updSel = await c.from(T("counters")).update({ n: 3 }).eq("key", "u3").select("key, n, note");
    assert.equal(updSel.status, 200);
    assert.deepEqual(updSel.data, [{ key: "u3", n: 3, note: "fresh" }]);
    const del = await c.from(T("counters")).delete({ count: "exact" }).like("key", "u*");
    assert.equal(del.status, 204);
    assert.equal(del.count, 3);
    const after = await c.from(T("counters")).select("key").like("key", "u*");
    assert.deepEqual(after.data, []);
  });

  test("limited update and delete touch only the ordered, limited rows", async () => {
    const c = f.client();
    await c.from(T("counters")).insert([{ key: "l1" }, { key: "l2" }, { key: "l3" }]);
    const upd = await c.from(T("counters")).update({ note: "first" }).like("key", "l*").order("key").limit(1).select("key");
    assert.deepEqual(upd.data, [{ key: "l1" }]);
    const del = await c.from(T("counters")).delete().like("key", "l*").order("key", { ascending: false }).limit(2).select("key");
    assert.deepEqual(del.data?.map((r) => r.key).sort(), ["l2", "l3"]);
    const left = await c.from(T("counters")).select("key, note").like("key", "l*");
    assert.deepEqual(left.data, [{ key: "l1", note: "first" }]);
  });

  test("rollback() and maxAffected()", async () => {
    const c = f.client();
    const rolled = await c.from(T("counters")).insert({ key: "rolled" }).select().rollback();
    assert.equal(rolled.status, 201);
    const check = await c.from(T("counters")).select("key").eq("key", "rolled");
    assert.deepEqual(check.data, []);
    await c.from(T("counters")).insert([{ key: "m1" }, { key: "m2" }]);
    // maxAffected is typed for PostgREST 13+ clients only; the wire form is the same.
    const limited = c.from(T("counters")).update({ n: 9 }).like("key", "m*") as unknown as { maxAffected(n: number): PromiseLike<{ error: { code: string } | null }> };
    const tooMany = await limited.maxAffected(1);
    assert.equal(tooMany.error?.code, "PGRST124");
    const unchanged = await c.from(T("counters")).select("n").like("key", "m*");
    assert.deepEqual(unchanged.data?.map((r) => r.n), [0, 0]);
  });

  test("constraint errors carry the SQLSTATE and PostgREST's status", async () => {
    const c = f.client();
    const dup = await c.from(T("authors")).insert({ id: 1, name: "again" });
    assert.equal(dup.status, 409);
    assert.equal(dup.error?.code, "23505");
    const fk = await c.from(T("posts")).insert({ title: "x", author_id: 999 });
    assert.equal(fk.status, 409);
    assert.equal(fk.error?.code, "23503");
    const notNull = await c.from(T("posts")).insert({ body: "no title" });
    assert.equal(notNull.status, 400);
    assert.equal(notNull.error?.code, "23502");
    const badType = await c.from(T("posts")).select("id").eq("id", "abc");
    assert.equal(badType.status, 400);
    assert.equal(badType.error?.code, "22P02");
  });
});

describe("rpc", () => {
  test("scalar, composite, set-returning and json-parameter functions by POST and GET", async () => {
    const c = f.client();
    assert.deepEqual((await c.rpc(T("add"), { a: 2, b: 3 })).data, 5);
    assert.deepEqual((await c.rpc(T("add"), { a: 2, b: 40 }, { get: true })).data, 42);
    const rows = await c.rpc(T("posts_of"), { author: 1 }).select("id, title").order("id", { ascending: false });
    assert.deepEqual(rows.data, [
      { id: 2, title: "Bernoulli numbers" },
      { id: 1, title: "Analytical engines" },
    ]);
    const filtered = await c.rpc(T("posts_of"), { author: 1 }, { get: true }).eq("id", 1).select("id");
    assert.deepEqual(filtered.data, [{ id: 1 }]);
    const embedded = await c.rpc(T("posts_of"), { author: 2 }).select(`id, author:${T("authors")}!author_id(name)`);
    assert.deepEqual(embedded.data, [{ id: 3, author: { name: "Brian" } }]);
    const one = await c.rpc(T("author"), { author: 2 });
    assert.deepEqual(one.data, { id: 2, name: "Brian", email: "brian@example.test", created_at: "2025-01-01T00:00:00+00:00" });
    assert.deepEqual((await c.rpc(T("echo"), { any: ["thing", 1] })).data, { any: ["thing", 1] });
    assert.deepEqual((await c.rpc(T("numbers"), { n: 3 })).data, [1, 2, 3]);
    const counted = await c.rpc(T("numbers"), { n: 5 }, { count: "exact", head: true });
    assert.equal(counted.count, 5);
    const voided = await c.rpc(T("nothing"));
    assert.equal(voided.status, 204);
    assert.equal(voided.error, null);
  });

  test("volatile functions run read-write by POST and read-only by GET", async () => {
    const c = f.client();
    assert.equal((await c.rpc(T("bump"), { k: "rpc" })).data, 1);
    assert.equal((await c.rpc(T("bump"), { k: "rpc" })).data, 2);
    const viaGet = await c.rpc(T("bump"), { k: "rpc" }, { get: true });
    assert.equal(viaGet.status, 405);
    assert.equal(viaGet.error?.code, "25006");
    // A STABLE function runs in a READ ONLY transaction even by POST; a VOLATILE one only by GET.
    assert.equal((await c.rpc(T("tx_mode"))).data, "on");
    assert.equal((await c.rpc(T("tx_mode_volatile"))).data, "off");
    assert.equal((await c.rpc(T("tx_mode_volatile"), {}, { get: true })).data, "on");
    assert.equal((await c.from(T("authors")).select("id").limit(1)).error, null);
  });

  test("unknown functions and PT-coded errors", async () => {
    const c = f.client();
    const missing = await c.rpc(T("add"), { x: 1 });
    assert.equal(missing.status, 404);
    assert.equal(missing.error?.code, "PGRST202");
    const pt = await c.rpc(T("fail"), { code: "PT402", msg: "pay first" });
    assert.equal(pt.status, 402);
    assert.equal(pt.error?.code, "PT402");
    assert.equal(pt.error?.message, "pay first");
    const raised = await c.rpc(T("fail"), { code: "P0001", msg: "plain raise" });
    assert.equal(raised.status, 400);
    assert.deepEqual(
      { code: raised.error?.code, message: raised.error?.message, details: raised.error?.details, hint: raised.error?.hint },
      { code: "P0001", message: "plain raise", details: "some detail", hint: "some hint" },
    );
  });

  test("the preamble: role, claims, method, path, lower-cased headers without cookies, search_path", async () => {
    const { data, error } = await f.client().rpc(T("request"), {}, { get: true });
    assert.equal(error, null);
    const r = data as { method: string; path: string; role: string; claims: { role: string }; headers: Record<string, string>; search_path: string };
    assert.equal(r.method, "GET");
    assert.equal(r.path, `/rpc/${T("request")}`);
    assert.equal(r.role, "anon");
    assert.equal(r.claims.role, "anon");
    assert.equal(r.headers["accept-profile"], "public");
    assert.match(r.headers["x-client-info"], /^supabase-js/);
    assert.match(r.headers.authorization, /^Bearer ey/); // the publishable key became the anon JWT
    assert.equal(r.headers.cookie, undefined);
    assert.equal(r.headers["x-real-ip"], "127.0.0.1", "like Kong, the gateway names the peer");
    assert.equal(r.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(r.search_path, '"public", "extensions"');
    const spoofing = createClient(f.gateway.url, f.config.keys.publishableKey, {
      auth: { persistSession: false },
      realtime: { transport: WebSocket as never },
      global: { headers: { "x-real-ip": "203.0.113.9", "x-forwarded-for": "203.0.113.9" } },
    });
    const spoofed = (await spoofing.rpc(T("request"), {}, { get: true })).data as { headers: Record<string, string> };
    assert.equal(spoofed.headers["x-real-ip"], "127.0.0.1", "a client cannot choose the address the rate limits see");
    assert.equal(spoofed.headers["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    const service = await f.client(f.config.keys.secretKey).rpc(T("request"));
    assert.equal((service.data as { role: string }).role, "service_role");
  });
});

describe("schemas and errors", () => {
  test("unknown tables, columns and schemas", async () => {
    const c = f.client();
    const table = await c.from("no_such_table_anywhere").select();
    assert.equal(table.status, 404);
    assert.equal(table.error?.code, "PGRST205");
    const column = await c.from(T("posts")).select("nope");
    assert.equal(column.status, 400);
    assert.equal(column.error?.code, "42703");
    const payload = await c.from(T("posts")).insert({ title: "x", nope: 1 });
    assert.equal(payload.status, 400);
    assert.equal(payload.error?.code, "PGRST204");
    const schemaErr = await c.schema("private").from("anything").select();
    assert.equal(schemaErr.status, 406);
    assert.equal(schemaErr.error?.code, "PGRST106");
    const parse = await c.from(T("posts")).select("id,(oops");
    assert.equal(parse.status, 400);
    assert.equal(parse.error?.code, "PGRST100");
  });

  test("tables created after the gateway started are found (cache reload on miss, on NOTIFY and on DDL)", async () => {
    const name = T("late");
    // Like PostgREST, the cache learns of DDL from the platform's NOTIFY (and a miss re-reads the catalog
    // at most once a second), so a request may race the reload: ask until the answer settles.
    const settled = async (ask: () => PromiseLike<{ data: unknown; error: unknown }>) => {
      let last: unknown = null;
      for (let attempt = 0; attempt < 40; attempt++) {
        const res = await ask();
        last = res.data ?? res.error;
        if (res.error === null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return last;
    };
    await f.sql(`create table public.${name} (id int primary key); insert into public.${name} values (7)`);
    try {
      assert.deepEqual(await settled(() => f.client().from(name).select("id")), [{ id: 7 }]);
      await f.sql(`alter table public.${name} add column label text; notify pgrst, 'reload schema'`);
      assert.deepEqual(await settled(() => f.client().from(name).insert({ id: 8, label: "new column" }).select("label")), [{ label: "new column" }]);
      // A column type change plus NOTIFY: statements prepared for the old type must not be reused.
      // Concurrent requests so every pooled connection has prepared the statement for an int column.
      const warm = await Promise.all(Array.from({ length: 30 }, () => f.client().from(name).select("id").eq("id", 7)));
      assert.ok(warm.every((r) => r.error === null));
      // No explicit NOTIFY here: the platform's DDL event trigger sends it, as on Supabase.
      await f.sql(`alter table public.${name} alter column id type text using 'n' || id`);
      assert.deepEqual(await settled(() => f.client().from(name).select("id").eq("id", "n7")), [{ id: "n7" }]);
    } finally {
      await f.sql(`drop table if exists public.${name}`);
    }
  });

  test("a user JWT reaches auth.uid() inside REST requests", async () => {
    const user = await signedInClient(f, "rest");
    const { data } = await user.client.rpc(T("request"));
    const r = data as { role: string; claims: { sub: string; role: string } };
    assert.equal(r.role, "authenticated");
    assert.equal(r.claims.sub, user.userId);
  });
});

describe("more of PostgREST", () => {
  test("views inherit their base table's foreign keys", async () => {
    const { data, error } = await f.client().from(T("published")).select(`title, ${T("authors")}(name)`).order("id");
    assert.equal(error, null);
    assert.deepEqual(data, [
      { title: "Analytical engines", [T("authors")]: { name: "Ada" } },
      { title: "Bernoulli numbers", [T("authors")]: { name: "Ada" } },
    ]);
  });

  test("ordering by a to-one embed's column", async () => {
    const { data } = await f
      .client()
      .from(T("posts"))
      .select(`id, author:${T("authors")}!author_id(name)`)
      .in("id", [1, 2, 3])
      .order("name", { referencedTable: "author", ascending: false })
      .order("id");
    // postgrest-js puts referenced-table order under author.order; the top-level order stays by id.
    assert.deepEqual((data as { id: number }[] | null)?.map((r) => r.id), [1, 2, 3]);
    const res = await fetch(
      `${f.gateway.url}/rest/v1/${T("posts")}?select=id,author:${T("authors")}!author_id(name)&id=in.(1,2,3,4)&author_id=not.is.null&order=author(name).desc,id.asc`,
      { headers: { apikey: f.config.keys.publishableKey } },
    );
    assert.deepEqual((await res.json()).map((r: { id: number }) => r.id), [3, 1, 2]);
  });

  test("rpc GET with array arguments, and response.status / response.headers set from SQL", async () => {
    const c = f.client();
    const tagged = await c.rpc(T("tagged"), { wanted: ["code", "history"] }, { get: true }).select("id").order("id");
    assert.deepEqual(tagged.data, [{ id: 1 }, { id: 3 }]);
    const posted = await c.rpc(T("tagged"), { wanted: ["math"] }).select("id").order("id");
    assert.deepEqual(posted.data, [{ id: 1 }, { id: 2 }]);
    const created = await c.rpc(T("created"), { label: "lead-7" });
    assert.equal(created.status, 202);
    assert.deepEqual(created.data, { accepted: "lead-7" });
    const raw = await fetch(`${f.gateway.url}/rest/v1/rpc/${T("created")}`, {
      method: "POST",
      headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json" },
      body: JSON.stringify({ label: "raw" }),
    });
    assert.equal(raw.headers.get("x-label"), "raw");
  });

  test("csv output", async () => {
    const { data, error } = await f.client().from(T("authors")).select("id, name, email").order("id").csv();
    assert.equal(error, null);
    assert.equal(data, "id,name,email\n1,Ada,ada@example.test\n2,Brian,brian@example.test\n3,Cleo,");
  });

  test("return=headers-only gives a Location for the new row", async () => {
    const res = await fetch(`${f.gateway.url}/rest/v1/${T("counters")}`, {
      method: "POST",
      headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json", Prefer: "return=headers-only" },
      body: JSON.stringify({ key: "located" }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), `/${T("counters")}?key=eq.located`);
    assert.equal(await res.text(), "");
  });
});
