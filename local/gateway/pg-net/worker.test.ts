// The pg_net worker (docs/supabase-standin-spec.md §4.1, §6 item 4): requests queued by net.http_* go out only after commit, side
// by side (a slow one never holds back the next), with their own timeouts, and every outcome lands in net._http_response under the request id. Database
// webhooks (supabase_functions.http_request) post {type, table, schema, record, old_record}.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { instanceConfig } from "../../config.ts";
import { startPgNetWorker, type PgNetWorker } from "./worker.ts";

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

interface ResponseRow {
  id: string;
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean | null;
  error_msg: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("pg_net worker", { timeout: 60_000 }, () => {
  const config = instanceConfig();
  const db = new pg.Client({ connectionString: config.dbUrl });
  const received: Received[] = [];
  let server: Server;
  let baseUrl: string;
  let worker: PgNetWorker;
  // Each run tags its URLs so requests of other runs sharing the database are told apart.
  const run = randomUUID();

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        const url = new URL(req.url ?? "/", "http://x");
        const redirectTo = url.searchParams.get("to");
        if (redirectTo) {
          res.writeHead(302, { Location: redirectTo }).end();
          return;
        }
        const delay = Number(url.searchParams.get("delay") ?? 0);
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(Number(url.searchParams.get("status") ?? 200), { "Content-Type": "application/json", "X-Echo": "yes" });
          res.end(JSON.stringify({ ok: true, path: url.pathname }));
        }, delay);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${run}`;
    await db.connect();
    worker = await startPgNetWorker({ config });
  });

  after(async () => {
    await worker.stop();
    await db.end();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function responseFor(id: string, ms = 8000): Promise<ResponseRow> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const { rows } = await db.query<ResponseRow>(
        "select id::text, status_code, content_type, headers, content, timed_out, error_msg from net._http_response where id = $1",
        [id],
      );
      if (rows[0]) return rows[0];
      await sleep(25);
    }
    throw new Error(`no net._http_response row for request ${id} after ${ms} ms`);
  }

  it("sends a request queued while a slow one is in flight without waiting for it", async () => {
    const { rows: [slow] } = await db.query<{ id: string }>("select net.http_get($1, timeout_milliseconds => 5000)::text as id", [`${baseUrl}/slow?delay=1500`]);
    await sleep(200); // the slow request is on its way
    const { rows: [quick] } = await db.query<{ id: string }>("select net.http_get($1)::text as id", [`${baseUrl}/quick`]);
    const quickResponse = await responseFor(quick.id, 1200);
    assert.equal(quickResponse.status_code, 200);
    const { rows } = await db.query("select 1 from net._http_response where id = $1", [slow.id]);
    assert.equal(rows.length, 0, "the slow request was still in flight when the quick one was answered");
    assert.equal((await responseFor(slow.id)).status_code, 200);
  });

  it("http_post returns the request id, sends after commit and records the response", async () => {
    await db.query("begin");
    const { rows } = await db.query<{ id: string }>(
      `select net.http_post($1, '{"hello":"world","n":1}'::jsonb, '{"a":"1 2"}'::jsonb, '{"X-Custom":"v"}'::jsonb, 2000)::text as id`,
      [`${baseUrl}/post`],
    );
    const id = rows[0].id;
    assert.match(id, /^\d+$/);
    await sleep(300);
    assert.equal(received.filter((r) => r.url.startsWith(`/${run}/post`)).length, 0, "nothing is sent before commit");
    await db.query("commit");
    const response = await responseFor(id);
    assert.equal(response.status_code, 200);
    assert.equal(response.content_type, "application/json");
    assert.equal(response.headers?.["x-echo"], "yes");
    assert.deepEqual(JSON.parse(response.content ?? "null"), { ok: true, path: `/${run}/post` });
    assert.equal(response.timed_out, false);
    assert.equal(response.error_msg, null);
    const request = received.find((r) => r.url.startsWith(`/${run}/post`));
    assert.ok(request);
    assert.equal(request.method, "POST");
    assert.equal(request.url, `/${run}/post?a=1%202`);
    assert.equal(request.headers["content-type"], "application/json");
    assert.equal(request.headers["x-custom"], "v");
    assert.deepEqual(JSON.parse(request.body), { hello: "world", n: 1 });
    const { rows: left } = await db.query("select 1 from net.http_request_queue where id = $1", [id]);
    assert.equal(left.length, 0, "processed queue rows are deleted");
  });

  it("a rolled-back transaction sends nothing", async () => {
    await db.query("begin");
    const { rows } = await db.query<{ id: string }>("select net.http_post($1)::text as id", [`${baseUrl}/rolled-back`]);
    await db.query("rollback");
    await sleep(800);
    assert.equal(received.filter((r) => r.url.startsWith(`/${run}/rolled-back`)).length, 0);
    const { rows: responses } = await db.query("select 1 from net._http_response where id = $1", [rows[0].id]);
    assert.equal(responses.length, 0);
  });

  it("records a timeout with timed_out and an error message, and no status", async () => {
    const { rows } = await db.query<{ id: string }>("select net.http_get($1, timeout_milliseconds => 200)::text as id", [`${baseUrl}/slow?delay=3000`]);
    const started = Date.now();
    const response = await responseFor(rows[0].id);
    assert.ok(Date.now() - started < 2500, "the timeout cut the request short");
    assert.equal(response.timed_out, true);
    assert.equal(response.status_code, null);
    assert.match(response.error_msg ?? "", /Timeout of 200 ms reached/);
  });

  it("records transport errors without retrying", async () => {
    // Port 1 is on fetch's "bad ports" list; pg_net (libcurl) just tries it, and so does the worker.
    const { rows } = await db.query<{ id: string }>("select net.http_get('http://127.0.0.1:1/unreachable', timeout_milliseconds => 2000)::text as id");
    const response = await responseFor(rows[0].id);
    assert.equal(response.status_code, null);
    assert.equal(response.timed_out, false);
    assert.equal(response.error_msg, "Couldn't connect to server");
    const { rows: bad } = await db.query<{ id: string }>("select net.http_get('not a url')::text as id");
    const badResponse = await responseFor(bad[0].id);
    assert.equal(badResponse.status_code, null);
    assert.equal(badResponse.error_msg, "URL using bad/illegal format or missing URL");
  });

  it("http_get passes params and headers; http_delete sends its body; error statuses are recorded as is", async () => {
    const { rows } = await db.query<{ get_id: string; delete_id: string }>(
      `select net.http_get($1, '{"q":"a&b"}'::jsonb, '{"Accept":"application/json"}'::jsonb)::text as get_id,
              net.http_delete($2, body => '{"gone":true}'::jsonb)::text as delete_id`,
      [`${baseUrl}/get?status=404`, `${baseUrl}/delete`],
    );
    const [getResponse, deleteResponse] = await Promise.all([responseFor(rows[0].get_id), responseFor(rows[0].delete_id)]);
    assert.equal(getResponse.status_code, 404);
    assert.equal(deleteResponse.status_code, 200);
    const get = received.find((r) => r.url.startsWith(`/${run}/get`));
    assert.equal(get?.method, "GET");
    assert.equal(get?.url, `/${run}/get?status=404&q=a%26b`);
    assert.equal(get?.headers.accept, "application/json");
    const del = received.find((r) => r.url.startsWith(`/${run}/delete`));
    assert.equal(del?.method, "DELETE");
    assert.deepEqual(JSON.parse(del?.body ?? "null"), { gone: true });
  });

  it("follows redirects like libcurl: a 302 turns a POST into a GET", async () => {
    const target = `${baseUrl}/landed`;
    const { rows } = await db.query<{ id: string }>(
      "select net.http_post($1, '{\"x\":1}'::jsonb)::text as id",
      [`${baseUrl}/redirect?to=${encodeURIComponent(target)}`],
    );
    const response = await responseFor(rows[0].id);
    assert.equal(response.status_code, 200);
    assert.deepEqual(JSON.parse(response.content ?? "null"), { ok: true, path: `/${run}/landed` });
    const landed = received.find((r) => r.url === `/${run}/landed`);
    assert.equal(landed?.method, "GET");
    assert.equal(landed?.body, "");
  });

  it("drains more than one batch, each response under its own request id", async () => {
    const { rows } = await db.query<{ id: string; n: number }>(
      "select net.http_post($1 || '/many', jsonb_build_object('n', n))::text as id, n from generate_series(1, 250) as n",
      [baseUrl],
    );
    for (const row of rows) {
      const response = await responseFor(row.id, 15_000);
      assert.equal(response.status_code, 200);
    }
    const bodies = received.filter((r) => r.url === `/${run}/many`).map((r) => (JSON.parse(r.body) as { n: number }).n);
    assert.equal(bodies.length, 250);
    assert.deepEqual([...bodies].sort((a, b) => a - b), Array.from({ length: 250 }, (_, i) => i + 1));
  });

  it("re-opens its LISTEN connection after losing it, and keeps sending", async () => {
    const listeners = () =>
      db.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where application_name = 'leadloop pg_net listener'").then((r) => r.rows[0].n);
    const before = await listeners();
    assert.ok(before >= 1);
    await db.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'leadloop pg_net listener'");
    const deadline = Date.now() + 8000;
    while ((await listeners()) < before && Date.now() < deadline) await sleep(100);
    assert.ok((await listeners()) >= before, "the listener came back");
    const { rows } = await db.query<{ id: string }>("select net.http_get($1)::text as id", [`${baseUrl}/after-reconnect`]);
    assert.equal((await responseFor(rows[0].id)).status_code, 200);
  });

  it("database webhooks post {type, table, schema, record, old_record} after commit", async () => {
    const table = `pgnet_hook_${run.replace(/-/g, "").slice(0, 10)}`;
    await db.query(`create table public.${table} (id int primary key, name text)`);
    try {
      await db.query(
        `create trigger ${table}_hook after insert or update or delete on public.${table} for each row
         execute function supabase_functions.http_request('${baseUrl}/hook', 'POST', '{"Content-Type":"application/json","Authorization":"Bearer x"}', '{}', '5000')`,
      );
      await db.query(`insert into public.${table} values (1, 'a')`);
      await db.query(`update public.${table} set name = 'b' where id = 1`);
      await db.query(`delete from public.${table} where id = 1`);
      const deadline = Date.now() + 8000;
      let hooks: Received[] = [];
      while (Date.now() < deadline) {
        hooks = received.filter((r) => r.url === `/${run}/hook`);
        if (hooks.length >= 3) break;
        await sleep(25);
      }
      assert.equal(hooks.length, 3);
      const payloads = hooks.map((h) => JSON.parse(h.body) as Record<string, unknown>);
      const byType = Object.fromEntries(payloads.map((p) => [p.type as string, p]));
      assert.deepEqual(byType.INSERT, { type: "INSERT", table, schema: "public", record: { id: 1, name: "a" }, old_record: null });
      assert.deepEqual(byType.UPDATE, { type: "UPDATE", table, schema: "public", record: { id: 1, name: "b" }, old_record: { id: 1, name: "a" } });
      assert.deepEqual(byType.DELETE, { type: "DELETE", table, schema: "public", record: null, old_record: { id: 1, name: "b" } });
      assert.equal(hooks[0].headers.authorization, "Bearer x");
      const { rows } = await db.query<{ n: number }>(
        "select count(*)::int as n from supabase_functions.hooks where hook_name = $1 and request_id is not null",
        [`${table}_hook`],
      );
      assert.equal(rows[0].n, 3);
    } finally {
      await db.query(`drop table public.${table}`);
    }
  });
});
