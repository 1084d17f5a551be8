// RPCs through @supabase/supabase-js beyond scalars: functions returning SETOF a table type, TABLE(...) or
// SETOF a composite type, with select, filters, order, paging and counts applied to their rows afterwards,
// and variadic functions called by POST (an array) and by GET (a repeated parameter).
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

describe("set-returning functions", () => {
  test("SETOF a table type: select, filters, order, limit, count and embeds apply to the rows", async () => {
    const c = f.client();
    const { data, error, count, status } = await c
      .rpc(T("orders_of"), { customer: 1 }, { count: "exact" })
      .select(`id, amount, ${T("customers")}(name)`)
      .gt("amount", 15)
      .order("amount", { ascending: false })
      .limit(1);
    assert.equal(error, null);
    assert.equal(status, 200);
    assert.equal(count, 2);
    assert.deepEqual(data, [{ id: 4, amount: 40, [T("customers")]: { name: "Ada" } }]);
    const byGet = await c.rpc(T("orders_of"), { customer: 2 }, { get: true }).select("id");
    assert.deepEqual(byGet.data, [{ id: 3 }]);
    const single = await c.rpc(T("orders_of"), { customer: 2 }).select("id").single();
    assert.deepEqual(single.data, { id: 3 });
  });

  test("TABLE(...) results filter and order on their output columns", async () => {
    const { data, error } = await f.client().rpc(T("totals")).gte("total", 30).order("total");
    assert.equal(error, null);
    assert.deepEqual(data, [
      { customer_id: 2, total: 30, orders: 1 },
      { customer_id: 1, total: 70.5, orders: 3 },
    ]);
    const one = await f.client().rpc(T("totals"), {}, { get: true }).select("total").eq("customer_id", 2).single();
    assert.deepEqual(one.data, { total: 30 });
    const unknown = await f.client().rpc(T("totals")).eq("nope", 1);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.error?.code, "42703");
  });

  test("SETOF a composite type: columns, filters, order and counts on its attributes", async () => {
    const { data, error, count } = await f
      .client()
      .rpc(T("order_lines"), {}, { count: "exact" })
      .select("order_id, who:customer")
      .eq("customer", "Ada")
      .lt("amount", 40)
      .order("amount", { ascending: false });
    assert.equal(error, null);
    assert.equal(count, 2);
    assert.deepEqual(data, [
      { order_id: 2, who: "Ada" },
      { order_id: 1, who: "Ada" },
    ]);
    const unknown = await f.client().rpc(T("order_lines")).select("nope");
    assert.equal(unknown.status, 400);
    assert.equal(unknown.error?.code, "42703");
  });
});

describe("variadic functions", () => {
  test("POST passes an array to the variadic parameter", async () => {
    const sum = await f.client().rpc(T("sum_all"), { v: [1, 2, 3, 4] });
    assert.equal(sum.error, null);
    assert.equal(sum.data, 10);
    const tags = await f.client().rpc(T("tag_all"), { prefix: "#", tags: ["a", "b"] });
    assert.deepEqual(tags.data, ["#a", "#b"]);
  });

  test("GET collects a repeated parameter into the variadic array", async () => {
    const get = (query: string) =>
      fetch(`${f.gateway.url}/rest/v1/rpc/${T("sum_all")}?${query}`, { headers: { apikey: f.config.keys.publishableKey } });
    assert.equal(await (await get("v=1&v=2&v=3")).json(), 6);
    assert.equal(await (await get("v=5")).json(), 5);
    const tags = await fetch(`${f.gateway.url}/rest/v1/rpc/${T("tag_all")}?prefix=x&tags=a&tags=b&prefix=y`, {
      headers: { apikey: f.config.keys.publishableKey },
    });
    assert.deepEqual(await tags.json(), ["ya", "yb"]); // a repeated ordinary parameter: the last one counts
  });
});
