// The Deno side of the functions gateway: one long-lived `deno run` child per function on a private
// loopback port (Deno.serve honours DENO_SERVE_ADDRESS), started on first use with Supabase's environment
// (docs/supabase-standin-spec.md §5.3), retired when its files or the shared files change, and killed with
// the gateway (even one that died without cleaning up: its children's pids are kept in the state dir).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { projectRoot, type InstanceConfig } from "../../config.ts";
import type { FunctionSettings } from "./config-toml.ts";

/** Folder names that can be functions (as the CLI accepts them). */
export const FUNCTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const RESTART_DEBOUNCE_MS = 150;

export class BootError extends Error {}

export interface Worker {
  name: string;
  port: number;
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
  inFlight: number;
  retired: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** The deno binary: node_modules/.bin/deno is the native executable once the package's postinstall ran. */
export function denoCommand(): { command: string; prefixArgs: string[] } {
  const bin = join(projectRoot, "node_modules", ".bin", "deno");
  try {
    const real = realpathSync(bin);
    const fd = openSync(real, "r");
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    closeSync(fd);
    if (magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || magic.subarray(0, 2).toString() !== "#!") {
      return { command: real, prefixArgs: [] };
    }
    // The npm launcher script: run it with this node, so no PATH is needed in the function's environment.
    return { command: process.execPath, prefixArgs: [real] };
  } catch {
    return { command: bin, prefixArgs: [] };
  }
}

function proxyEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"]) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}

/** KEY=VALUE lines as `supabase functions serve --env-file` reads them (comments, `export`, quotes). */
export function parseEnvFile(contents: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const rawLine of contents.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2].trim();
    if ((value.startsWith('"') && value.endsWith('"') && value.length >= 2) || (value.startsWith("'") && value.endsWith("'") && value.length >= 2)) {
      const quote = value[0];
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    env[m[1]] = value;
  }
  return env;
}

/**
 * Children of a gateway that died without cleaning up (SIGKILL, OOM) would keep running. Their pids are
 * kept in a file per functions root; a new router ends the ones that are still this project's deno.
 */
function killLeftoverChildren(pidFile: string, denoDir: string): void {
  let pids: number[] = [];
  try {
    pids = JSON.parse(readFileSync(pidFile, "utf8")) as number[];
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (environ.includes(`DENO_DIR=${denoDir}`) && environ.some((v) => v.startsWith("DENO_SERVE_ADDRESS=tcp:127.0.0.1:"))) {
        process.kill(pid, "SIGKILL");
      }
    } catch {
      // gone already, or not ours to read
    }
  }
}

export type ResolvedFunction = FunctionSettings & { entrypoint: string };

export interface WorkerPool {
  /** The running worker for a function, started (and waited for) if needed. */
  workerFor(name: string, settings: ResolvedFunction): Promise<Worker>;
  close(): Promise<void>;
}

export function createWorkerPool(options: {
  config: InstanceConfig;
  functionsRoot: string;
  bootTimeoutMs: number;
  denoDir: string;
  /** Called with each function whose worker was retired because its source changed (to start the new one at once). */
  onRetired?: (name: string) => void;
}): WorkerPool {
  const { config, functionsRoot, bootTimeoutMs, denoDir } = options;
  mkdirSync(denoDir, { recursive: true });
  mkdirSync(config.stateDir, { recursive: true });
  const pidFile = join(config.stateDir, `functions-${Buffer.from(functionsRoot).toString("base64url").slice(-24)}.pids`);
  killLeftoverChildren(pidFile, denoDir);
  const deno = denoCommand();
  const jwks = { keys: [{ kty: "oct", k: Buffer.from(config.keys.jwtSecret).toString("base64url") }] };
  const workers = new Map<string, Worker>();
  const starting = new Map<string, Promise<Worker>>();
  const retiring = new Set<Worker>();
  const livePids = new Set<number>();
  function writePids(): void {
    try {
      writeFileSync(pidFile, JSON.stringify([...livePids]));
    } catch {
      // the state dir went away; nothing to clean up next time
    }
  }
  // A gateway that exits (even on an uncaught error) takes its functions with it.
  const killAllOnExit = () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.on("exit", killAllOnExit);

  function functionEnv(port: number): NodeJS.ProcessEnv {
    let fileEnv: Record<string, string> = {};
    try {
      fileEnv = parseEnvFile(readFileSync(config.functionsEnvFile, "utf8"));
    } catch {
      // no env file: only the platform variables
    }
    return {
      ...fileEnv,
      SUPABASE_URL: config.supabaseUrl,
      SUPABASE_ANON_KEY: config.keys.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: config.keys.serviceRoleKey,
      SUPABASE_DB_URL: config.dbUrl,
      SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: config.keys.publishableKey }),
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: config.keys.secretKey }),
      SUPABASE_JWKS: JSON.stringify(jwks),
      DENO_DIR: denoDir,
      DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      // How Deno reaches the npm registry for a dependency not cached yet (as `deno cache` does here).
      DENO_TLS_CA_STORE: process.env.DENO_TLS_CA_STORE ?? "system,mozilla",
      ...proxyEnv(),
    };
  }

  function pipeLogs(name: string, child: ChildProcess): void {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => process.stdout.write(`[fn:${name}] ${line}\n`));
    }
  }

  async function startWorker(name: string, settings: ResolvedFunction): Promise<Worker> {
    const port = await freePort();
    const args = [...deno.prefixArgs, "run", "--allow-net", "--allow-env", "--allow-read", "--no-prompt"];
    if (settings.importMap) {
      args.push(/deno\.jsonc?$/.test(settings.importMap) ? "--config" : "--import-map", settings.importMap);
    }
    args.push(settings.entrypoint);
    const child = spawn(deno.command, args, {
      cwd: dirname(settings.entrypoint),
      env: functionEnv(port),
      stdio: ["ignore", "pipe", "pipe"],
    });
    pipeLogs(name, child);
    if (child.pid !== undefined) livePids.add(child.pid);
    writePids();
    let exitedEarly = false;
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => {
        exitedEarly = true;
        if (child.pid !== undefined) livePids.delete(child.pid);
        writePids();
        resolve();
      });
      child.once("error", (error) => {
        process.stdout.write(`[fn:${name}] failed to start deno: ${error.message}\n`);
        exitedEarly = true;
        resolve();
      });
    });
    const ready = (async () => {
      const deadline = Date.now() + bootTimeoutMs;
      while (Date.now() < deadline) {
        if (exitedEarly) throw new BootError(`function ${name} exited before listening`);
        if (await canConnect(port)) return;
        await new Promise((r) => setTimeout(r, 40));
      }
      child.kill("SIGKILL");
      throw new BootError(`function ${name} did not listen within ${bootTimeoutMs} ms`);
    })();
    const worker: Worker = { name, port, child, ready, exited, inFlight: 0, retired: false };
    void exited.then(() => {
      if (workers.get(name) === worker) workers.delete(name);
    });
    return worker;
  }

  async function workerFor(name: string, settings: ResolvedFunction): Promise<Worker> {
    const existing = workers.get(name);
    if (existing && existing.child.exitCode === null && !existing.retired) {
      // A child is registered as soon as it spawns; a request arriving during its boot waits for it.
      await existing.ready;
      return existing;
    }
    let pending = starting.get(name);
    if (!pending) {
      pending = (async () => {
        const worker = await startWorker(name, settings);
        workers.set(name, worker);
        try {
          await worker.ready;
        } catch (error) {
          if (workers.get(name) === worker) workers.delete(name);
          throw error;
        }
        return worker;
      })().finally(() => starting.delete(name));
      starting.set(name, pending);
    }
    return pending;
  }

  function stopChild(worker: Worker): Promise<void> {
    if (worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill("SIGTERM");
      const force = setTimeout(() => worker.child.kill("SIGKILL"), 2000);
      force.unref();
      void worker.exited.then(() => clearTimeout(force));
    }
    return worker.exited;
  }

  /** Stops taking new requests on this child; it exits once its in-flight requests finish. */
  function retire(worker: Worker): void {
    if (worker.retired) return;
    worker.retired = true;
    if (workers.get(worker.name) === worker) workers.delete(worker.name);
    retiring.add(worker);
    const finish = () => {
      retiring.delete(worker);
      void stopChild(worker);
    };
    if (worker.inFlight === 0) finish();
    else {
      const poll = setInterval(() => {
        if (worker.inFlight === 0) {
          clearInterval(poll);
          finish();
        }
      }, 50);
      setTimeout(() => {
        clearInterval(poll);
        finish();
      }, 10_000).unref();
    }
  }

  // Pick up code changes without restarting the stack: a change inside functions/<name>/ restarts that
  // function; anything else under the root (_shared/, deno.json, ...) may be imported by all of them.
  let pendingRestart: Set<string> | "all" | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  function scheduleRestart(target: string | "all"): void {
    if (target === "all" || pendingRestart === "all") pendingRestart = "all";
    else {
      const names: Set<string> = pendingRestart ?? new Set<string>();
      names.add(target);
      pendingRestart = names;
    }
    if (restartTimer) clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      const what = pendingRestart;
      pendingRestart = undefined;
      for (const worker of [...workers.values()]) {
        if (what === "all" || what?.has(worker.name)) {
          process.stdout.write(`[fn:${worker.name}] source changed; restarting\n`);
          retire(worker);
          options.onRetired?.(worker.name);
        }
      }
    }, RESTART_DEBOUNCE_MS);
  }
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(functionsRoot, { recursive: true }, (_event, filename) => {
      if (!filename) return scheduleRestart("all");
      const first = filename.toString().split(/[\\/]/)[0];
      if (first === filename.toString() || first.startsWith("_") || !FUNCTION_NAME.test(first)) scheduleRestart("all");
      else scheduleRestart(first);
    });
    watcher.on("error", (error) => console.error("[functions] watcher error:", error.message));
  } catch (error) {
    console.error(`[functions] cannot watch ${functionsRoot}: ${(error as Error).message}; code changes need a restart`);
  }

  return {
    workerFor,
    async close() {
      process.off("exit", killAllOnExit);
      watcher?.close();
      if (restartTimer) clearTimeout(restartTimer);
      await Promise.allSettled([...starting.values()]);
      const all = [...workers.values(), ...retiring];
      workers.clear();
      retiring.clear();
      await Promise.all(all.map((w) => stopChild(w)));
    },
  };
}
