// What PostgREST reads from pg_catalog into its schema cache: relations, columns, keys, foreign keys
// (views inherit their base tables'), functions, computed relationships, the API roles' settings and the
// in-database configuration (`ALTER ROLE authenticator SET pgrst.…`). schema-cache.ts holds and reloads it.
import type pg from "pg";
import { buildRelationships, type ComputedRelationship, type RelationshipsMap } from "./relationships.ts";

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

/** What config.toml's [api] table sets (the CLI passes it to PostgREST as PGRST_DB_SCHEMAS and friends). */
export interface ApiSettings {
  /** Exposed schemas; the first is the default. */
  schemas: string[];
  extraSearchPath: string[];
  /** db-max-rows: the most rows a read returns when it asks for no fewer. */
  maxRows: number | undefined;
}

/** PostgREST's in-database configuration, read from the authenticator role's `pgrst.*` settings. */
export interface InDatabaseConfig {
  /** db-aggregates-enabled (off by default, also on Supabase). */
  aggregatesEnabled: boolean;
  /** db-plan-enabled: the EXPLAIN media type (off by default, also on Supabase). */
  planEnabled: boolean;
}

export interface SchemaCacheData {
  api: ApiSettings;
  relations: Map<string, Relation>; // key schema.name
  relationships: RelationshipsMap;
  functions: Map<string, DbFunction[]>; // key schema.name
  roleSettings: Map<string, [string, string][]>;
  config: InDatabaseConfig;
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

// Functions of one argument that take a relation's row and return a relation's rows: PostgREST's computed
// relationships (to-one when they return one row: not SETOF, or ROWS 1).
const computedRelationshipsSql = `
select fn.nspname as fn_schema, p.proname as fn_name, tn.nspname as table_schema, t.relname as table_name,
  fn2.nspname as ftable_schema, ft.relname as ftable_name, (not p.proretset or p.prorows = 1) as to_one
from pg_proc p join pg_namespace fn on fn.oid = p.pronamespace
join pg_class t on t.reltype = p.proargtypes[0] join pg_namespace tn on tn.oid = t.relnamespace
join pg_class ft on ft.reltype = p.prorettype join pg_namespace fn2 on fn2.oid = ft.relnamespace
where p.pronargs = 1 and p.prokind = 'f' and t.relkind in ('r','v','m','f','p') and ft.relkind in ('r','v','m','f','p')
  and tn.nspname = any($1) and fn2.nspname = any($1)`;

const roleSettingsSql = `
select r.rolname as role, r.rolname = current_user as is_current, s.setconfig as settings
from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
where s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
order by s.setdatabase`;

export async function loadSchemaCache(db: pg.Pool | pg.Client, api: ApiSettings): Promise<SchemaCacheData> {
  const schemas = api.schemas;
  const [rels, fks, views, fns, computedRels, roles] = await Promise.all([
    db.query(relationsSql, [schemas]),
    db.query(foreignKeysSql, [schemas]),
    db.query(viewColumnsSql, [schemas]),
    db.query(functionsSql, [schemas]),
    db.query(computedRelationshipsSql, [schemas]),
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
  const config: InDatabaseConfig = { aggregatesEnabled: false, planEnabled: false };
  for (const r of roles.rows) {
    const list = roleSettings.get(r.role) ?? [];
    for (const s of (r.settings as string[]) ?? []) {
      const eq = s.indexOf("=");
      if (eq <= 0) continue;
      const [name, value] = [s.slice(0, eq), s.slice(eq + 1)];
      list.push([name, value]);
      if (r.is_current && name === "pgrst.db_aggregates_enabled") config.aggregatesEnabled = isTrue(value);
      if (r.is_current && name === "pgrst.db_plan_enabled") config.planEnabled = isTrue(value);
    }
    roleSettings.set(r.role, list);
  }
  const computed: ComputedRelationship[] = computedRels.rows.map((c) => ({
    fn: { schema: c.fn_schema, name: c.fn_name },
    table: { schema: c.table_schema, name: c.table_name },
    foreignTable: { schema: c.ftable_schema, name: c.ftable_name },
    toOne: c.to_one,
  }));
  const relationships = buildRelationships(relations, foreignKeys, computed, schemas);
  return { api, relations, relationships, functions, roleSettings, config };
}

function isTrue(value: string): boolean {
  return ["true", "on", "yes", "1"].includes(value.trim().toLowerCase());
}
