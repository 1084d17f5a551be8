// Requests for tables and functions that do not exist answer from the schema cache: a flood of them costs
// at most one catalog read a second and never recycles the pool, requests for real tables go on being
// served, and something created later (even without the NOTIFY that DDL sends) is found within a second.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startGatewayFixture, type GatewayFixture } from "../test-support.ts";

let f: GatewayFixture;
let table: string;

before(async () => {
  f = await startGatewayFixture((s) => `create table public.present_${s} (id int primary key);
    insert into public.present_${s} values (1);
    grant select on public.present_${s} to anon;`);
  table = `present_${f.suffix}`;
});
after(async () => {
  await f.sql(`drop table if exists public.present_${f.suffix}, public.later_${f.suffix}`);
  await f.close();
});

describe("schema cache under misses", () => {
  test("1,000 requests for missing tables and functions: 404s from the cache, one read a second at most, the pool kept", async () => {
    const client = f.client();
    const before = f.gateway.stats();
    const started = Date.now();
    for (let batch = 0; batch < 20; batch++) {
      const misses = Array.from({ length: 50 }, (_, i) => {
        const n = batch * 50 + i;
        return n % 2 === 0 ? client.from(`missing_${n}`).select() : client.rpc(`missing_fn_${n}`);
      });
      const [present, ...answers] = await Promise.all([client.from(table).select("id"), ...misses]);
      assert.equal(present.error, null, `batch ${batch}: a real table is still served`);
      assert.deepEqual(present.data, [{ id: 1 }]);
      for (const answer of answers) {
        assert.equal(answer.status, 404);
        assert.ok(answer.error?.code === "PGRST205" || answer.error?.code === "PGRST202", answer.error?.code);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const after = f.gateway.stats();
    const reads = after.schemaCacheLoads - before.schemaCacheLoads;
    assert.ok(reads <= Math.ceil(seconds) + 1, `${reads} catalog reads in ${seconds.toFixed(1)} s`);
    assert.equal(after.schemaCacheGeneration, before.schemaCacheGeneration, "no reload recycled the pool");
  });

  test("GET /rest/v1/ answers from the cache too", async () => {
    const before = f.gateway.stats();
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => fetch(`${f.gateway.url}/rest/v1/`, { headers: { apikey: f.config.keys.publishableKey } })),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      const doc = (await answer.json()) as { paths: Record<string, unknown> };
      assert.ok(`/${table}` in doc.paths);
    }
    assert.ok(f.gateway.stats().schemaCacheLoads - before.schemaCacheLoads <= 2);
    assert.equal(f.gateway.stats().schemaCacheGeneration, before.schemaCacheGeneration);
  });

  test("a table created without a NOTIFY becomes visible within about a second", async () => {
    const later = `later_${f.suffix}`;
    // Event triggers do not fire in replica mode, so the DDL watch sends no NOTIFY: only a miss can find it.
    await f.sql(`set session_replication_role = replica;
      create table public.${later} (id int primary key);
      insert into public.${later} values (42);
      grant select on public.${later} to anon;
      reset session_replication_role;`);
    const client = f.client();
    const started = Date.now();
    let found = false;
    while (!found && Date.now() - started < 5000) {
      const { data, error } = await client.from(later).select("id");
      if (error === null) {
        assert.deepEqual(data, [{ id: 42 }]);
        found = true;
      } else {
        assert.equal(error.code, "PGRST205");
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.ok(found, "the new table was never found");
    assert.ok(Date.now() - started < 2500, `found after ${Date.now() - started} ms`);
  });
});
