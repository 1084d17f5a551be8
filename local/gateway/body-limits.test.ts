// Body limits hold while the body streams, on every route: a chunked body without Content-Length is
// refused with 413 as soon as it passes the limit (the client has not finished sending when the answer
// comes), a Content-Length over the limit is refused before any body is read, and a Content-Length that
// understates the body cannot smuggle the rest in. The gateway keeps serving throughout.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { rawRequest, startGatewayFixture, type GatewayFixture } from "./test-support.ts";

const MB = 1024 * 1024;
let f: GatewayFixture;
let table: string;

before(async () => {
  f = await startGatewayFixture((s) => `create table public.sized_${s} (id int primary key, label text);
    grant insert, select on public.sized_${s} to anon;
    create function public.sized_len_${s}(label text) returns int language sql immutable as $$ select length(label) $$;`);
  table = `sized_${f.suffix}`;
});
after(async () => {
  await f.sql(`drop table if exists public.sized_${f.suffix}; drop function if exists public.sized_len_${f.suffix}`);
  await f.close();
});

/** POSTs `total` bytes of a JSON string body in 64 KiB chunks without Content-Length; reports what was sent when the answer came. */
async function streamBody(path: string, total: number): Promise<{ status: number; body: Record<string, unknown>; sentWhenAnswered: number }> {
  let sent = 0;
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"id": 1, "label": "'));
    },
    async pull(controller) {
      if (sent >= total) {
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
        return;
      }
      await new Promise((r) => setTimeout(r, 2));
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const response = await fetch(`${f.gateway.url}${path}`, {
    method: "POST",
    headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json" },
    body: stream,
    duplex: "half",
  } as RequestInit);
  const sentWhenAnswered = sent;
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, sentWhenAnswered };
}

/** Writes `head` (and optionally more) on a raw socket and returns what the gateway answered. */
function raw(head: string, rest?: Buffer): Promise<string> {
  return rawRequest(f.gateway.url, rest ? [head, rest] : head, { timeoutMs: 5000 });
}

async function stillServing(): Promise<void> {
  const { error } = await f.client().from(table).select("id");
  assert.equal(error, null);
}

describe("body limits", () => {
  for (const [route, path] of [
    ["REST insert", () => `/rest/v1/${table}`],
    ["REST rpc", () => `/rest/v1/rpc/sized_len_${f.suffix}`],
    ["Auth", () => "/auth/v1/signup"],
  ] as const) {
    test(`${route}: a 5 MB chunked body is refused with 413 while it is still being sent`, async () => {
      const { status, body, sentWhenAnswered } = await streamBody(path(), 5 * MB);
      assert.equal(status, 413);
      assert.equal(typeof body.code, "string");
      assert.match(String(body.message ?? "") + String(body.details ?? ""), /1048576 bytes/);
      assert.ok(sentWhenAnswered < 3 * MB, `answered after ${sentWhenAnswered} bytes`);
      await stillServing();
    });

    test(`${route}: a Content-Length over the limit is refused before the body is read`, async () => {
      const started = Date.now();
      const answer = await raw(`POST ${path()} HTTP/1.1\r\nHost: x\r\napikey: ${f.config.keys.publishableKey}\r\nContent-Type: application/json\r\nContent-Length: ${6 * MB}\r\n\r\n{"id":`);
      assert.match(answer, /^HTTP\/1\.1 413/);
      assert.match(answer, /connection: close/i);
      assert.ok(Date.now() - started < 4000, "answered without waiting for the declared body");
    });
  }

  test("a Content-Length that understates the body smuggles nothing: the rest is not a request", async () => {
    const body = Buffer.from(`{"id": 7, "label": "${"y".repeat(5 * MB)}"}`);
    const answer = await raw(
      `POST /rest/v1/${table} HTTP/1.1\r\nHost: x\r\napikey: ${f.config.keys.publishableKey}\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n`,
      body,
    );
    assert.match(answer, /^HTTP\/1\.1 400/);
    assert.doesNotMatch(answer, /HTTP\/1\.1 20[01]/);
    const rows = await f.sql(`select count(*)::int as n from public.${table}`);
    assert.equal(rows.rows[0].n, 0);
    await stillServing();
  });

  test("functions: a Content-Length over the platform's limit is refused before any function runs", async () => {
    const answer = await raw(`POST /functions/v1/twilio-inbound HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${5 * MB}\r\n\r\nBody=`);
    assert.match(answer, /^HTTP\/1\.1 413/);
    const json = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as { code: string; message: string };
    assert.equal(json.code, "request_too_large");
    assert.match(json.message, /2097152 bytes/);
  });

  test("a body read to its end keeps the connection alive; a refused one closes it", async () => {
    const ok = await fetch(`${f.gateway.url}/rest/v1/${table}`, {
      method: "POST",
      headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json" },
      body: JSON.stringify({ id: 2, label: "fits" }),
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.headers.get("connection"), "keep-alive");
    const unauthorized = await fetch(`${f.gateway.url}/rest/v1/${table}`, {
      method: "POST",
      headers: { Authorization: "Bearer not.a.jwt", "Content-Type": "application/json" },
      body: JSON.stringify({ id: 3 }),
    });
    assert.equal(unauthorized.status, 401);
    assert.equal(unauthorized.headers.get("connection"), "close", "answered without reading the body");
    await f.sql(`delete from public.${table}`);
  });

  test("an early answer closes the connection instead of draining an endless body", async () => {
    const { port } = new URL(f.gateway.url);
    const closed = await new Promise<{ answer: string; written: number }>((resolve) => {
      let answer = "";
      let written = 0;
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.write(`POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
        const chunk = `${(64 * 1024).toString(16)}\r\n${"z".repeat(64 * 1024)}\r\n`;
        const pump = () => {
          while (written < 64 * MB && !socket.destroyed) {
            written += 64 * 1024;
            if (!socket.write(chunk)) return void socket.once("drain", pump);
          }
        };
        pump();
      });
      socket.on("data", (d) => (answer += d.toString()));
      socket.on("error", () => {});
      socket.on("close", () => resolve({ answer, written }));
    });
    assert.match(closed.answer, /^HTTP\/1\.1 404/);
    assert.ok(closed.written < 32 * MB, `the gateway closed the connection after ${closed.written} bytes`);
    await stillServing();
  });
});
