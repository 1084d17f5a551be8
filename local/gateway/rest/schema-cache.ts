// What PostgREST keeps in its schema cache, read from pg_catalog: relations, columns, keys, foreign keys,
// functions and per-role settings. Reloaded on NOTIFY pgrst; refreshed, at most once a second, when a lookup misses.
import pg from "pg";
import { ApiError } from "./errors.ts";

export interface Column {
  name: string;
  type: string;
  notNull: boolean;
  hasDefault: boolean;
  generated: boolean;
}

export interface Relation {
  schema: string;
  name: string;
  kind: string; // r, v, m, f, p
  columns: Column[];
  primaryKey: string[];
  /** Column sets that are unique (PK, unique constraints and non-partial unique indexes). */
  uniqueKeys: string[][];
}

export interface ForeignKey {
  name: string;
  schema: string;
  table: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
}

export interface FunctionArg {
  name: string;
  type: string;
  mode: "i" | "o" | "b" | "v" | "t";
  hasDefault: boolean;
}

export interface DbFunction {
  schema: string;
  name: string;
  args: FunctionArg[];
  returnType: string;
  returnsSet: boolean;
  /** 'c' composite, 'b' base, 'p' pseudo (void, record), 'd' domain, 'e' enum, 'r' range, 'm' multirange */
  returnTypeKind: string;
  returnsVoid: boolean;
  /** The table or view the function returns rows of, when its return type is a relation's row type. */
  returnRelation?: { schema: string; name: string };
  /** Names of output columns when the result is a composite or a TABLE(...)/OUT record. */
  outputColumns: string[];
  volatility: "i" | "s" | "v";
}

export interface SchemaCacheData {
  relations: Map<string, Relation>; // key schema.name
  foreignKeys: ForeignKey[];
  functions: Map<string, DbFunction[]>; // key schema.name
  roleSettings: Map<string, [string, string][]>;
}

const relationsSql = `
select n.nspname as schema, c.relname as name, c.relkind as kind,
  coalesce((select json_agg(json_build_object(
      'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'notNull', a.attnotnull,
      'hasDefault', a.atthasdef or a.attidentity <> '', 'generated', a.attgenerated <> '') order by a.attnum)
    from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]') as columns,
  coalesce((select json_agg(json_build_object('primary', i.indisprimary, 'columns',
      (select json_agg(a.attname order by k.ord) from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
         join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum)))
    from pg_index i where i.indrelid = c.oid and i.indisunique and i.indpred is null and i.indexprs is null), '[]') as keys
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1) and c.relkind in ('r','v','m','f','p')`;

const foreignKeysSql = `
select con.conname as name, n1.nspname as schema, c1.relname as table,
  (select json_agg(a.attname order by k.ord) from unnest(con.conkey) with ordinality k(attnum, ord)
     join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as columns,
  n2.nspname as ref_schema, c2.relname as ref_table,
  (select json_agg(a.attname order by k.ord) from unnest(con.confkey) with ordinality k(attnum, ord)
     join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as ref_columns
from pg_constraint con
join pg_class c1 on c1.oid = con.conrelid join pg_namespace n1 on n1.oid = c1.relnamespace
join pg_class c2 on c2.oid = con.confrelid join pg_namespace n2 on n2.oid = c2.relnamespace
where con.contype = 'f' and (n1.nspname = any($1) or n2.nspname = any($1))`;

// Views inherit the foreign keys of the base-table columns they expose unchanged (PostgREST's view FK detection,
// simplified to direct single-table views).
const viewColumnsSql = `
select distinct vn.nspname as view_schema, v.relname as view_name, tn.nspname as table_schema, t.relname as table_name,
  ta.attname as table_column, va.attname as view_column
from pg_class v join pg_namespace vn on vn.oid = v.relnamespace
join pg_depend d on d.refobjid <> v.oid and d.classid = 'pg_rewrite'::regclass
join pg_rewrite r on r.oid = d.objid and r.ev_class = v.oid
join pg_class t on t.oid = d.refobjid join pg_namespace tn on tn.oid = t.relnamespace
join pg_attribute ta on ta.attrelid = t.oid and ta.attnum = d.refobjsubid
join pg_attribute va on va.attrelid = v.oid and va.attname = ta.attname
where v.relkind in ('v','m') and vn.nspname = any($1) and t.relkind in ('r','p')`;

const functionsSql = `
select n.nspname as schema, p.proname as name, p.provolatile as volatility, p.proretset as returns_set,
  format_type(p.prorettype, null) as return_type, t.typtype as return_type_kind,
  rn.nspname as return_rel_schema, rc.relname as return_rel_name,
  coalesce((select json_agg(a.attname order by a.attnum) from pg_attribute a
     where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped), '[]') as composite_columns,
  coalesce((select json_agg(json_build_object(
       'name', coalesce(p.proargnames[k.ord], ''),
       'type', format_type(k.typ, null),
       'mode', coalesce(p.proargmodes[k.ord], 'i')) order by k.ord)
     from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality k(typ, ord)), '[]') as args,
  p.pronargs as nargs, p.pronargdefaults as ndefaults
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
join pg_type t on t.oid = p.prorettype
left join pg_class rc on rc.oid = t.typrelid and rc.relkind in ('r','v','m','f','p')
left join pg_namespace rn on rn.oid = rc.relnamespace
where n.nspname = any($1) and p.prokind = 'f'`;

const roleSettingsSql = `
select r.rolname as role, s.setconfig as settings
from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
where s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
order by s.setdatabase`;

export async function loadSchemaCache(db: pg.Pool | pg.Client, schemas: string[]): Promise<SchemaCacheData> {
  const [rels, fks, views, fns, roles] = await Promise.all([
    db.query(relationsSql, [schemas]),
    db.query(foreignKeysSql, [schemas]),
    db.query(viewColumnsSql, [schemas]),
    db.query(functionsSql, [schemas]),
    db.query(roleSettingsSql),
  ]);
  const relations = new Map<string, Relation>();
  for (const r of rels.rows) {
    const keys = (r.keys as { primary: boolean; columns: string[] }[]).filter((k) => k.columns);
    relations.set(`${r.schema}.${r.name}`, {
      schema: r.schema,
      name: r.name,
      kind: r.kind,
      columns: r.columns,
      primaryKey: keys.find((k) => k.primary)?.columns ?? [],
      uniqueKeys: keys.map((k) => k.columns),
    });
  }
  const foreignKeys: ForeignKey[] = fks.rows.map((f) => ({
    name: f.name,
    schema: f.schema,
    table: f.table,
    columns: f.columns,
    refSchema: f.ref_schema,
    refTable: f.ref_table,
    refColumns: f.ref_columns,
  }));
  // A view column that is a base-table column carries the FKs on it (both directions).
  const viewCols = new Map<string, { view: string; viewSchema: string; cols: Map<string, string> }>();
  for (const v of views.rows) {
    const key = `${v.view_schema}.${v.view_name}|${v.table_schema}.${v.table_name}`;
    let entry = viewCols.get(key);
    if (!entry) viewCols.set(key, (entry = { view: v.view_name, viewSchema: v.view_schema, cols: new Map() }));
    entry.cols.set(v.table_column, v.view_column);
  }
  const derived: ForeignKey[] = [];
  for (const [key, v] of viewCols) {
    const base = key.split("|")[1];
    for (const fk of foreignKeys) {
      if (`${fk.schema}.${fk.table}` === base && fk.columns.every((c) => v.cols.has(c))) {
        derived.push({ ...fk, schema: v.viewSchema, table: v.view, columns: fk.columns.map((c) => v.cols.get(c)!) });
      }
      if (`${fk.refSchema}.${fk.refTable}` === base && fk.refColumns.every((c) => v.cols.has(c))) {
        derived.push({ ...fk, refSchema: v.viewSchema, refTable: v.view, refColumns: fk.refColumns.map((c) => v.cols.get(c)!) });
      }
    }
  }
  foreignKeys.push(...derived);

  const functions = new Map<string, DbFunction[]>();
  for (const f of fns.rows) {
    const rawArgs = f.args as { name: string; type: string; mode: FunctionArg["mode"] }[];
    const inArgs = rawArgs.filter((a) => a.mode === "i" || a.mode === "b" || a.mode === "v");
    const firstDefault = inArgs.length - Number(f.ndefaults);
    let inIndex = 0;
    const args: FunctionArg[] = rawArgs.map((a) => {
      const isIn = a.mode === "i" || a.mode === "b" || a.mode === "v";
      const hasDefault = isIn && inIndex++ >= firstDefault;
      return { ...a, hasDefault };
    });
    const outArgs = rawArgs.filter((a) => a.mode === "o" || a.mode === "b" || a.mode === "t");
    const outputColumns =
      f.return_type_kind === "c" ? (f.composite_columns as string[]) : outArgs.length > 0 ? outArgs.map((a) => a.name) : [];
    const fn: DbFunction = {
      schema: f.schema,
      name: f.name,
      args,
      returnType: f.return_type,
      returnsSet: f.returns_set,
      returnTypeKind: outArgs.length > 0 && f.return_type_kind === "p" ? "c" : f.return_type_kind,
      returnsVoid: f.return_type === "void",
      returnRelation: f.return_rel_name ? { schema: f.return_rel_schema, name: f.return_rel_name } : undefined,
      outputColumns,
      volatility: f.volatility,
    };
    const key = `${f.schema}.${f.name}`;
    const list = functions.get(key) ?? [];
    list.push(fn);
    functions.set(key, list);
  }
  const roleSettings = new Map<string, [string, string][]>();
  for (const r of roles.rows) {
    const list = roleSettings.get(r.role) ?? [];
    for (const s of (r.settings as string[]) ?? []) {
      const eq = s.indexOf("=");
      if (eq > 0) list.push([s.slice(0, eq), s.slice(eq + 1)]);
    }
    roleSettings.set(r.role, list);
  }
  return { relations, foreignKeys, functions, roleSettings };
}

export const EXPOSED_SCHEMAS = ["public", "graphql_public"];

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
    const loading: Promise<SchemaCacheData> = loadSchemaCache(this.pool, EXPOSED_SCHEMAS)
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
 * LISTEN pgrst for 'reload schema' (PostgREST's NOTIFY contract); reconnects if the connection drops and
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
      if (msg.channel === "pgrst" && (msg.payload === "reload schema" || msg.payload === "" || msg.payload === undefined)) {
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
