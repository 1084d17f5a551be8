// A dedicated Postgres 15 cluster per instance, configured the way Supabase's database is
// (pg_cron preloaded, logical WAL for realtime). Never touches the machine's default cluster.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, chownSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { type InstanceConfig, projectRoot } from "../config.ts";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const PG_LIB = "/usr/lib/postgresql/15/lib";
const PG_SHARE = "/usr/share/postgresql/15/extension";

/** What each system package provides, so a missing one is named precisely. */
const requiredPackages: Array<{ pkg: string; path: string }> = [
  { pkg: "postgresql-15", path: `${PG_BIN}/postgres` },
  { pkg: "postgresql-15-cron", path: `${PG_LIB}/pg_cron.so` },
  { pkg: "postgresql-15-wal2json", path: `${PG_LIB}/wal2json.so` },
  { pkg: "postgresql-15-pgtap", path: `${PG_SHARE}/pgtap.control` },
  { pkg: "postgresql-15-plpgsql-check", path: `${PG_LIB}/plpgsql_check.so` },
  { pkg: "libtap-parser-sourcehandler-pgtap-perl", path: "/usr/bin/pg_prove" },
];

const isRoot = process.getuid?.() === 0;

export function log(message: string): void {
  process.stderr.write(`[db] ${message}\n`);
}

export function ensureSystemPackages(extra: Array<{ pkg: string; path: string }> = []): void {
  const missing = [...requiredPackages, ...extra].filter((p) => !existsSync(p.path)).map((p) => p.pkg);
  if (missing.length === 0) return;
  const command = `apt-get install -y ${missing.join(" ")}`;
  if (!isRoot) {
    throw new Error(`missing system packages: ${missing.join(", ")}. Install them with: sudo apt-get update && sudo ${command}`);
  }
  log(`installing ${missing.join(", ")} ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", ...missing], { stdio: "inherit", env });
}

/**
 * Postgres will not run as root, and the postgres OS user cannot enter a clone under /root.
 * The data directory is therefore .local/<instance>/db/pgdata when that user can reach it, and a
 * stable per-checkout folder under /var/tmp otherwise.
 */
export function dataDirectory(config: InstanceConfig): string {
  const preferred = join(config.stateDir, "db", "pgdata");
  if (!isRoot || postgresUserCanReach(config.stateDir)) return preferred;
  const checkout = createHash("sha256").update(projectRoot).digest("hex").slice(0, 12);
  return join("/var/tmp/leadloop", `${checkout}-${config.name}`, "db", "pgdata");
}

function postgresUserCanReach(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync("runuser", ["-u", "postgres", "--", "test", "-x", dir], { stdio: "ignore" }).status === 0;
}

function runAsClusterOwner(command: string, args: string[], options: { allowFailure?: boolean } = {}): { status: number; output: string } {
  const [file, argv] = isRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
  const result = spawnSync(file, argv, { encoding: "utf8" });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${output}`);
  }
  return { status: result.status ?? 1, output };
}

function clusterSettings(config: InstanceConfig, socketDir: string): string {
  return `# Written by local/db/cluster.ts for instance "${config.name}".
listen_addresses = '127.0.0.1'
port = ${config.ports.db}
unix_socket_directories = '${socketDir}'
max_connections = 200
shared_preload_libraries = 'pg_cron,pg_stat_statements'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 32
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
timezone = 'UTC'
log_timezone = 'UTC'
# A disposable local database: durability is traded for speed.
fsync = off
# On, as on Supabase: a commit flushes its WAL at once, which wakes realtime's replication stream at once
# (logical decoding only reads flushed WAL); with fsync off that flush costs a write(), not a disk sync.
synchronous_commit = on
wal_writer_delay = '10ms'
full_page_writes = off
`;
}

function initCluster(config: InstanceConfig, dataDir: string): void {
  log(`initialising cluster in ${dataDir}`);
  const parent = join(dataDir, "..");
  mkdirSync(dataDir, { recursive: true });
  const passwordFile = join(parent, "pwfile");
  writeFileSync(passwordFile, "postgres\n", { mode: 0o600 });
  if (isRoot) {
    execFileSync("chown", ["-R", "postgres:postgres", parent]);
  }
  runAsClusterOwner(`${PG_BIN}/initdb`, [
    "-D", dataDir, "-U", "postgres", "--pwfile", passwordFile, "-E", "UTF8", "--locale=C.UTF-8",
    "--auth-local=trust", "--auth-host=scram-sha-256",
  ]);
  rmSync(passwordFile, { force: true });
  const socketDir = join(parent, "run");
  mkdirSync(socketDir, { recursive: true });
  if (isRoot) chownSync(socketDir, uidOf("postgres"), gidOf("postgres"));
  const settingsFile = join(dataDir, "leadloop.conf");
  writeFileSync(settingsFile, clusterSettings(config, socketDir));
  const mainConf = join(dataDir, "postgresql.conf");
  writeFileSync(mainConf, `${readFileSync(mainConf, "utf8")}\ninclude 'leadloop.conf'\n`);
  if (isRoot) execFileSync("chown", ["postgres:postgres", settingsFile, mainConf]);
}

function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}
function gidOf(user: string): number {
  return Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
}

export async function isHealthy(config: InstanceConfig): Promise<boolean> {
  const client = new pg.Client({ connectionString: config.dbUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Starts the instance's cluster, creating it on first use. A healthy running cluster is reused. */
export async function startCluster(config: InstanceConfig): Promise<void> {
  ensureSystemPackages();
  const dataDir = dataDirectory(config);
  if (await isHealthy(config)) {
    log(`cluster already running on port ${config.ports.db}`);
    return;
  }
  if (!existsSync(join(dataDir, "PG_VERSION"))) initCluster(config, dataDir);
  const logFile = join(dataDir, "..", "postgres.log");
  log(`starting postgres on port ${config.ports.db}`);
  const started = runAsClusterOwner(`${PG_BIN}/pg_ctl`, ["-D", dataDir, "-l", logFile, "-w", "-t", "60", "start"], { allowFailure: true });
  if (started.status !== 0) {
    const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n") : "";
    throw new Error(`postgres did not start (is port ${config.ports.db} taken?):\n${started.output}\n${tail}`);
  }
  for (let attempt = 0; attempt < 50 && !(await isHealthy(config)); attempt++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!(await isHealthy(config))) throw new Error(`postgres started but does not accept connections on ${config.dbUrl}`);
}

export function stopCluster(config: InstanceConfig): void {
  const dataDir = dataDirectory(config);
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    log("no cluster to stop");
    return;
  }
  const status = runAsClusterOwner(`${PG_BIN}/pg_ctl`, ["-D", dataDir, "status"], { allowFailure: true });
  if (status.status !== 0) {
    log("cluster is not running");
    return;
  }
  runAsClusterOwner(`${PG_BIN}/pg_ctl`, ["-D", dataDir, "-m", "fast", "-w", "stop"]);
  log("cluster stopped");
}

export function wipeCluster(config: InstanceConfig): void {
  stopCluster(config);
  const dataDir = dataDirectory(config);
  // The parent holds the cluster's socket and log too; nothing else of the instance lives there.
  rmSync(join(dataDir, ".."), { recursive: true, force: true });
  log(`wiped ${dataDir}`);
}

/** Applies local/db/platform/*.sql in name order: the objects Supabase provides before any migration. */
export async function applyPlatform(config: InstanceConfig): Promise<void> {
  const dir = join(projectRoot, "local", "db", "platform");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
  const client = new pg.Client({ connectionString: config.dbUrl });
  await client.connect();
  try {
    for (const file of files) {
      try {
        await client.query(readFileSync(join(dir, file), "utf8"));
      } catch (error) {
        throw new Error(`platform bootstrap ${file} failed: ${(error as Error).message}`);
      }
    }
    // Per-instance settings that cron jobs and triggers read, like the hosted project's vault.
    await setVaultSecret(client, "project_url", config.supabaseUrl, "Base URL of the project's API gateway");
    await setVaultSecret(client, "service_role_key", config.keys.serviceRoleKey, "Key the database uses to call edge functions");
    // A developer's machine: webhook endpoints may be plain http on loopback (private.platform_is_local).
    await setVaultSecret(client, "platform_mode", "local", "local or production (the default when unset)");
    // Links in emails (private.dashboard_url): the dashboard the stack serves, as the functions' DASHBOARD_URL.
    await setVaultSecret(client, "dashboard_url", `http://127.0.0.1:${config.ports.dashboard}`, "The dashboard's public URL, for links in emails");
    // Read by supabase/seed.sql: how many demo leads this instance gets.
    await client.query(`alter database postgres set leadloop.demo_leads = '${Math.max(0, Math.trunc(config.demoLeads))}'`);
  } finally {
    await client.end();
  }
  log(`platform bootstrap applied (${files.length} files)`);
}

async function setVaultSecret(client: pg.Client, name: string, value: string, description: string): Promise<void> {
  const { rows } = await client.query("select id from vault.secrets where name = $1", [name]);
  if (rows.length) await client.query("select vault.update_secret($1, $2)", [rows[0].id, value]);
  else await client.query("select vault.create_secret($1, $2, $3)", [value, name, description]);
}

/** Applies supabase/migrations (and seed.sql) with the real Supabase CLI, so its migration history is Supabase's own. */
export function applyMigrations(config: InstanceConfig, options: { seed: boolean }): void {
  const args = ["db", "push", "--db-url", `${config.dbUrl}?sslmode=disable`, "--yes", "--include-all"];
  if (options.seed) args.push("--include-seed");
  const supabaseBin = join(projectRoot, "node_modules", ".bin", "supabase");
  const result = spawnSync(supabaseBin, args, {
    cwd: projectRoot,
    encoding: "utf8",
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", NO_COLOR: "1" },
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
  if (result.status !== 0) throw new Error(`supabase db push failed:\n${output}`);
  log(output.split("\n").filter((l) => l.trim()).slice(-3).join(" | ") || "migrations up to date");
}

/** Everything a fresh or running instance needs before the app can use it. */
export async function prepareDatabase(config: InstanceConfig, options: { reset?: boolean; seed?: boolean } = {}): Promise<void> {
  if (options.reset) wipeCluster(config);
  await startCluster(config);
  await applyPlatform(config);
  applyMigrations(config, { seed: options.seed ?? true });
}
