// `npm test`: every test in the repository against its own "test" instance (its own cluster
// and ports, so it passes whether or not `npm start` runs beside it), one summary at the end.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { instanceConfig, projectRoot } from "./config.ts";
import { ensureSystemPackages, prepareDatabase, stopCluster } from "./db/cluster.ts";
import { denoEnvironment, startStack } from "./stack.ts";

interface PhaseResult {
  name: string;
  passed: number;
  failed: number;
  exitCode: number;
  seconds: number;
}

const config = instanceConfig("test");
// The end-to-end tests drive Debian's Chromium; Playwright's own browser download cannot work here.
ensureSystemPackages([{ pkg: "chromium", path: "/usr/bin/chromium" }]);
const results: PhaseResult[] = [];

function findFiles(dir: string, matches: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry === "dist" || entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findFiles(path, matches));
    else if (matches(entry)) found.push(path);
  }
  return found.sort();
}

/** Runs a command, streaming its output, and returns what it printed for counting. */
function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString();
      stream.write(chunk);
    };
    child.stdout.on("data", collect(process.stdout));
    child.stderr.on("data", collect(process.stderr));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

async function phase(name: string, body: () => Promise<{ passed: number; failed: number; exitCode: number }>): Promise<void> {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  try {
    const outcome = await body();
    results.push({ name, ...outcome, seconds: (Date.now() - started) / 1000 });
  } catch (error) {
    console.error(`${name} could not run: ${(error as Error).message}`);
    results.push({ name, passed: 0, failed: 1, exitCode: 1, seconds: (Date.now() - started) / 1000 });
  }
}

function count(output: string, pattern: RegExp): number {
  const match = output.match(pattern);
  return match ? Number(match[1]) : 0;
}

await phase("type checks (tsc for Node, dashboard and widget; deno check for the functions)", async () => {
  const tsc = join(projectRoot, "node_modules", ".bin", "tsc");
  const deno = join(projectRoot, "node_modules", ".bin", "deno");
  const checks: Array<[string, string[], Record<string, string>]> = [
    [tsc, ["-p", "tsconfig.json"], {}],
    [tsc, ["-p", "web/tsconfig.json"], {}],
    [tsc, ["-p", "widget/tsconfig.json"], {}],
    [deno, ["check", "--quiet", "--config", "functions/deno.json", "functions/"], denoEnvironment],
  ];
  let passed = 0;
  let failed = 0;
  for (const [command, args, env] of checks) {
    const { code } = await run(command, args, env);
    if (code === 0) passed++;
    else failed++;
  }
  return { passed, failed, exitCode: failed ? 1 : 0 };
});

await phase("database (pgTAP via pg_prove)", async () => {
  await prepareDatabase(config, { reset: true, seed: true });
  const files = findFiles(join(projectRoot, "supabase", "tests"), (n) => n.endsWith(".sql")).map((f) => relative(projectRoot, f));
  if (files.length === 0) return { passed: 0, failed: 0, exitCode: 0 };
  const { code, output } = await run(
    "pg_prove",
    ["--verbose", "--host", "127.0.0.1", "--port", String(config.ports.db), "--username", "postgres", "--dbname", "postgres", ...files],
    { PGPASSWORD: "postgres" },
  );
  const passed = (output.match(/^\s*ok \d+/gm) ?? []).length;
  const failed = (output.match(/^\s*not ok \d+/gm) ?? []).length;
  return { passed, failed: failed || (code !== 0 ? 1 : 0), exitCode: code };
});

await phase("edge functions (deno test)", async () => {
  const files = findFiles(join(projectRoot, "functions"), (n) => n.endsWith(".test.ts"));
  if (files.length === 0) return { passed: 0, failed: 0, exitCode: 0 };
  const deno = join(projectRoot, "node_modules", ".bin", "deno");
  const { code, output } = await run(deno, ["test", "--allow-all", "--no-prompt", "functions/"], denoEnvironment);
  const passed = count(output, /(\d+) passed/);
  const failed = count(output, /(\d+) failed/);
  return { passed, failed: failed || (code !== 0 ? 1 : 0), exitCode: code };
});

await phase("integration, gateway, emulator, web and widget (node --test against the test stack)", async () => {
  const files = ["tests", "local", "web", "widget"]
    .flatMap((dir) => findFiles(join(projectRoot, dir), (n) => n.endsWith(".test.ts") || n.endsWith(".test.tsx")))
    .map((f) => relative(projectRoot, f));
  if (files.length === 0) return { passed: 0, failed: 0, exitCode: 0 };
  const stack = await startStack(config, { useLlmFake: true });
  try {
    const { code, output } = await run(
      process.execPath,
      ["--import", "tsx", "--test", "--test-reporter=spec", "--test-timeout=180000", "--test-concurrency=1", ...files],
      { LEADLOOP_INSTANCE: config.name, NO_COLOR: "1" },
    );
    const passed = count(output, /^ℹ pass (\d+)/m);
    const failed = count(output, /^ℹ fail (\d+)/m);
    return { passed, failed: failed || (code !== 0 ? 1 : 0), exitCode: code };
  } finally {
    await stack.stop();
  }
});

stopCluster(config);

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log("\n=== summary ===");
for (const r of results) {
  const mark = r.exitCode === 0 && r.failed === 0 ? "ok  " : "FAIL";
  console.log(`${mark} ${r.name}: ${r.passed} passed, ${r.failed} failed (${r.seconds.toFixed(1)} s)`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && results.every((r) => r.exitCode === 0) ? 0 : 1);
