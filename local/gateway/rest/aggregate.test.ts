// Aggregates, planned and estimated counts and EXPLAIN plans through @supabase/supabase-js. Aggregates and
// plans follow PostgREST's in-database configuration, off by default as on Supabase: each is checked off,
// then switched on with `ALTER ROLE authenticator SET pgrst.…` + NOTIFY, as Supabase's docs say, and reset.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { GatewayFixture } from "../test-support.ts";
import { setInDatabaseConfig, startFeatureFixture, stopFeatureFixture, type FeatureFixture } from "./feature-fixture.ts";

let fixture: FeatureFixture;
let f: GatewayFixture;
let T: (name: string) => string;

before(async () => {
  fixture = await startFeatureFixture();
  ({ f, T } = fixture);
});
after(async () => {
  await f.sql(`alter role authenticator reset "pgrst.db_aggregates_enabled"; alter role authenticator reset "pgrst.db_plan_enabled"; notify pgrst, 'reload config'`);
  await stopFeatureFixture(fixture);
});

describe("aggregates", () => {
  const sum = () => f.client().from(T("orders")).select("amount.sum()");

  test("disabled by default: 400 PGRST123", async () => {
    const { error, status } = await sum();
    assert.equal(status, 400);
    assert.equal(error?.code, "PGRST123");
    assert.equal(error?.message, "Use of aggregate functions is not allowed");
    const count = await f.client().from(T("orders")).select("count()");
    assert.equal(count.error?.code, "PGRST123");
    const embedded = await f.client().from(T("customers")).select(`name, ${T("orders")}(amount.max())`);
    assert.equal(embedded.error?.code, "PGRST123");
  });

  test("enabled: sums, averages, counts with PostgREST's automatic GROUP BY", async () => {
    await setInDatabaseConfig(f, "db_aggregates_enabled", "true", async () => (await sum()).error === null);
    const c = f.client();
    assert.deepEqual((await sum()).data, [{ sum: 100.5 }]);
    const grouped = await c.from(T("orders")).select("order_date, total:amount.sum(), amount.avg(), quantity.max(), count()").order("order_date");
    assert.equal(grouped.error, null);
    assert.deepEqual(grouped.data, [
      { order_date: "2025-01-01", total: 30.5, avg: 15.25, max: 2, count: 2 },
      { order_date: "2025-01-02", total: 70, avg: 35, max: 4, count: 2 },
    ]);
    const casts = await c.from(T("orders")).select("amount.avg()::int, tax:details->tax::numeric.sum(), quantity::text.min()").single();
    assert.deepEqual(casts.data, { avg: 25, tax: 10.5, min: "1" });
    const filtered = await c.from(T("orders")).select("customer_id, count()").gt("amount", 15).order("customer_id");
    assert.deepEqual(filtered.data, [
      { customer_id: 1, count: 2 },
      { customer_id: 2, count: 1 },
    ]);
  });

  test("grouped by an embedded resource, inside embeds, and hoisted out of a to-one spread", async () => {
    const c = f.client();
    const byCustomer = await c.from(T("orders")).select(`amount.sum(), ${T("customers")}(city)`);
    assert.equal(byCustomer.error, null);
    assert.deepEqual(
      [...(byCustomer.data as unknown as { sum: number; [k: string]: unknown }[])].sort((a, b) => a.sum - b.sum),
      [
        { sum: 30, [T("customers")]: { city: "Boston" } },
        { sum: 70.5, [T("customers")]: { city: "London" } },
      ],
    );
    const inside = await c.from(T("customers")).select(`name, ${T("orders")}(amount.sum(), order_date)`).eq("id", 1).single();
    assert.equal(inside.error, null);
    const days = (inside.data as unknown as Record<string, { sum: number; order_date: string }[]>)[T("orders")].sort((a, b) => a.order_date.localeCompare(b.order_date));
    assert.deepEqual(days, [
      { sum: 30.5, order_date: "2025-01-01" },
      { sum: 40, order_date: "2025-01-02" },
    ]);
    const spreadGroup = await c.from(T("orders")).select(`...${T("customers")}(city), amount.sum()`).order("amount.sum()" as never);
    assert.equal(spreadGroup.error?.code, "PGRST100"); // ordering by an aggregate is not supported by PostgREST either
    const bySpreadColumn = await c.from(T("orders")).select(`...${T("customers")}(city), amount.sum()`);
    assert.deepEqual(
      [...(bySpreadColumn.data as unknown as { city: string; sum: number }[])].sort((a, b) => a.city.localeCompare(b.city)),
      [
        { city: "Boston", sum: 30 },
        { city: "London", sum: 70.5 },
      ],
    );
    const hoisted = await c.from(T("orders")).select(`order_date, ...${T("customers")}(customers:id.count())`).order("order_date");
    assert.deepEqual(hoisted.data, [
      { order_date: "2025-01-01", customers: 2 },
      { order_date: "2025-01-02", customers: 2 },
    ]);
    const toMany = await c.from(T("customers")).select(`name, ...${T("orders")}(amount.sum())`);
    assert.equal(toMany.status, 400);
    assert.equal(toMany.error?.code, "PGRST127");
  });

  test("switched off again: PGRST123", async () => {
    await setInDatabaseConfig(f, "db_aggregates_enabled", undefined, async () => (await sum()).error?.code === "PGRST123");
  });
});

describe("counts", () => {
  test("planned is the planner's estimate; estimated is exact up to db-max-rows, then the estimate", async () => {
    const c = f.client();
    const planned = await c.from(T("customers")).select("id", { count: "planned" });
    assert.equal(planned.error, null);
    assert.equal(planned.count, 3); // an analyzed three-row table
    const plannedFiltered = await c.from(T("big")).select("id", { count: "planned", head: true }).lt("id", 100);
    assert.equal(typeof plannedFiltered.count, "number");
    const small = await c.from(T("orders")).select("id", { count: "estimated" }).eq("customer_id", 1);
    assert.equal(small.count, 3);
    const big = await c.from(T("big")).select("id", { count: "estimated" }).limit(5);
    assert.equal(big.status, 206);
    assert.equal(big.count, 1500); // past db-max-rows (1000): the planner's figure for the analyzed table
    assert.equal(big.data?.length, 5);
  });

  test("db-max-rows caps a read that asks for more", async () => {
    const { data } = await f.client().from(T("big")).select("id").limit(5000);
    assert.equal(data?.length, 1000);
  });
});

describe("EXPLAIN plans", () => {
  const explained = () => f.client().from(T("orders")).select("id").eq("customer_id", 1).explain();

  test("disabled by default: 406 PGRST107 naming the plan media type", async () => {
    const { error, status } = await explained();
    assert.equal(status, 406);
    assert.equal(error?.code, "PGRST107");
    assert.match(error?.message ?? "", /application\/vnd\.pgrst\.plan\+text; for="application\/json"/);
  });

  test("enabled: text and JSON plans, with analyze and verbose, for reads, writes and rpc", async () => {
    await setInDatabaseConfig(f, "db_plan_enabled", "true", async () => (await explained()).error === null);
    const text = await explained();
    assert.equal(text.status, 200);
    assert.match(String(text.data), /Scan on .*orders/);
    const json = await f.client().from(T("orders")).select("id").explain({ format: "json", analyze: true, verbose: true });
    assert.equal(json.error, null);
    const plan = json.data as unknown as { Plan: { "Actual Rows"?: number; Output?: unknown } }[];
    assert.ok(Array.isArray(plan) && plan[0].Plan["Actual Rows"] !== undefined && plan[0].Plan.Output !== undefined);
    const res = await fetch(`${f.gateway.url}/rest/v1/${T("orders")}?select=id`, {
      headers: { apikey: f.config.keys.publishableKey, Accept: 'application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object+json"; options=analyze' },
    });
    assert.equal(res.headers.get("content-type"), 'application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object+json"; options=analyze; charset=utf-8');
    const service = f.client(f.config.keys.secretKey);
    const write = await service.from(T("customers")).insert({ id: 9, name: "Plan", city: "Nowhere" }).explain();
    assert.match(String(write.data), /Insert on/);
    const rpc = await f.client().rpc(T("orders_of"), { customer: 1 }).explain();
    assert.match(String(rpc.data), /Function Scan|Scan on/);
  });

  test("switched off again", async () => {
    await setInDatabaseConfig(f, "db_plan_enabled", undefined, async () => (await explained()).status === 406);
  });
});
