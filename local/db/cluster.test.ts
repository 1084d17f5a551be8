import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { instanceConfig } from "../config.ts";
import { dataDirectory, isHealthy, startCluster } from "./cluster.ts";

// Runs inside `npm test`, whose test instance cluster is already up.
const config = instanceConfig(process.env.LEADLOOP_INSTANCE ?? "test");

async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: config.dbUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

test("a second start reuses the healthy cluster instead of restarting it", async () => {
  assert.ok(await isHealthy(config), "the test cluster should be running");
  const [before] = await query<{ started: Date }>("select pg_postmaster_start_time() as started");
  await startCluster(config);
  const [after] = await query<{ started: Date }>("select pg_postmaster_start_time() as started");
  assert.equal(after.started.getTime(), before.started.getTime());
});

test("the cluster is configured the way Supabase's database is", async () => {
  const rows = await query<{ name: string; setting: string }>(
    "select name, setting from pg_settings where name in ('wal_level', 'shared_preload_libraries', 'cron.database_name', 'port')",
  );
  const settings = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  assert.equal(settings.wal_level, "logical");
  assert.match(settings.shared_preload_libraries, /pg_cron/);
  assert.equal(settings["cron.database_name"], "postgres");
  assert.equal(Number(settings.port), config.ports.db);
});

test("the instance's data directory is its own, never the machine's default cluster", () => {
  const dir = dataDirectory(config);
  assert.ok(dir.includes(config.name), dir);
  assert.ok(!dir.startsWith("/var/lib/postgresql"), dir);
});

test("migrations are recorded in Supabase's own history table", async () => {
  const [row] = await query<{ exists: boolean }>("select to_regclass('supabase_migrations.schema_migrations') is not null as exists");
  assert.equal(row.exists, true);
});
