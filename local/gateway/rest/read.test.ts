// PostgREST conformance through @supabase/supabase-js, reads: selects, filters, counts, single rows and embeds.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { GatewayFixture } from "../test-support.ts";
import { startRestFixture, stopRestFixture, type RestFixture } from "./test-fixture.ts";

let fixture: RestFixture;
let f: GatewayFixture;
let T: (name: string) => string;

before(async () => {
  fixture = await startRestFixture();
  ({ f, T } = fixture);
});
after(() => stopRestFixture(fixture));

describe("select", () => {
  test("columns, aliases, casts and JSON paths render as PostgREST renders them", async () => {
    const { data, error, status } = await f
      .client()
      .from(T("posts"))
      .select("id, headline:title, rating, score:rating::text, lang:meta->>lang, likes:meta->stats->likes, meta->stats, tags, created:published")
      .eq("id", 1);
    assert.equal(error, null);
    assert.equal(status, 200);
    assert.deepEqual(data, [
      { id: 1, headline: "Analytical engines", rating: 4.5, score: "4.5", lang: "en", likes: 5, stats: { likes: 5 }, tags: ["math", "history"], created: true },
    ]);
  });

  test("timestamptz renders as ISO with offset", async () => {
    const { data } = await f.client().from(T("authors")).select("created_at").eq("id", 1).single();
    assert.deepEqual(data, { created_at: "2025-01-01T00:00:00+00:00" });
  });

  test("every filter operator the client offers", async () => {
    const c = f.client();
    const ids = async (q: PromiseLike<{ data: { id: number }[] | null; error: unknown }>) => {
      const { data, error } = await q;
      assert.equal(error, null);
      return (data ?? []).map((r) => r.id).sort((a, b) => a - b);
    };
    const posts = () => c.from(T("posts")).select("id");
    assert.deepEqual(await ids(posts().eq("author_id", 1)), [1, 2]);
    assert.deepEqual(await ids(posts().neq("author_id", 1)), [3]);
    assert.deepEqual(await ids(posts().gt("views", 10)), [1, 2]);
    assert.deepEqual(await ids(posts().gte("views", 10)), [1, 2, 3]);
    assert.deepEqual(await ids(posts().lt("views", 10)), [4]);
    assert.deepEqual(await ids(posts().lte("views", 10)), [3, 4]);
    assert.deepEqual(await ids(posts().like("title", "%engine%")), [1]);
    assert.deepEqual(await ids(posts().like("title", "*numbers")), [2]);
    assert.deepEqual(await ids(posts().ilike("title", "%ORPHAN%")), [4]);
    assert.deepEqual(await ids(posts().is("author_id", null)), [4]);
    assert.deepEqual(await ids(posts().not("author_id", "is", null)), [1, 2, 3]);
    assert.deepEqual(await ids(posts().is("published", true)), [1, 2]);
    assert.deepEqual(await ids(posts().in("id", [1, 3, 99])), [1, 3]);
    assert.deepEqual(await ids(posts().in("title", ["C, the language", "Orphan (draft)"])), [3, 4]);
    assert.deepEqual(await ids(posts().in("id", [])), []);
    assert.deepEqual(await ids(posts().not("id", "in", "(1,2)")), [3, 4]);
    assert.deepEqual(await ids(posts().contains("tags", ["math"])), [1, 2]);
    assert.deepEqual(await ids(posts().containedBy("tags", ["math", "history", "x"])), [1, 2, 4]);
    assert.deepEqual(await ids(posts().overlaps("tags", ["code", "history"])), [1, 3]);
    assert.deepEqual(await ids(posts().contains("meta", { lang: "fr" })), [3]);
    assert.deepEqual(await ids(posts().textSearch("fts", "engine")), [1]);
    assert.deepEqual(await ids(posts().textSearch("fts", "first program", { type: "plain", config: "english" })), [2]);
    assert.deepEqual(await ids(posts().textSearch("fts", "'first program'", { type: "phrase" })), [2]);
    assert.deepEqual(await ids(posts().textSearch("fts", "engine or language", { type: "websearch" })), [1, 3]);
    assert.deepEqual(await ids(posts().match({ author_id: 1, published: true })), [1, 2]);
    assert.deepEqual(await ids(posts().filter("views", "in", "(0,10)")), [3, 4]);
    assert.deepEqual(await ids(posts().or("views.gt.200,title.eq.Orphan (draft)")), [2, 4]);
    assert.deepEqual(await ids(posts().or("and(published.is.true,views.lt.200),id.eq.3")), [1, 3]);
    assert.deepEqual(await ids(posts().or('title.eq."C, the language",id.eq.4')), [3, 4]);
    assert.deepEqual(await ids(posts().not("title", "like", "*a*")), [2]);
    assert.deepEqual(await ids(posts().likeAnyOf("title", ["Ana*", "Orph*"])), [1, 4]);
    assert.deepEqual(await ids(posts().ilikeAllOf("title", ["%A%", "%e%"])), [1, 3]);
    assert.deepEqual(await ids(posts().eq("meta->>lang", "fr")), [3]);
    assert.deepEqual(await ids(posts().gt("meta->stats->likes", 6)), [2]);
    assert.deepEqual(await ids(posts().match({ id: 2 }).or("id.eq.1,id.eq.2")), [2]);
    assert.deepEqual(await ids(posts().filter("title", "imatch", "^c,")), [3]);
    assert.deepEqual(await ids(posts().filter("rating", "isdistinct", "5")), [1, 3, 4]);
  });

  test("order with nulls placement, limit, range and offset", async () => {
    const c = f.client();
    const { data: a } = await c.from(T("posts")).select("id").order("rating", { ascending: false, nullsFirst: true });
    assert.deepEqual(a?.map((r) => r.id), [3, 2, 1, 4]);
    const { data: b } = await c.from(T("posts")).select("id").order("rating", { ascending: true, nullsFirst: false });
    assert.deepEqual(b?.map((r) => r.id), [4, 1, 2, 3]);
    const { data: d } = await c.from(T("posts")).select("id").order("author_id").order("id", { ascending: false }).limit(3);
    assert.deepEqual(d?.map((r) => r.id), [2, 1, 3]);
    const { data: e } = await c.from(T("posts")).select("id").order("id").range(1, 2);
    assert.deepEqual(e?.map((r) => r.id), [2, 3]);
  });

  test("count=exact sets Content-Range and 206 for a partial page", async () => {
    const c = f.client();
    const full = await c.from(T("posts")).select("id", { count: "exact" });
    assert.equal(full.status, 200);
    assert.equal(full.count, 4);
    const part = await c.from(T("posts")).select("id", { count: "exact" }).order("id").range(0, 1);
    assert.equal(part.status, 206);
    assert.equal(part.count, 4);
    assert.equal(part.data?.length, 2);
    const head = await c.from(T("posts")).select("*", { count: "exact", head: true }).eq("published", true);
    assert.equal(head.status, 200);
    assert.equal(head.count, 2);
    assert.equal(head.data, null);
    const beyond = await c.from(T("posts")).select("id", { count: "exact" }).range(10, 12);
    assert.equal(beyond.status, 416);
    assert.equal(beyond.error?.code, "PGRST103");
  });

  test("single and maybeSingle", async () => {
    const c = f.client();
    const one = await c.from(T("authors")).select("name").eq("id", 2).single();
    assert.deepEqual(one.data, { name: "Brian" });
    const none = await c.from(T("authors")).select("name").eq("id", 42).single();
    assert.equal(none.status, 406);
    assert.equal(none.error?.code, "PGRST116");
    assert.match(none.error?.details ?? "", /0 rows/);
    const many = await c.from(T("authors")).select("name").single();
    assert.equal(many.error?.code, "PGRST116");
    const maybeNone = await c.from(T("authors")).select("name").eq("id", 42).maybeSingle();
    assert.equal(maybeNone.error, null);
    assert.equal(maybeNone.data, null);
    const maybeOne = await c.from(T("authors")).select("name").eq("id", 3).maybeSingle();
    assert.deepEqual(maybeOne.data, { name: "Cleo" });
  });

  test("older clients' maybeSingle: object Accept with zero rows is a 406 whose details say 0 rows", async () => {
    // supabase-js < 2.100 sent the object media type for maybeSingle and mapped this 406 to null data.
    const res = await fetch(`${f.gateway.url}/rest/v1/${T("authors")}?id=eq.42&select=name`, {
      headers: { apikey: f.config.keys.publishableKey, Accept: "application/vnd.pgrst.object+json" },
    });
    assert.equal(res.status, 406);
    const body = await res.json();
    assert.equal(body.code, "PGRST116");
    assert.match(body.details, /0 rows/);
  });

  test("stripNulls drops null members", async () => {
    const { data } = await f.client().from(T("authors")).select("id, email").eq("id", 3).stripNulls();
    assert.deepEqual(data, [{ id: 3 }]);
  });
});

describe("embedding", () => {
  test("many-to-one as object (null when absent), one-to-many as array, one-to-one as object", async () => {
    const { data, error } = await f
      .client()
      .from(T("posts"))
      .select(`id, author:${T("authors")}!author_id(name, profile:${T("profiles")}(bio))`)
      .order("id");
    assert.equal(error, null);
    assert.deepEqual(data, [
      { id: 1, author: { name: "Ada", profile: { bio: "first programmer" } } },
      { id: 2, author: { name: "Ada", profile: { bio: "first programmer" } } },
      { id: 3, author: { name: "Brian", profile: null } },
      { id: 4, author: null },
    ]);
    const { data: authors } = await f
      .client()
      .from(T("authors"))
      .select(`name, written:${T("posts")}!author_id(id)`)
      .order("id");
    assert.deepEqual(authors, [
      { name: "Ada", written: [{ id: 1 }, { id: 2 }] },
      { name: "Brian", written: [{ id: 3 }] },
      { name: "Cleo", written: [] },
    ]);
  });

  test("ambiguous embeds answer 300 PGRST201, hints disambiguate, unknown relations 400 PGRST200", async () => {
    const ambiguous = await f.client().from(T("posts")).select(`id, ${T("authors")}(name)`);
    assert.equal(ambiguous.status, 300);
    assert.equal(ambiguous.error?.code, "PGRST201");
    assert.ok(Array.isArray(ambiguous.error?.details));
    const viaColumn = await f.client().from(T("posts")).select(`id, editor:editor_id(name)`).eq("id", 1).single();
    assert.deepEqual(viaColumn.data, { id: 1, editor: { name: "Brian" } });
    const missing = await f.client().from(T("posts")).select("id, nothing_here(*)");
    assert.equal(missing.status, 400);
    assert.equal(missing.error?.code, "PGRST200");
  });

  test("many-to-many through a junction table", async () => {
    const { data } = await f.client().from(T("posts")).select(`id, ${T("labels")}(name)`).order("id");
    assert.deepEqual(data, [
      { id: 1, [T("labels")]: [{ name: "classic" }] },
      { id: 2, [T("labels")]: [{ name: "classic" }] },
      { id: 3, [T("labels")]: [] },
      { id: 4, [T("labels")]: [{ name: "draft" }] },
    ]);
  });

  test("!inner, embedded filters, order and limit, is-null on embeds and spreads", async () => {
    const c = f.client();
    const inner = await c
      .from(T("authors"))
      .select(`name, posts:${T("posts")}!author_id!inner(id)`)
      .eq("posts.published", false);
    assert.deepEqual(inner.data, [{ name: "Brian", posts: [{ id: 3 }] }]);
    const shaped = await c
      .from(T("authors"))
      .select(`name, posts:${T("posts")}!author_id(id)`)
      .eq("id", 1)
      .order("id", { referencedTable: "posts", ascending: false })
      .limit(1, { referencedTable: "posts" });
    assert.deepEqual(shaped.data, [{ name: "Ada", posts: [{ id: 2 }] }]);
    const withoutPosts = await c
      .from(T("authors"))
      .select(`name, posts:${T("posts")}!author_id()`)
      .is("posts", null);
    assert.deepEqual(withoutPosts.data, [{ name: "Cleo" }]);
    const spread = await c.from(T("posts")).select(`id, ...${T("authors")}!author_id(author_name:name)`).order("id").limit(2);
    assert.deepEqual(spread.data, [
      { id: 1, author_name: "Ada" },
      { id: 2, author_name: "Ada" },
    ]);
    const orFilter = await c
      .from(T("authors"))
      .select(`name, posts:${T("posts")}!author_id(id)`)
      .or("id.eq.3,views.gt.200", { referencedTable: "posts" })
      .eq("id", 1);
    assert.deepEqual(orFilter.data, [{ name: "Ada", posts: [{ id: 2 }] }]);
  });
});
