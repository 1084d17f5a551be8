// PostgREST 12/13 resource embedding through @supabase/supabase-js: computed relationships (functions that
// take a row), self-referencing foreign keys with the column-name and hint conventions, spreads (to-one and
// to-many, `*`) and the PGRST200/201 answers when a relationship is missing or ambiguous.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { GatewayFixture } from "../test-support.ts";
import { startFeatureFixture, stopFeatureFixture, type FeatureFixture } from "./feature-fixture.ts";

let fixture: FeatureFixture;
let f: GatewayFixture;
let T: (name: string) => string;

before(async () => {
  fixture = await startFeatureFixture();
  ({ f, T } = fixture);
});
after(() => stopFeatureFixture(fixture));

describe("computed relationships", () => {
  test("a function returning one row (ROWS 1) embeds as an object, a set-returning one as an array", async () => {
    const c = f.client();
    const premieres = await c.from(T("premieres")).select(`location, film:${T("film")}(name)`).order("id");
    assert.equal(premieres.error, null);
    assert.deepEqual(premieres.data, [
      { location: "Berlin", film: { name: "Metropolis" } },
      { location: "Paris", film: { name: "Metropolis" } },
      { location: "Vienna", film: { name: "Nosferatu" } },
      { location: "Nowhere", film: null },
    ]);
    const films = await c.from(T("films")).select(`name, ${T("premieres")}(location)`).order("id");
    assert.equal(films.error, null);
    assert.deepEqual(films.data, [
      { name: "Metropolis", [T("premieres")]: [{ location: "Berlin" }, { location: "Paris" }] },
      { name: "Nosferatu", [T("premieres")]: [{ location: "Vienna" }] },
    ]);
  });

  test("!inner, is-null filters, embedded filters and spreads work on them too", async () => {
    const c = f.client();
    const inner = await c.from(T("premieres")).select(`location, ${T("film")}!inner(name)`).eq(`${T("film")}.name`, "Nosferatu");
    assert.deepEqual(inner.data, [{ location: "Vienna", [T("film")]: { name: "Nosferatu" } }]);
    const orphans = await c.from(T("premieres")).select(`location, ${T("film")}()`).is(T("film"), null);
    assert.deepEqual(orphans.data, [{ location: "Nowhere" }]);
    const spread = await c.from(T("premieres")).select(`location, ...${T("film")}(film_name:name)`).order("id").limit(1);
    assert.deepEqual(spread.data, [{ location: "Berlin", film_name: "Metropolis" }]);
  });

  test("a computed relationship named like a table replaces the detected foreign key relationship", async () => {
    // venues_x(shows_x) returns only open venues: the Roxy is closed, so the late show embeds null.
    const { data, error } = await f.client().from(T("shows")).select(`title, ${T("venues")}(name)`).order("id");
    assert.equal(error, null);
    assert.deepEqual(data, [
      { title: "Matinee", [T("venues")]: { name: "Odeon" } },
      { title: "Late show", [T("venues")]: null },
    ]);
  });

  test("rows returned by a mutation embed through computed relationships", async () => {
    const service = f.client(f.config.keys.secretKey);
    const { data, error } = await service
      .from(T("premieres"))
      .insert({ id: 10, location: "Rome", film_id: 2 })
      .select(`location, film:${T("film")}(name)`)
      .single();
    assert.equal(error, null);
    assert.deepEqual(data, { location: "Rome", film: { name: "Nosferatu" } });
    await service.from(T("premieres")).delete().eq("id", 10);
  });
});

describe("self-referencing foreign keys", () => {
  test("the column name embeds the parent (many-to-one), the table name the children (one-to-many)", async () => {
    const c = f.client();
    const { data, error } = await c
      .from(T("employees"))
      .select(`name, manager:manager_id(name), reports:${T("employees")}(name)`)
      .order("id");
    assert.equal(error, null);
    assert.deepEqual(data, [
      { name: "Grace", manager: null, reports: [{ name: "Linus" }, { name: "Ken" }] },
      { name: "Linus", manager: { name: "Grace" }, reports: [] },
      { name: "Ken", manager: { name: "Grace" }, reports: [{ name: "Dennis" }] },
      { name: "Dennis", manager: { name: "Ken" }, reports: [] },
    ]);
  });

  test("a hint naming the column picks the one-to-many side; nested self embeds recurse", async () => {
    const { data, error } = await f
      .client()
      .from(T("employees"))
      .select(`name, reports:${T("employees")}!manager_id(name, reports:${T("employees")}!manager_id(name))`)
      .eq("id", 1)
      .single();
    assert.equal(error, null);
    assert.deepEqual(data, { name: "Grace", reports: [{ name: "Linus", reports: [] }, { name: "Ken", reports: [{ name: "Dennis" }] }] });
  });
});

describe("embedding by foreign key column and constraint names", () => {
  test("the FK column or constraint as the embed name, and hints on either side", async () => {
    const c = f.client();
    const byColumn = await c.from(T("orders")).select("id, customer:customer_id(name)").eq("id", 3).single();
    assert.deepEqual(byColumn.data, { id: 3, customer: { name: "Brian" } });
    const byConstraint = await c.from(T("orders")).select(`id, customer:${T("orders")}_customer_id_fkey(name)`).eq("id", 3).single();
    assert.deepEqual(byConstraint.data, { id: 3, customer: { name: "Brian" } });
    const hinted = await c.from(T("orders")).select(`id, ${T("customers")}!customer_id(name)`).eq("id", 3).single();
    assert.deepEqual(hinted.data, { id: 3, [T("customers")]: { name: "Brian" } });
    const referencedColumnHint = await c.from(T("customers")).select(`name, ${T("orders")}!id(id)`).eq("id", 2).single();
    assert.deepEqual(referencedColumnHint.data, { name: "Brian", [T("orders")]: [{ id: 3 }] });
  });

  test("a hint that matches nothing is PGRST200 with PostgREST's details", async () => {
    const { error, status } = await f.client().from(T("orders")).select(`id, ${T("customers")}!nope(name)`);
    assert.equal(status, 400);
    assert.equal(error?.code, "PGRST200");
    assert.equal(error?.message, `Could not find a relationship between '${T("orders")}' and '${T("customers")}' in the schema cache`);
    assert.equal(
      error?.details,
      `Searched for a foreign key relationship between '${T("orders")}' and '${T("customers")}' using the hint 'nope' in the schema 'public', but no matches were found.`,
    );
  });
});

describe("spreads", () => {
  test("a to-one spread lifts the embedded columns, `*` included", async () => {
    const c = f.client();
    const named = await c.from(T("orders")).select(`id, ...${T("customers")}(customer:name, city)`).order("id").limit(2);
    assert.deepEqual(named.data, [
      { id: 1, customer: "Ada", city: "London" },
      { id: 2, customer: "Ada", city: "London" },
    ]);
    const star = await c.from(T("orders")).select(`amount, ...${T("customers")}(*)`).eq("id", 3).single();
    assert.deepEqual(star.data, { amount: 30, id: 2, name: "Brian", city: "Boston" });
  });

  test("a to-many spread gives an array per column, in the embed's order, [] when empty", async () => {
    const { data, error } = await f
      .client()
      .from(T("customers"))
      .select(`name, ...${T("orders")}(amounts:amount, dates:order_date)`)
      .order("amount", { referencedTable: T("orders"), ascending: false })
      .order("id");
    assert.equal(error, null);
    assert.deepEqual(data, [
      { name: "Ada", amounts: [40, 20, 10.5], dates: ["2025-01-02", "2025-01-01", "2025-01-01"] },
      { name: "Brian", amounts: [30], dates: ["2025-01-02"] },
      { name: "Cleo", amounts: [], dates: [] },
    ]);
  });

  test("aliasing a spread is a parse error, as in PostgREST", async () => {
    const { error, status } = await f.client().from(T("orders")).select(`id, x:...${T("customers")}(name)`);
    assert.equal(status, 400);
    assert.equal(error?.code, "PGRST100");
  });
});
