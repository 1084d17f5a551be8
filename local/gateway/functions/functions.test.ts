// Edge Functions through the unmodified supabase-js client (docs/supabase-standin-spec.md §5, §6 item 5): routing keeps /<name>,
// verify_jwt on by default with OPTIONS exempt, the injected environment, key translation (§0.3),
// BOOT_ERROR, and code changes picked up without a restart. The functions are small ones written into a
// temporary folder with their own config.toml, served by the real router behind Kong-like key rewriting.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient, FunctionsHttpError } from "@supabase/supabase-js";
import WebSocket from "ws";
import { instanceConfig, projectRoot, type InstanceConfig } from "../../config.ts";
import { signHs256 } from "../../keys.ts";
import { rewriteAuthorization } from "../authorization.ts";
import { setClientAddress } from "../client-address.ts";
import { createFunctionsRouter, FUNCTIONS_BODY_LIMIT, type FunctionsRouter } from "./index.ts";

const echoSource = `
import { greeting } from "../_shared/greeting.ts";
Deno.serve(async (req) => {
  const url = new URL(req.url);
  const env = Object.fromEntries(
    ["SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_DB_URL", "SUPABASE_PUBLISHABLE_KEYS",
     "SUPABASE_SECRET_KEYS", "SUPABASE_JWKS", "LEADLOOP_TEST_SECRET", "HOME", "SUPABASE_INTERNAL_JWT_SECRET"].map((k) => [k, Deno.env.get(k) ?? null]),
  );
  const body = req.method === "GET" || req.method === "HEAD" ? null : await req.text();
  return Response.json({
    greeting,
    method: req.method,
    pathname: url.pathname,
    search: url.search,
    authorization: req.headers.get("authorization"),
    apikey: req.headers.get("apikey"),
    forwarded: {
      for: req.headers.get("x-forwarded-for"),
      proto: req.headers.get("x-forwarded-proto"),
      host: req.headers.get("x-forwarded-host"),
      port: req.headers.get("x-forwarded-port"),
      path: req.headers.get("x-forwarded-path"),
      prefix: req.headers.get("x-forwarded-prefix"),
    },
    client: { cf: req.headers.get("cf-connecting-ip"), realIp: req.headers.get("x-real-ip") },
    contentType: req.headers.get("content-type"),
    body,
    env,
  });
});
`;

const preflightSource = `
Deno.serve((req) => {
  if (req.method === "OPTIONS") return new Response("ok", { headers: { "Access-Control-Allow-Origin": "*" } });
  return new Response("not a preflight", { status: 200 });
});
`;

const streamSource = `
Deno.serve(() => {
  const body = new ReadableStream({
    async start(controller) {
      for (let i = 0; i < 3; i++) {
        controller.enqueue(new TextEncoder().encode("chunk" + i + "\\n"));
        await new Promise((r) => setTimeout(r, 30));
      }
      controller.close();
    },
  });
  return new Response(body, { headers: { "Content-Type": "text/plain" } });
});
`;

// Reads its body chunk by chunk and reports how much arrived, and whether the upload ended or broke,
// to the URL in X-Report-To (the caller may already have been answered by the gateway).
const sinkSource = `
Deno.serve(async (req) => {
  let received = 0;
  let outcome = "complete";
  try {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
    }
  } catch {
    outcome = "broken";
  }
  const report = req.headers.get("x-report-to");
  if (report) await fetch(report, { method: "POST", body: JSON.stringify({ received, outcome }) });
  return Response.json({ received, outcome });
});
`;

const configToml = `
[api]
port = 54321

[functions.echo]
enabled = true
verify_jwt = true

[functions.open]
verify_jwt = false
entrypoint = "../functions/open/main.ts"

[functions.preflight]
# default verify_jwt (on)

[functions.disabled]
enabled = false
verify_jwt = false

[functions.broken]
verify_jwt = false

[functions.sink]
verify_jwt = false
`;

interface Harness {
  url: string;
  config: InstanceConfig;
  root: string;
  router: FunctionsRouter;
  server: Server;
}

async function startHarness(): Promise<Harness> {
  const root = mkdtempSync(join(tmpdir(), "leadloop-fn-"));
  const functionsRoot = join(root, "functions");
  for (const dir of ["echo", "cold", "open", "preflight", "disabled", "broken", "stream", "sink", "_shared"]) mkdirSync(join(functionsRoot, dir), { recursive: true });
  writeFileSync(join(functionsRoot, "_shared", "greeting.ts"), `export const greeting = "hello v1";\n`);
  writeFileSync(join(functionsRoot, "echo", "index.ts"), echoSource);
  writeFileSync(join(functionsRoot, "cold", "index.ts"), echoSource);
  writeFileSync(join(functionsRoot, "open", "main.ts"), echoSource);
  writeFileSync(join(functionsRoot, "preflight", "index.ts"), preflightSource);
  writeFileSync(join(functionsRoot, "disabled", "index.ts"), preflightSource);
  writeFileSync(join(functionsRoot, "stream", "index.ts"), streamSource);
  writeFileSync(join(functionsRoot, "sink", "index.ts"), sinkSource);
  writeFileSync(join(functionsRoot, "broken", "index.ts"), `throw new Error("boom at boot");\n`);
  mkdirSync(join(root, "supabase"));
  writeFileSync(join(root, "supabase", "config.toml"), configToml);
  const base = instanceConfig();
  const envFile = join(root, "functions.env");
  writeFileSync(envFile, `# test secrets\nLEADLOOP_TEST_SECRET="s3cret value"\nexport OTHER=1\n`);
  const config: InstanceConfig = { ...base, functionsEnvFile: envFile };
  const router = await createFunctionsRouter({ config, functionsRoot, configPath: join(root, "supabase", "config.toml") });
  const server = createServer((req, res) => {
    // What the gateway does before routing (docs/supabase-standin-spec.md §0.3), then the /functions/v1 prefix is stripped.
    rewriteAuthorization(req.headers, config.keys);
    setClientAddress(req);
    const url = req.url ?? "/";
    if (!url.startsWith("/functions/v1")) {
      res.writeHead(404).end();
      return;
    }
    void router.handle(req, res, url.slice("/functions/v1".length) || "/");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, config, root, router, server };
}

function client(h: Harness, key: string) {
  // Node 20 has no global WebSocket, which supabase-js's realtime part needs even when unused.
  return createClient(h.url, key, { auth: { persistSession: false }, realtime: { transport: WebSocket as never } });
}

type Echo = {
  greeting: string;
  method: string;
  pathname: string;
  search: string;
  authorization: string | null;
  apikey: string | null;
  forwarded: Record<string, string | null>;
  client: { cf: string | null; realIp: string | null };
  contentType: string | null;
  body: string | null;
  env: Record<string, string | null>;
};

describe("functions gateway", { timeout: 180_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.router.close();
    h.server.closeAllConnections();
    await new Promise<void>((resolve) => h.server.close(() => resolve()));
    rmSync(h.root, { recursive: true, force: true });
  });

  it("routes /functions/v1/<name>/<rest> to the function with the /<name> pathname, method, query and body", async () => {
    const supabase = client(h, h.config.keys.anonKey);
    const { data, error } = await supabase.functions.invoke<Echo>("echo/sub/path?x=1&y=two", { body: { hello: "world" } });
    assert.equal(error, null);
    assert.ok(data);
    assert.equal(data.method, "POST");
    assert.equal(data.pathname, "/echo/sub/path");
    assert.equal(data.search, "?x=1&y=two");
    assert.equal(data.contentType, "application/json");
    assert.deepEqual(JSON.parse(data.body ?? "null"), { hello: "world" });
    assert.equal(data.forwarded.prefix, "/functions/v1");
    assert.equal(data.forwarded.path, "/functions/v1/echo/sub/path");
    assert.equal(data.forwarded.proto, "http");
    assert.equal(data.forwarded.host, "127.0.0.1");
    assert.equal(data.forwarded.port, new URL(h.url).port);
    assert.equal(data.forwarded.for, "127.0.0.1");

    const get = await supabase.functions.invoke<Echo>("echo", { method: "GET" });
    assert.equal(get.error, null);
    assert.equal(get.data?.method, "GET");
    assert.equal(get.data?.pathname, "/echo");
  });

  it("the function sees the peer as the client, whatever the caller claims", async () => {
    const supabase = client(h, h.config.keys.anonKey);
    const { data, error } = await supabase.functions.invoke<Echo>("echo", {
      headers: { "CF-Connecting-IP": "198.51.100.7", "X-Real-IP": "junk", "X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https" },
    });
    assert.equal(error, null);
    assert.deepEqual(data!.client, { cf: "127.0.0.1", realIp: "127.0.0.1" });
    assert.equal(data!.forwarded.for, "198.51.100.7, 127.0.0.1");
    assert.equal(data!.forwarded.proto, "http");
  });

  it("injects the Supabase environment plus the env file, and hides the host's", async () => {
    const supabase = client(h, h.config.keys.anonKey);
    const { data, error } = await supabase.functions.invoke<Echo>("echo");
    assert.equal(error, null);
    const env = data!.env;
    assert.equal(env.SUPABASE_URL, h.config.supabaseUrl);
    assert.equal(env.SUPABASE_ANON_KEY, h.config.keys.anonKey);
    assert.equal(env.SUPABASE_SERVICE_ROLE_KEY, h.config.keys.serviceRoleKey);
    assert.equal(env.SUPABASE_DB_URL, h.config.dbUrl);
    assert.deepEqual(JSON.parse(env.SUPABASE_PUBLISHABLE_KEYS!), { default: h.config.keys.publishableKey });
    assert.deepEqual(JSON.parse(env.SUPABASE_SECRET_KEYS!), { default: h.config.keys.secretKey });
    const jwks = JSON.parse(env.SUPABASE_JWKS!) as { keys: Array<{ kty: string; k: string }> };
    assert.equal(jwks.keys[0].kty, "oct");
    assert.equal(Buffer.from(jwks.keys[0].k, "base64url").toString(), h.config.keys.jwtSecret);
    assert.equal(env.LEADLOOP_TEST_SECRET, "s3cret value");
    assert.equal(env.HOME, null);
    assert.equal(env.SUPABASE_INTERNAL_JWT_SECRET, null);
  });

  it("translates opaque keys to JWTs before the function sees them (docs/supabase-standin-spec.md §0.3)", async () => {
    const withPublishable = client(h, h.config.keys.publishableKey);
    const pub = await withPublishable.functions.invoke<Echo>("echo");
    assert.equal(pub.error, null);
    assert.equal(pub.data!.authorization, `Bearer ${h.config.keys.anonKey}`);
    assert.equal(pub.data!.apikey, h.config.keys.publishableKey);

    const withSecret = client(h, h.config.keys.secretKey);
    const sec = await withSecret.functions.invoke<Echo>("echo");
    assert.equal(sec.error, null);
    assert.equal(sec.data!.authorization, `Bearer ${h.config.keys.serviceRoleKey}`);

    const userJwt = signHs256({ sub: "u1", role: "authenticated", exp: Math.floor(Date.now() / 1000) + 600 }, h.config.keys.jwtSecret);
    const user = await withPublishable.functions.invoke<Echo>("echo", { headers: { Authorization: `Bearer ${userJwt}` } });
    assert.equal(user.error, null);
    assert.equal(user.data!.authorization, `Bearer ${userJwt}`);
  });

  it("verify_jwt is on by default: bad, expired or missing tokens get the CLI's 401 bodies", async () => {
    const supabase = client(h, h.config.keys.anonKey);
    const wrongSecret = signHs256({ role: "anon", exp: Math.floor(Date.now() / 1000) + 600 }, "another-secret-another-secret-another-secret");
    const expired = signHs256({ role: "anon", exp: Math.floor(Date.now() / 1000) - 10 }, h.config.keys.jwtSecret);
    const noneAlg = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${Buffer.from(JSON.stringify({ role: "service_role" })).toString("base64url")}.`;
    for (const token of [wrongSecret, expired, noneAlg, "garbage"]) {
      const { data, error } = await supabase.functions.invoke("echo", { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(data, null);
      assert.ok(error instanceof FunctionsHttpError, `token ${token.slice(0, 20)} should be refused`);
      const response = error.context as Response;
      assert.equal(response.status, 401);
      assert.deepEqual(await response.json(), { msg: "Invalid JWT" });
    }
    const basic = await supabase.functions.invoke("echo", { headers: { Authorization: "Basic abc" } });
    assert.ok(basic.error instanceof FunctionsHttpError);
    assert.deepEqual(await (basic.error.context as Response).json(), { msg: "Error: Auth header is not 'Bearer {token}'" });

    const raw = await fetch(`${h.url}/functions/v1/echo`, { method: "POST" });
    assert.equal(raw.status, 401);
    assert.deepEqual(await raw.json(), { msg: "Error: Missing authorization header" });
  });

  it("verify_jwt = false lets anything through, from a custom entrypoint", async () => {
    const raw = await fetch(`${h.url}/functions/v1/open/x`, { method: "POST", body: "plain", headers: { "content-type": "text/plain" } });
    assert.equal(raw.status, 200);
    const data = (await raw.json()) as Echo;
    assert.equal(data.pathname, "/open/x");
    assert.equal(data.body, "plain");
    assert.equal(data.authorization, null);
  });

  it("OPTIONS is exempt from verify_jwt and reaches the function", async () => {
    const response = await fetch(`${h.url}/functions/v1/preflight`, { method: "OPTIONS" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ok");
    const post = await fetch(`${h.url}/functions/v1/preflight`, { method: "POST" });
    assert.equal(post.status, 401);
  });

  it("unknown, disabled and _shared functions are 404 Function not found", async () => {
    const supabase = client(h, h.config.keys.anonKey);
    for (const name of ["nope", "disabled", "_shared"]) {
      const { error } = await supabase.functions.invoke(name);
      assert.ok(error instanceof FunctionsHttpError, name);
      const response = error.context as Response;
      assert.equal(response.status, 404);
      assert.equal(response.headers.get("content-type"), "text/plain");
      assert.equal(await response.text(), "Function not found");
    }
    for (const path of ["/functions/v1/%E0%A4%A", "/functions/v1/", "/functions/v1/..%2Fsecrets", "/functions/v1/_shared/greeting.ts"]) {
      const response = await fetch(`${h.url}${path}`, { method: "POST", headers: { Authorization: `Bearer ${h.config.keys.anonKey}` } });
      assert.equal(response.status, 404, path);
      assert.equal(await response.text(), "Function not found");
    }
  });

  it("a function that fails to boot gives 503 BOOT_ERROR", async () => {
    const response = await fetch(`${h.url}/functions/v1/broken`, { method: "POST" });
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { code: "BOOT_ERROR", message: "Worker failed to boot (please check logs)" });
  });

  it("requests that arrive while a function is still booting wait for it instead of failing", async () => {
    const supabase = client(h, h.config.keys.anonKey);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => supabase.functions.invoke<Echo>(`cold?i=${i}`, { body: { i } })));
    results.forEach((r, i) => {
      assert.equal(r.error, null, `request ${i} failed: ${r.error?.message}`);
      assert.equal(r.data!.search, `?i=${i}`);
    });
  });

  it("streams responses and serves concurrent requests", async () => {
    const supabase = client(h, h.config.keys.anonKey);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => supabase.functions.invoke<Echo>(`echo?i=${i}`, { body: { i } })));
    results.forEach((r, i) => {
      assert.equal(r.error, null);
      assert.equal(r.data!.search, `?i=${i}`);
    });
    const streamed = await fetch(`${h.url}/functions/v1/stream`, { headers: { Authorization: `Bearer ${h.config.keys.anonKey}` } });
    assert.equal(streamed.status, 200);
    assert.equal(await streamed.text(), "chunk0\nchunk1\nchunk2\n");
  });

  it("a chunked body never reaches a function beyond the limit: 413 at once, the function sees a broken upload", async () => {
    const reports: Array<{ received: number; outcome: string }> = [];
    const collector = createServer((req, res) => {
      let text = "";
      req.on("data", (d: Buffer) => (text += d.toString()));
      req.on("end", () => {
        reports.push(JSON.parse(text));
        res.end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", () => resolve()));
    const reportTo = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/`;
    const upload = (total: number) => {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent >= total) return controller.close();
          await new Promise((r) => setTimeout(r, 2));
          const size = Math.min(64 * 1024, total - sent);
          sent += size;
          controller.enqueue(new Uint8Array(size));
        },
      });
      return fetch(`${h.url}/functions/v1/sink`, { method: "POST", headers: { "x-report-to": reportTo }, body, duplex: "half" } as RequestInit);
    };
    try {
      const small = await upload(100_000);
      assert.equal(small.status, 200);
      assert.deepEqual(await small.json(), { received: 100_000, outcome: "complete" });

      const big = await upload(5 * 1024 * 1024);
      assert.equal(big.status, 413);
      assert.equal(big.headers.get("connection"), "close");
      assert.deepEqual(await big.json(), { code: "request_too_large", message: `Request body exceeds the limit of ${FUNCTIONS_BODY_LIMIT} bytes` });
      const deadline = Date.now() + 10_000;
      while (reports.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(reports.length, 2);
      assert.equal(reports[1].outcome, "broken");
      assert.ok(reports[1].received <= FUNCTIONS_BODY_LIMIT, `the function received ${reports[1].received} bytes`);
    } finally {
      collector.closeAllConnections();
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });

  it("picks up a change to _shared code without restarting the gateway", async () => {
    const supabase = client(h, h.config.keys.anonKey);
    const before = await supabase.functions.invoke<Echo>("echo");
    assert.equal(before.data?.greeting, "hello v1");
    writeFileSync(join(h.root, "functions", "_shared", "greeting.ts"), `export const greeting = "hello v2";\n`);
    const deadline = Date.now() + 20_000;
    let greeting: string | undefined = before.data?.greeting;
    while (greeting !== "hello v2" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      greeting = (await supabase.functions.invoke<Echo>("echo")).data?.greeting;
    }
    assert.equal(greeting, "hello v2");
  });
});

describe("functions after a gateway crash", { timeout: 120_000 }, () => {
  it("a new router ends the deno children a SIGKILLed gateway left behind", async () => {
    const root = mkdtempSync(join(tmpdir(), "leadloop-fn-crash-"));
    mkdirSync(join(root, "functions", "hello"), { recursive: true });
    writeFileSync(join(root, "functions", "hello", "index.ts"), `Deno.serve(() => new Response("hi"));\n`);
    const stateDir = join(root, "state");
    const script = `
      import { createServer } from "node:http";
      import { createFunctionsRouter } from ${JSON.stringify(join(projectRoot, "local/gateway/functions/index.ts"))};
      import { instanceConfig } from ${JSON.stringify(join(projectRoot, "local/config.ts"))};
      const config = { ...instanceConfig(), stateDir: ${JSON.stringify(stateDir)} };
      const router = await createFunctionsRouter({ config, functionsRoot: ${JSON.stringify(join(root, "functions"))}, configPath: ${JSON.stringify(join(root, "none.toml"))} });
      const server = createServer((req, res) => void router.handle(req, res, req.url));
      server.listen(0, "127.0.0.1", async () => {
        const response = await fetch("http://127.0.0.1:" + server.address().port + "/hello", { headers: { Authorization: "Bearer " + config.keys.anonKey } });
        console.log("status " + response.status + " " + (await response.text()));
      });
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          const m = /status \d+ \w+/.exec(d.toString());
          if (m) resolve(m[0]);
        });
        child.once("exit", (code) => reject(new Error(`gateway child exited with ${code}`)));
      });
      assert.equal(line, "status 200 hi");
      const pidFile = readdirSync(stateDir).find((name) => name.endsWith(".pids"));
      assert.ok(pidFile);
      const [denoPid] = JSON.parse(readFileSync(join(stateDir, pidFile), "utf8")) as number[];
      assert.ok(denoPid > 0);
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      assert.doesNotThrow(() => process.kill(denoPid, 0), "the orphaned function is still running");

      const config = { ...instanceConfig(), stateDir };
      const router = await createFunctionsRouter({ config, functionsRoot: join(root, "functions"), configPath: join(root, "none.toml") });
      await router.close();
      const deadline = Date.now() + 5000;
      let alive = true;
      while (alive && Date.now() < deadline) {
        try {
          process.kill(denoPid, 0);
          await new Promise((r) => setTimeout(r, 50));
        } catch {
          alive = false;
        }
      }
      assert.equal(alive, false, "the new router ended the orphan");
    } finally {
      child.kill("SIGKILL");
      rmSync(root, { recursive: true, force: true });
    }
  });
});
