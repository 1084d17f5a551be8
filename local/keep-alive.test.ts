// Deno's fetch (the edge functions) keeps idle connections for 90 s; a Node server closes them after 5 s,
// and a request sent as it closes fails with "fetch failed" (a race, so it is shown here by the
// connection surviving, not by the failure): the servers the functions call keep idle connections longer.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { denoCommand } from "./gateway/functions/workers.ts";
import { keepIdleConnections } from "./keep-alive.ts";

/** Deno posts twice, `gapMs` apart; resolves with the failed posts and the connections the server saw. */
async function denoPostsTwice(server: Server, gapMs: number): Promise<{ failed: number; connections: number }> {
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const script = `let failed = 0;
    for (let i = 0; i < 2; i++) {
      try { await (await fetch(${JSON.stringify(url)}, { method: "POST", body: "x" })).text(); } catch { failed++; }
      if (i === 0) await new Promise((r) => setTimeout(r, ${gapMs}));
    }
    console.log(failed);`;
  const { command, prefixArgs } = denoCommand();
  const child = spawn(command, [...prefixArgs, "eval", script], { env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  child.stdout.on("data", (chunk) => (out += chunk));
  await new Promise((resolve) => child.on("close", resolve));
  server.close();
  return { failed: Number(out.trim()), connections };
}

const answer = () => createServer((req, res) => req.resume().on("end", () => res.end("ok")));

test("a connection Deno left idle for 6 s is still open for its next request (Node's default closes it at 5 s)", async () => {
  const [ours, nodeDefault] = await Promise.all([denoPostsTwice(keepIdleConnections(answer()), 6_000), denoPostsTwice(answer(), 6_000)]);
  assert.deepEqual(ours, { failed: 0, connections: 1 });
  assert.equal(nodeDefault.connections, 2, "the default server had closed the first connection");
});
