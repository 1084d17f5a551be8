// What callers are told when something other than their request goes wrong: PostgREST's own codes for an
// unreachable database or schema cache, a generic 500 for a failure of the gateway itself, and never a
// stack trace, SQL text, host or port. Postgres' SQLSTATE errors keep PostgREST's shape (write.test.ts).
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { instanceConfig } from "../../config.ts";
import { createAuthService } from "../auth/handler.ts";
import { handleRest, type RestContext } from "./handler.ts";
import { SchemaCache } from "./schema-cache.ts";

const config = instanceConfig();
/** A port nothing listens on: connections are refused at once. */
const deadDbUrl = config.authenticatorDbUrl.replace(/:\d+\//, ":1/");
const pools: pg.Pool[] = [];
let servers: Server[] = [];

function pool(url: string): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max: 2 });
  p.on("error", () => {});
  pools.push(p);
  return p;
}

/** Serves `handler` on a free port. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Serves /rest/v1 with the given context, as the gateway does. */
function restServer(ctx: RestContext): Promise<string> {
  return serve((req, res) => void handleRest(ctx, req, res, (req.url ?? "/").replace(/^\/rest\/v1/, "") || "/"));
}

function assertNothingInternal(text: string): void {
  for (const leak of [/\bat .*\.ts:\d+/, /select\b/i, /ECONNREFUSED/, /127\.0\.0\.1/, /:1\b/, /secret_table/]) {
    assert.doesNotMatch(text, leak);
  }
}

const silenced = console.error;
before(() => {
  console.error = () => {}; // the failures below are logged on purpose
});
after(async () => {
  console.error = silenced;
  for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
  servers = [];
  for (const p of pools) await p.end().catch(() => {});
});

describe("errors callers see", () => {
  test("a database the REST pool cannot reach: 503 PGRST000, no host, port or driver message", async () => {
    const cache = new SchemaCache(pool(config.authenticatorDbUrl));
    await cache.get();
    const url = await restServer({ pool: pool(deadDbUrl), cache, jwtSecret: config.keys.jwtSecret, bodyLimit: 1024 });
    const known = [...(await cache.get()).relations.values()].find((r) => r.schema === "public")!;
    const reached = await fetch(`${url}/rest/v1/${known.name}`);
    const body = await reached.text();
    assert.equal(reached.status, 503);
    assert.deepEqual(JSON.parse(body), { code: "PGRST000", details: null, hint: null, message: "Database connection error. Retrying the connection." });
    assertNothingInternal(body);
  });

  test("a schema cache that cannot be read: 503 PGRST002", async () => {
    const url = await restServer({ pool: pool(deadDbUrl), cache: new SchemaCache(pool(deadDbUrl)), jwtSecret: config.keys.jwtSecret, bodyLimit: 1024 });
    const response = await fetch(`${url}/rest/v1/leads`);
    const body = await response.text();
    assert.equal(response.status, 503);
    assert.equal(JSON.parse(body).code, "PGRST002");
    assertNothingInternal(body);
  });

  test("a failure of the gateway itself: a generic 500 with a code, no stack and no SQL", async () => {
    const broken = {
      get: () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'x') in select * from secret_table")),
      refresh: () => Promise.reject(new TypeError("select * from secret_table")),
    } as unknown as SchemaCache;
    const url = await restServer({ pool: pool(deadDbUrl), cache: broken, jwtSecret: config.keys.jwtSecret, bodyLimit: 1024 });
    const response = await fetch(`${url}/rest/v1/leads`);
    const body = await response.text();
    assert.equal(response.status, 500);
    assert.deepEqual(JSON.parse(body), { code: "internal_error", details: null, hint: null, message: "Internal server error" });
    assertNothingInternal(body);
  });

  test("Auth with an unreachable database: GoTrue's unexpected_failure, nothing more", async () => {
    const auth = createAuthService({ config: { ...config, dbUrl: deadDbUrl }, bodyLimit: 1024 * 1024, publicUrl: () => "http://127.0.0.1" });
    try {
      const url = await serve((req, res) => void auth.handle(req, res, (req.url ?? "/").replace(/^\/auth\/v1/, "")));
      const response = await fetch(`${url}/auth/v1/signup`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: "nobody@example.test", password: "Long-enough-passw0rd" }),
      });
      const body = await response.text();
      assert.equal(response.status, 500);
      assert.equal(JSON.parse(body).code, "unexpected_failure");
      assertNothingInternal(body);
    } finally {
      await auth.close();
    }
  });
});
