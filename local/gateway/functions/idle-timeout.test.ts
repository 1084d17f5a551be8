// The platform's request idle timeout (150 s; shortened here): a function that answers nothing gets the
// caller Kong's 504, one that stops streaming mid-answer is cut off, one that keeps sending within the
// timeout is never cut however long it runs, and the worker stays warm through all of it.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { instanceConfig } from "../../config.ts";
import { createFunctionsRouter, FUNCTIONS_IDLE_TIMEOUT_MS, type FunctionsRouter } from "./index.ts";

const IDLE_MS = 600;

// /silent answers nothing; /stall sends headers and one chunk, then nothing; /trickle sends a chunk every
// third of the timeout for twice the timeout; /pid says which process answered. The function records
// whether the platform aborted a request (its request.signal), which /aborted reports.
const source = `
let aborted = 0;
Deno.serve((req) => {
  const path = new URL(req.url).pathname;
  req.signal.addEventListener("abort", () => aborted++);
  const never = new Promise(() => {});
  if (path.endsWith("/silent")) return never.then(() => new Response("late"));
  if (path.endsWith("/pid")) return Response.json({ pid: Deno.pid });
  if (path.endsWith("/aborted")) return Response.json({ aborted });
  const encoder = new TextEncoder();
  const body = new ReadableStream({
    async start(controller) {
      if (path.endsWith("/stall")) {
        controller.enqueue(encoder.encode("first"));
        return;
      }
      for (let i = 0; i < 6; i++) {
        controller.enqueue(encoder.encode("tick" + i + "\\n"));
        await new Promise((r) => setTimeout(r, ${Math.round(IDLE_MS / 3)}));
      }
      controller.close();
    },
  });
  return new Response(body, { headers: { "Content-Type": "text/plain" } });
});
`;

let root: string;
let router: FunctionsRouter;
let server: Server;
let url: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "leadloop-fn-idle-"));
  const functionsRoot = join(root, "functions");
  mkdirSync(join(functionsRoot, "idle"), { recursive: true });
  writeFileSync(join(functionsRoot, "idle", "index.ts"), source);
  mkdirSync(join(root, "supabase"));
  writeFileSync(join(root, "supabase", "config.toml"), "[functions.idle]\nverify_jwt = false\n");
  router = await createFunctionsRouter({
    config: instanceConfig(),
    functionsRoot,
    configPath: join(root, "supabase", "config.toml"),
    idleTimeoutMs: IDLE_MS,
  });
  server = createServer((req, res) => void router.handle(req, res, (req.url ?? "/").slice("/functions/v1".length)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/functions/v1/idle`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await router.close();
  rmSync(root, { recursive: true, force: true });
});

const pid = async () => ((await (await fetch(`${url}/pid`)).json()) as { pid: number }).pid;

describe("functions idle timeout", () => {
  it("is the platform's 150 s unless told otherwise", () => {
    assert.equal(FUNCTIONS_IDLE_TIMEOUT_MS, 150_000);
  });

  it("a function that answers nothing gets the caller a 504 once the timeout passes, and its request is aborted", async () => {
    const warm = await pid();
    const started = Date.now();
    const res = await fetch(`${url}/silent`);
    const waited = Date.now() - started;
    assert.equal(res.status, 504);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await res.json(), { message: "The upstream server is timing out" });
    assert.ok(waited >= IDLE_MS - 50 && waited < IDLE_MS + 2000, `answered after ${waited} ms`);
    assert.equal(await pid(), warm, "the worker was kept, not restarted");
    const { aborted } = (await (await fetch(`${url}/aborted`)).json()) as { aborted: number };
    assert.ok(aborted >= 1, "the function saw its request end");
  });

  it("a stream that stops mid-answer is cut off: the caller gets what was sent, then a broken body", async () => {
    const warm = await pid();
    const res = await fetch(`${url}/stall`);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first");
    await assert.rejects(async () => {
      for (;;) if ((await reader.read()).done) break;
    });
    assert.equal(await pid(), warm);
  });

  it("a function that keeps sending runs past the timeout without being cut", async () => {
    const started = Date.now();
    const res = await fetch(`${url}/trickle`);
    const text = await res.text();
    assert.equal(text.split("\n").filter(Boolean).length, 6);
    assert.ok(Date.now() - started > IDLE_MS, "the answer took longer than the idle timeout");
  });
});
