// PostgREST's schema cache (catalog.ts reads it): reloaded on NOTIFY pgrst ('reload schema' and 'reload
// config'), refreshed, at most once a second, when a lookup misses. The API settings come from config.toml.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { parse } from "smol-toml";
import { projectRoot } from "../../config.ts";
import { loadSchemaCache, type ApiSettings, type Relation, type SchemaCacheData } from "./catalog.ts";
import { ApiError } from "./errors.ts";

/** Supabase's defaults for what config.toml's [api] table leaves out. */
const API_DEFAULTS: ApiSettings = { schemas: ["public", "graphql_public"], extraSearchPath: ["public", "extensions"], maxRows: 1000 };

/** config.toml's [api] table: schemas, extra_search_path and max_rows, as the CLI hands them to PostgREST. */
export function readApiSettings(configPath = join(projectRoot, "supabase", "config.toml")): ApiSettings {
  let api: Record<string, unknown> = {};
  try {
    api = (parse(readFileSync(configPath, "utf8")).api ?? {}) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const list = (v: unknown, fallback: string[]) => (Array.isArray(v) && v.length > 0 ? v.map(String) : fallback);
  const maxRows = Number(api.max_rows);
  return {
    schemas: list(api.schemas, API_DEFAULTS.schemas),
    extraSearchPath: list(api.extra_search_path, API_DEFAULTS.extraSearchPath),
    maxRows: Number.isInteger(maxRows) && maxRows > 0 ? maxRows : API_DEFAULTS.maxRows,
  };
}

/**
 * Holds the schema cache. A schema change announced by NOTIFY reloads it (coalesced, and connections
 * prepared before it are recycled, as PostgREST flushes its pool). A lookup that misses may be asking for
 * something newer than the cache, or for something that does not exist at all: it reads the catalog again
 * at most once per `refreshIntervalMs` and otherwise answers from the cache as it is, so a flood of
 * requests for missing tables or functions costs at most one catalog read a second and never the pool.
 */
export class SchemaCache {
  data: SchemaCacheData | undefined;
  /** Bumped by reload(); connections from an older generation are recycled (their prepared plans may be stale). */
  generation = 0;
  /** Catalog reads so far (diagnostics and tests). */
  loads = 0;
  private loading: Promise<SchemaCacheData> | undefined;
  private queued: Promise<SchemaCacheData> | undefined;
  private lastLoadStarted = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly pool: pg.Pool,
    readonly api: ApiSettings = readApiSettings(),
    private readonly refreshIntervalMs = 1000,
  ) {}

  /** The cache, read on first use. */
  get(): Promise<SchemaCacheData> {
    if (this.data) return Promise.resolve(this.data);
    return this.loading ?? this.load();
  }

  /**
   * The schema changed: read the catalog again. A reload asked for while a read runs gets a fresh one queued
   * after it (the running one may have started before the change); waiters share it.
   */
  reload(): Promise<SchemaCacheData> {
    const fresh = () =>
      this.load().then((data) => {
        this.generation++;
        return data;
      });
    if (!this.loading) return fresh();
    if (!this.queued) {
      this.queued = this.loading
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          return fresh();
        });
    }
    return this.queued;
  }

  /** A lookup missed: read the catalog again unless that happened less than refreshIntervalMs ago. */
  async refresh(): Promise<SchemaCacheData> {
    if (this.loading) return this.loading.catch(() => this.stale());
    if (this.data && Date.now() - this.lastLoadStarted < this.refreshIntervalMs) return this.data;
    return this.load().catch(() => this.stale());
  }

  /** After a failed read: the last good cache, else PostgREST's 503 PGRST002. */
  private stale(): SchemaCacheData {
    if (this.data) return this.data;
    throw new ApiError(503, "PGRST002", "Could not query the database for the schema cache. Retrying.");
  }

  private load(): Promise<SchemaCacheData> {
    this.lastLoadStarted = Date.now();
    this.loads++;
    const loading: Promise<SchemaCacheData> = loadSchemaCache(this.pool, this.api)
      .then((d) => (this.data = d))
      .catch((error: Error) => {
        console.error("[gateway] schema cache read failed:", error.message);
        return this.stale();
      })
      .finally(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    this.loading = loading;
    return loading;
  }
}

export async function findRelation(cache: SchemaCache, schema: string, name: string): Promise<Relation> {
  let data = await cache.get();
  let rel = data.relations.get(`${schema}.${name}`);
  if (!rel) {
    data = await cache.refresh();
    rel = data.relations.get(`${schema}.${name}`);
  }
  if (!rel) {
    const similar = [...data.relations.values()].find(
      (r) => r.schema === schema && (r.name.includes(name) || name.includes(r.name)),
    );
    throw new ApiError(
      404,
      "PGRST205",
      `Could not find the table '${schema}.${name}' in the schema cache`,
      null,
      similar ? `Perhaps you meant the table '${schema}.${similar.name}'` : null,
    );
  }
  return rel;
}

/**
 * LISTEN pgrst for 'reload schema' and 'reload config' (PostgREST's NOTIFY contract); reconnects if the connection drops and
 * then reloads, since a change may have been announced while nobody listened.
 */
export async function startSchemaListener(dbUrl: string, cache: SchemaCache): Promise<{ stop(): Promise<void> }> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    const c = new pg.Client({ connectionString: dbUrl, application_name: "leadloop-gateway-schema-listener" });
    c.on("error", () => {});
    c.on("end", () => {
      if (!stopped) retry = setTimeout(() => void connect().catch(() => {}), 1000);
    });
    c.on("notification", (msg) => {
      // The in-database configuration (pgrst.* role settings) is read with the schema, so both reload it.
      const payload = msg.payload ?? "";
      if (msg.channel === "pgrst" && (payload === "reload schema" || payload === "reload config" || payload === "")) {
        cache.reload().catch((err) => console.error("[gateway] schema reload failed:", err.message));
      }
    });
    try {
      await c.connect();
      await c.query("LISTEN pgrst");
      if (client) cache.reload().catch(() => {});
      client = c;
    } catch (err) {
      await c.end().catch(() => {});
      if (!stopped) retry = setTimeout(() => void connect().catch(() => {}), 1000);
    }
  };
  await connect();
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}
