// Bad input gets PostgREST's or GoTrue's own answer and never takes the gateway down. Raw HTTP only
// where supabase-js cannot produce the request (malformed JSON, oversized bodies, broken sockets).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@supabase/supabase-js";
import WebSocket from "ws";
import { signHs256 } from "../keys.ts";
import { rawRequest as rawRequestTo, startGatewayFixture, type GatewayFixture } from "./test-support.ts";

let f: GatewayFixture;
let table: string;

before(async () => {
  f = await startGatewayFixture((s) => `create table public.things_${s} (id int primary key, label text, data jsonb, tags text[]);
    insert into public.things_${s} (id, label) values (1, 'one');
    create table public.parts_${s} (id int primary key, thing int references public.things_${s}(id), label text, data jsonb, tags text[]);`);
  table = `things_${f.suffix}`;
});
after(async () => {
  await f.sql(`drop table if exists public.parts_${f.suffix}, public.things_${f.suffix}`);
  await f.close();
});

function clientWithToken(token: string) {
  return createClient(f.gateway.url, f.config.keys.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Authorization: `Bearer ${token}` } },
    realtime: { transport: WebSocket as never },
  });
}

async function stillServing(): Promise<void> {
  const { data, error } = await f.client().from(table).select("id");
  assert.equal(error, null);
  assert.deepEqual(data, [{ id: 1 }]);
}

function rawRequest(data: string | Buffer, options: { abortAfterWrite?: boolean } = {}): Promise<string> {
  return rawRequestTo(f.gateway.url, data, options);
}

describe("tokens", () => {
  const now = () => Math.floor(Date.now() / 1000);

  test("expired token: 401 PGRST303 with WWW-Authenticate", async () => {
    const expired = signHs256({ role: "authenticated", sub: "00000000-0000-0000-0000-000000000001", exp: now() - 120 }, f.config.keys.jwtSecret);
    const res = await clientWithToken(expired).from(table).select();
    assert.equal(res.status, 401);
    assert.equal(res.error?.code, "PGRST303");
    assert.equal(res.error?.message, "JWT expired");
    const raw = await fetch(`${f.gateway.url}/rest/v1/${table}`, { headers: { Authorization: `Bearer ${expired}` } });
    assert.match(raw.headers.get("www-authenticate") ?? "", /^Bearer error="invalid_token"/);
  });

  test("wrong signature, alg none, garbage: 401 PGRST301", async () => {
    const forged = signHs256({ role: "service_role", exp: now() + 600 }, "not-the-project-secret-not-the-project-secret");
    const wrong = await clientWithToken(forged).from(table).select();
    assert.equal(wrong.status, 401);
    assert.equal(wrong.error?.code, "PGRST301");
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ role: "service_role", exp: now() + 600 })}.`;
    const algNone = await clientWithToken(none).from(table).select();
    assert.equal(algNone.status, 401);
    assert.equal(algNone.error?.code, "PGRST301");
    const twoParts = await clientWithToken("abc.def").from(table).select();
    assert.equal(twoParts.error?.code, "PGRST301");
    assert.equal(twoParts.error?.message, "Expected 3 parts in JWT; got 2");
    const authNone = await fetch(`${f.gateway.url}/auth/v1/user`, { headers: { Authorization: `Bearer ${none}` } });
    assert.equal(authNone.status, 403);
    assert.equal((await authNone.json()).code, "bad_jwt");
  });
});

describe("bodies and paths", () => {
  test("malformed JSON: PostgREST 400 PGRST102", async () => {
    const res = await fetch(`${f.gateway.url}/rest/v1/${table}`, {
      method: "POST",
      headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json" },
      body: '{"id": 2, "label": ',
    });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { code: "PGRST102", details: null, hint: null, message: "Empty or invalid json" });
    const mixed = await fetch(`${f.gateway.url}/rest/v1/${table}`, {
      method: "POST",
      headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json" },
      body: JSON.stringify([{ id: 3 }, { id: 4, label: "x" }]),
    });
    assert.equal(mixed.status, 400);
    assert.equal((await mixed.json()).message, "All object keys must match");
    await stillServing();
  });

  test("oversized bodies are refused with 413 before reaching the database", async () => {
    const big = JSON.stringify({ id: 5, label: "x".repeat(2 * 1024 * 1024) });
    for (const path of [`/rest/v1/${table}`, "/auth/v1/signup"]) {
      const res = await fetch(`${f.gateway.url}${path}`, {
        method: "POST",
        headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json" },
        body: big,
      });
      assert.equal(res.status, 413, path);
      const body = await res.json();
      assert.ok(typeof body.message === "string" && typeof body.code === "string", path);
    }
    const chunked = await rawRequest(
      `POST /rest/v1/${table} HTTP/1.1\r\nHost: x\r\napikey: ${f.config.keys.publishableKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        `${(1536 * 1024).toString(16)}\r\n${"x".repeat(1536 * 1024)}\r\n0\r\n\r\n`,
    );
    assert.match(chunked, /^HTTP\/1\.1 413/);
    const rows = await f.sql(`select count(*)::int as n from public.${table}`);
    assert.equal(rows.rows[0].n, 1);
  });

  test("unknown routes, deep paths and methods", async () => {
    const deep = await fetch(`${f.gateway.url}/rest/v1/${table}/1/2`, { headers: { apikey: f.config.keys.publishableKey } });
    assert.equal(deep.status, 404);
    assert.equal((await deep.json()).code, "PGRST125");
    const rpcPut = await fetch(`${f.gateway.url}/rest/v1/rpc/anything`, { method: "PUT", headers: { apikey: f.config.keys.publishableKey } });
    assert.equal(rpcPut.status, 405);
    assert.equal((await rpcPut.json()).code, "PGRST101");
    const nowhere = await fetch(`${f.gateway.url}/storage/v1/object`, { headers: { apikey: f.config.keys.publishableKey } });
    assert.equal(nowhere.status, 404);
    const badFilter = await f.client().from(table).select().filter("id", "between", "1");
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.error?.code, "PGRST100");
    const badLimit = await fetch(`${f.gateway.url}/rest/v1/${table}?limit=-1`, { headers: { apikey: f.config.keys.publishableKey } });
    assert.equal(badLimit.status, 400);
  });

  test("garbage requests and aborted sockets do not take the gateway down", async () => {
    const garbage = await rawRequest("THIS IS NOT HTTP\r\n\r\n");
    assert.match(garbage, /^HTTP\/1\.1 400/);
    await rawRequest(Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]));
    await rawRequest(`GET /rest/v1/${table} HTTP/1.1\r\nHost: x\r\nX-Bad: \u0001\u0002\r\n\r\n`);
    await rawRequest(
      `POST /rest/v1/${table} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"id": 9,`,
      { abortAfterWrite: true },
    );
    await rawRequest(`GET /rest/v1/${table}?select=${"(".repeat(5000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await rawRequest(`GET /rest/v1/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const huge = await rawRequest(`GET /rest/v1/${table} HTTP/1.1\r\nHost: x\r\nX-Big: ${"y".repeat(64 * 1024)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431/);
    await rawRequest(`GET /rest/v1/${table} HTTP/1.1\r\nHost: x\r\nAccept-Profile: private\r\nConnection: close\r\n\r\n`);
    await stillServing();
  });
});

describe("random query strings", () => {
  test("never produce a 5xx or SQL the gateway generated wrongly (syntax, untyped parameters)", async () => {
    let seed = 20261126;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)];
    const parts = `parts_${f.suffix}`;
    const atoms = ["id", "label", "data", "tags", "->", "->>", "::text", ":", ",", "(", ")", "!inner", table, "thing", "*", "...", '"', "\\", ".", "eq.", "in.(", "not.", "is.null", "{", "}", "1", "a", " ", "*a*", "fts.", "(any)", "asc", ".desc", "x y"];
    const keys = ["select", "id", "label", "data->a", "or", "and", "not.or", "order", "limit", "offset", `${table}.id`, "tags", "on_conflict", "columns", "x.y.z"];
    const wrong: string[] = [];
    for (let i = 0; i < 300; i++) {
      const params = new URLSearchParams();
      for (let j = 0, n = 1 + Math.floor(rand() * 3); j < n; j++) {
        let value = "";
        for (let k = 0, len = Math.floor(rand() * 8); k < len; k++) value += pick(atoms);
        params.append(pick(keys), value);
      }
      const method = pick(["GET", "GET", "POST", "PATCH", "DELETE", "HEAD"]);
      // The fuzz writes to its own table so the other tests' rows stay put.
      const path = pick([parts, parts, `rpc/${parts}`]);
      const res = await fetch(`${f.gateway.url}/rest/v1/${path}?${params}`, {
        method,
        headers: {
          apikey: f.config.keys.secretKey,
          "Content-Type": "application/json",
          Prefer: pick(["return=minimal", "return=representation", "count=exact", "resolution=merge-duplicates", "tx=rollback"]),
        },
        body: method === "POST" || method === "PATCH" ? pick(["{}", '{"label": "x"}', "[]", '[{"id":2},{"id":3}]', '{"data":{"a":1}}', "null", '"x"']) : undefined,
      });
      const text = await res.text();
      let code = "";
      try {
        code = JSON.parse(text).code ?? "";
      } catch {
        // HEAD and empty bodies
      }
      if (res.status >= 500 || ["42601", "42P18", "42804", "42P08"].includes(code)) wrong.push(`${method} ${path}?${params} -> ${res.status} ${text}`);
    }
    assert.deepEqual(wrong, []);
    assert.equal((await f.client(f.config.keys.secretKey).from(parts).select("id")).error, null);
    await stillServing();
  });
});

describe("gateway layer", () => {
  test("CORS preflight and exposed headers", async () => {
    const pre = await fetch(`${f.gateway.url}/rest/v1/${table}`, {
      method: "OPTIONS",
      headers: {
        Origin: "http://localhost:5173",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, apikey, x-client-info, content-type, prefer, content-profile",
      },
    });
    assert.ok(pre.status === 200 || pre.status === 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    const allowed = (pre.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const h of ["authorization", "apikey", "x-client-info", "content-type", "prefer", "accept-profile", "content-profile", "range", "x-retry-count", "x-supabase-api-version", "x-region"]) {
      assert.ok(allowed.includes(h), h);
    }
    for (const m of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) assert.ok(pre.headers.get("access-control-allow-methods")?.includes(m), m);
    const get = await fetch(`${f.gateway.url}/rest/v1/${table}`, { headers: { apikey: f.config.keys.publishableKey, Origin: "http://localhost:5173" } });
    const exposed = (get.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    assert.ok(exposed.includes("content-range"));
    assert.ok(exposed.includes("x-supabase-api-version"));
  });

  test("keys: publishable acts as anon, secret and the legacy service JWT as service_role", async () => {
    await f.sql(`create function public.role_${f.suffix}() returns text language sql stable as $$ select current_user::text $$; notify pgrst, 'reload schema'`);
    try {
      const role = async (key: string) => (await f.client(key).rpc(`role_${f.suffix}`)).data;
      // The schema reload after NOTIFY is asynchronous: wait until the new function is callable.
      for (let i = 0; i < 100 && (await f.client(f.config.keys.serviceRoleKey).rpc(`role_${f.suffix}`)).error; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(await role(f.config.keys.publishableKey), "anon");
      assert.equal(await role(f.config.keys.anonKey), "anon");
      assert.equal(await role(f.config.keys.secretKey), "service_role");
      assert.equal(await role(f.config.keys.serviceRoleKey), "service_role");
    } finally {
      await f.sql(`drop function public.role_${f.suffix}`);
    }
  });
});
