// More than one exposed schema (config.toml [api] schemas), chosen with Accept-Profile / Content-Profile as
// supabase-js's `.schema()` sends them: reads, writes and rpc in the chosen schema, Content-Profile in the
// answer, PGRST106 for a schema that is not exposed. The gateway here serves REST alone with its own list.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import WebSocket from "ws";
import { createClient } from "@supabase/supabase-js";
import { instanceConfig } from "../../config.ts";
import { handleRest } from "./handler.ts";
import { readApiSettings, SchemaCache } from "./schema-cache.ts";
import { createRestPool } from "./transaction.ts";

const config = instanceConfig();
const s = randomBytes(4).toString("hex");
const other = `api_${s}`;
let db: pg.Client;
let pool: pg.Pool;
let server: Server;
let url: string;

before(async () => {
  db = new pg.Client({ connectionString: config.dbUrl });
  await db.connect();
  await db.query(`
    create schema ${other};
    grant usage on schema ${other} to anon, authenticated, service_role;
    create table ${other}.things (id int primary key, name text not null);
    grant select, insert on ${other}.things to anon;
    insert into ${other}.things values (1, 'widget');
    create table public.things_${s} (id int primary key, label text);
    grant select on public.things_${s} to anon;
    insert into public.things_${s} values (7, 'public one');
    create function ${other}.schema_of() returns text stable language sql as $$ select current_schema() $$;
    grant execute on function ${other}.schema_of() to anon;`);
  pool = createRestPool(config.authenticatorDbUrl, 2);
  const api = { ...readApiSettings(), schemas: ["public", other] };
  const ctx = { pool, cache: new SchemaCache(pool, api), jwtSecret: config.keys.jwtSecret, bodyLimit: 1 << 20 };
  server = createServer((req, res) => void handleRest(ctx, req, res, (req.url ?? "/").replace(/^\/rest\/v1/, "") || "/"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await pool.end();
  await db.query(`drop schema ${other} cascade; drop table public.things_${s}`);
  await db.end();
});

/** supabase-js with the anon JWT (this bare REST server does no key translation). */
const client = () =>
  createClient(url, config.keys.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });

describe("schemas chosen by profile", () => {
  test("reads, writes and rpc in the schema .schema() names", async () => {
    const c = client().schema(other);
    const read = await c.from("things").select("id, name");
    assert.equal(read.error, null);
    assert.deepEqual(read.data, [{ id: 1, name: "widget" }]);
    const write = await c.from("things").insert({ id: 2, name: "gadget" });
    assert.equal(write.status, 201);
    const rpc = await c.rpc("schema_of");
    assert.equal(rpc.data, other);
    const publicRead = await client().from(`things_${s}`).select("label");
    assert.deepEqual(publicRead.data, [{ label: "public one" }]);
  });

  test("answers carry Content-Profile: the negotiated schema, or the default one when several are exposed", async () => {
    const chosen = await fetch(`${url}/rest/v1/things`, { headers: { Authorization: `Bearer ${config.keys.anonKey}`, "Accept-Profile": other } });
    assert.equal(chosen.status, 200);
    assert.equal(chosen.headers.get("content-profile"), other);
    const byDefault = await fetch(`${url}/rest/v1/things_${s}`, { headers: { Authorization: `Bearer ${config.keys.anonKey}` } });
    assert.equal(byDefault.headers.get("content-profile"), "public");
  });

  test("a table of one schema is not found through another; an unknown schema is 406 PGRST106", async () => {
    const wrongSchema = await client().from("things").select();
    assert.equal(wrongSchema.status, 404);
    assert.equal(wrongSchema.error?.code, "PGRST205");
    const unknown = await client().schema("nope").from("things").select();
    assert.equal(unknown.status, 406);
    assert.equal(unknown.error?.code, "PGRST106");
    assert.equal(unknown.error?.message, "Invalid schema: nope");
    assert.equal(unknown.error?.hint, `Only the following schemas are exposed: public, ${other}`);
    const unknownWrite = await client().schema("nope").from("things").insert({ id: 3, name: "x" });
    assert.equal(unknownWrite.error?.code, "PGRST106");
  });
});
