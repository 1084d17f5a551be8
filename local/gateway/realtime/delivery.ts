// postgres_changes delivery (docs/supabase-standin-spec.md §3.5, §3.6): each captured change is matched to
// bindings by event and filter, checked against RLS as each subscriber's claims (visibility.ts: one
// round trip per chunk, however many subscribers), stripped of columns the role cannot select, and sent
// as one frame per channel.
import type pg from "pg";
import type { WalChange, WalColumn } from "./capture.ts";
import { relationKey, sendFrame, type Channel, type Connection } from "./connection.ts";
import { filterMatches } from "./filters.ts";
import { typedRows, type RowColumn, type TypedRow } from "./records.ts";
import type { VisibilityCheck, VisibilityChecker } from "./visibility.ts";

const META_TTL_MS = 30_000;

interface TableMeta {
  rls: boolean;
  /** Primary key column names, in key order. */
  pk: string[];
  columns: Array<{ name: string; type: string; sql: string; grantedTo: string[] }>;
}

function actionType(action: WalChange["action"]): "INSERT" | "UPDATE" | "DELETE" {
  return action === "I" ? "INSERT" : action === "U" ? "UPDATE" : "DELETE";
}

interface Candidate {
  conn: Connection;
  channel: Channel;
  ids: number[];
  /** The claims the row's visibility was checked with: a token pushed during the check must not drop the row. */
  checkedClaimsJson?: string;
}

interface PreparedChange {
  change: WalChange;
  meta: TableMeta;
  record: TypedRow | null;
  oldRecord: TypedRow | null;
  candidates: Candidate[];
  /** claimsJson -> visible; filled for INSERT/UPDATE on RLS tables. */
  visibility: Map<string, boolean>;
  /** The frame's data, encoded once per role. */
  dataByRole: Map<string, string>;
}

/** Some of a change's candidates: the part of a delivery that one group of sockets gets. */
interface Unit {
  item: PreparedChange;
  candidates: Candidate[];
}

/** From this many candidate channels on, RLS checks are split over the checker's sessions. */
const PARALLEL_CHECKS_FROM = 32;

export interface DeliveryContext {
  pool: pg.Pool;
  connections: Set<Connection>;
  checker: VisibilityChecker & { readonly connections: number };
}

/** Delivers committed changes to the channels of `connections`; `wantsTable` tells the capture what to turn into rows. */
export function createDelivery({ pool, connections, checker }: DeliveryContext) {
  function wantsTable(schema: string, table: string): boolean {
    const key = relationKey(schema, table);
    for (const conn of connections) {
      for (const channel of conn.channels.values()) {
        for (const binding of channel.bindings) if (binding.tables.has(key)) return true;
      }
    }
    return false;
  }

  /**
   * Table metadata (RLS on, primary key, columns with the roles that may select each) is cached: reading it
   * costs more than the rest of a delivery. The cache is dropped on any DDL, GRANT or REVOKE (the `pgrst`
   * schema-reload notifications, see invalidateMeta), when the stream announces a table's new shape, and
   * after META_TTL_MS at the latest; a role not seen yet reads the table again.
   */
  const metaCache = new Map<string, { meta: TableMeta; roles: Set<string>; at: number }>();

  function invalidateMeta(key?: string): void {
    if (key === undefined) metaCache.clear();
    else metaCache.delete(key);
  }

  async function loadMeta(keys: string[], roles: string[]): Promise<Map<string, TableMeta>> {
    const now = Date.now();
    const result = new Map<string, TableMeta>();
    const missing = keys.filter((key) => {
      const cached = metaCache.get(key);
      if (!cached || now - cached.at > META_TTL_MS || !roles.every((r) => cached.roles.has(r))) return true;
      result.set(key, cached.meta);
      return false;
    });
    if (missing.length === 0) return result;
    const allRoles = new Set(roles);
    for (const key of missing) for (const role of metaCache.get(key)?.roles ?? []) allRoles.add(role);
    const schemas: string[] = [];
    const tables: string[] = [];
    for (const key of missing) {
      const [schema, table] = JSON.parse(key) as [string, string];
      schemas.push(schema);
      tables.push(table);
    }
    const { rows } = await pool.query<{ schema: string; table: string; rls: boolean; pk: string[] | null; columns: TableMeta["columns"] }>(
      `select n.nspname as schema, c.relname as table, c.relrowsecurity as rls,
              (select array_agg(a2.attname::text order by k.ord)
                 from pg_index i cross join unnest(i.indkey) with ordinality as k(attnum, ord)
                 join pg_attribute a2 on a2.attrelid = c.oid and a2.attnum = k.attnum
                where i.indrelid = c.oid and i.indisprimary) as pk,
              jsonb_agg(jsonb_build_object(
                'name', a.attname, 'type', ty.typname, 'sql', format_type(a.atttypid, a.atttypmod),
                'grantedTo', (select coalesce(jsonb_agg(r.rolname), '[]'::jsonb) from pg_roles r
                               where r.rolname = any($3::text[]) and has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT')))
                order by a.attnum) as columns
         from unnest($1::text[], $2::text[]) as wanted(schema_name, table_name)
         join pg_namespace n on n.nspname = wanted.schema_name
         join pg_class c on c.relnamespace = n.oid and c.relname = wanted.table_name
         join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
         join pg_type ty on ty.oid = a.atttypid
        group by n.nspname, c.relname, c.relrowsecurity, c.oid`,
      [schemas, tables, [...allRoles]],
    );
    for (const r of rows) {
      const key = relationKey(r.schema, r.table);
      const meta = { rls: r.rls, pk: r.pk ?? [], columns: r.columns };
      metaCache.set(key, { meta, roles: allRoles, at: now });
      result.set(key, meta);
    }
    return result;
  }

  function matchCandidates(change: WalChange, key: string): Candidate[] {
    const type = actionType(change.action);
    // DELETE filters see the old (replica identity) columns; the others the new row.
    const source = change.action === "D" ? change.identity : change.columns;
    const texts = new Map<string, string | null>();
    for (const column of source) if (column.value !== undefined) texts.set(column.name, column.value);
    const candidates: Candidate[] = [];
    for (const conn of connections) {
      for (const channel of conn.channels.values()) {
        let ids: number[] | undefined;
        for (const binding of channel.bindings) {
          const sub = binding.tables.get(key);
          if (!sub) continue;
          if (binding.event !== "*" && binding.event !== type) continue;
          const passes = binding.filters.every((f) =>
            filterMatches(f, texts.has(f.column) ? texts.get(f.column) : undefined, sub.filterTypes.get(f.column) ?? "text"),
          );
          if (!passes) continue;
          ids ??= [];
          if (!ids.includes(binding.id)) ids.push(binding.id);
        }
        if (ids) candidates.push({ conn, channel, ids });
      }
    }
    return candidates;
  }

  /** Realtime's per-role error payloads for INSERT/UPDATE: no primary key, or no SELECT on all of it. */
  function changeError(item: PreparedChange, role: string): string | undefined {
    if (item.change.action === "D") return undefined;
    if (item.meta.pk.length === 0) return "Error 400: Bad Request, no primary key";
    const granted = new Set(item.meta.columns.filter((c) => c.grantedTo.includes(role)).map((c) => c.name));
    if (!item.meta.pk.every((name) => granted.has(name))) return "Error 401: Unauthorized";
    return undefined;
  }

  async function checkVisibility(units: Unit[]): Promise<void> {
    const checks: VisibilityCheck[] = [];
    const targets: Array<{ item: PreparedChange; claimsJson: string }> = [];
    for (const { item, candidates } of units) {
      if (!item.meta.rls || item.change.action === "D") continue;
      const sqlTypes = new Map(item.meta.columns.map((c) => [c.name, c.sql]));
      const values = new Map(item.change.columns.map((c) => [c.name, c.value]));
      const seen = new Set<string>();
      for (const candidate of candidates) {
        const { claimsJson, claims } = candidate.channel;
        candidate.checkedClaimsJson = claimsJson;
        if (seen.has(claimsJson)) continue;
        seen.add(claimsJson);
        if (changeError(item, claims.role)) continue; // gets an error frame, no row
        checks.push({
          xid: item.change.xid,
          schema: item.change.schema,
          table: item.change.table,
          key: item.meta.pk.map((name) => ({ name, sqlType: sqlTypes.get(name) ?? "text", value: values.get(name) ?? "" })),
          role: claims.role,
          claimsJson,
        });
        targets.push({ item, claimsJson });
      }
    }
    if (checks.length === 0) return;
    const results = await checker.check(checks);
    targets.forEach((target, i) => target.item.visibility.set(target.claimsJson, results[i] === true));
  }

  /** The frame's `data`, JSON-encoded once per role (every channel of that role gets the same bytes). */
  function dataJson(item: PreparedChange, role: string): string {
    const type = actionType(item.change.action);
    const base: Record<string, unknown> = { schema: item.change.schema, table: item.change.table, type };
    const error = changeError(item, role);
    if (error) return JSON.stringify({ ...base, errors: [error] });
    const visibleColumns = item.meta.columns.filter((c) => c.grantedTo.includes(role));
    const visibleNames = new Set(visibleColumns.map((c) => c.name));
    const pick = (row: TypedRow | null, names: Set<string>): TypedRow => {
      const out: TypedRow = {};
      if (!row) return out;
      for (const column of visibleColumns) if (names.has(column.name) && column.name in row) out[column.name] = row[column.name];
      return out;
    };
    const data: Record<string, unknown> = {
      ...base,
      commit_timestamp: item.change.commitTimestamp,
      columns: visibleColumns.map((c) => ({ name: c.name, type: c.type })),
      errors: null,
    };
    if (type !== "DELETE") {
      const record = pick(item.record, visibleNames);
      // Unchanged TOASTed values are not in the stream; like Realtime, take them from the old row.
      if (type === "UPDATE" && item.oldRecord) {
        for (const name of visibleNames) if (!(name in record) && name in item.oldRecord) record[name] = item.oldRecord[name];
      }
      data.record = record;
    }
    if (type !== "INSERT") {
      const oldNames = type === "DELETE" && item.meta.rls ? new Set(item.meta.pk) : visibleNames;
      data.old_record = pick(item.oldRecord, oldNames);
    }
    return JSON.stringify(data);
  }

  /** A frame in the socket's serializer with the data already encoded (spec §3.5: fastlane, both refs null). */
  function changeFrame(conn: Connection, topic: string, ids: number[], data: string): string {
    const payload = `{"ids":${JSON.stringify(ids)},"data":${data}}`;
    return conn.vsn === "2.0.0"
      ? `[null,null,${JSON.stringify(topic)},"postgres_changes",${payload}]`
      : `{"topic":${JSON.stringify(topic)},"event":"postgres_changes","payload":${payload},"ref":null}`;
  }

  function rowColumns(columns: WalColumn[], meta: TableMeta): RowColumn[] {
    const sqlTypes = new Map(meta.columns.map((c) => [c.name, c.sql]));
    return columns.map((c) => ({ ...c, sqlType: sqlTypes.get(c.name) ?? "text" }));
  }

  async function deliver(changes: WalChange[]): Promise<void> {
    if (connections.size === 0) return;
    const matched: Array<{ change: WalChange; key: string; candidates: Candidate[] }> = [];
    for (const change of changes) {
      const key = relationKey(change.schema, change.table);
      const candidates = matchCandidates(change, key);
      if (candidates.length > 0) matched.push({ change, key, candidates });
    }
    if (matched.length === 0) return;
    const roles = new Set<string>();
    for (const m of matched) for (const c of m.candidates) roles.add(c.channel.claims.role);
    const metas = await loadMeta([...new Set(matched.map((m) => m.key))], [...roles]);
    const prepared: PreparedChange[] = [];
    const rowsToType: RowColumn[][] = [];
    for (const m of matched) {
      const meta = metas.get(m.key);
      if (!meta) continue;
      // Without an old row in the stream (an UPDATE that kept its key), the key comes from the new row.
      const identity = m.change.identity.length > 0 ? m.change.identity : m.change.columns.filter((c) => meta.pk.includes(c.name));
      rowsToType.push(rowColumns(m.change.columns, meta), rowColumns(identity, meta));
      prepared.push({ change: m.change, meta, record: null, oldRecord: null, candidates: m.candidates, visibility: new Map(), dataByRole: new Map() });
    }
    // Values of uncommon types are cast by Postgres; that runs alongside the RLS checks.
    const typing = typedRows(pool, rowsToType).then((typed) =>
      prepared.forEach((item, i) => {
        item.record = item.change.action === "D" ? null : typed[2 * i];
        item.oldRecord = item.change.action === "I" ? null : typed[2 * i + 1];
      }),
    );
    // Many subscribers: the sockets are split into groups (stably, so each channel keeps its order), each
    // group's RLS checks run on their own session, and a group's frames go out as soon as its checks are
    // done, while the next group is still being checked.
    const total = prepared.reduce((n, item) => n + item.candidates.length, 0);
    const groupCount = total >= PARALLEL_CHECKS_FROM ? checker.connections : 1;
    const groups: Unit[][] = Array.from({ length: groupCount }, () => []);
    for (const item of prepared) {
      const split: Candidate[][] = Array.from({ length: groupCount }, () => []);
      for (const candidate of item.candidates) split[candidate.conn.id % groupCount].push(candidate);
      split.forEach((candidates, g) => {
        if (candidates.length > 0) groups[g].push({ item, candidates });
      });
    }
    await Promise.all(
      groups.map(async (units) => {
        await Promise.all([checkVisibility(units), typing]);
        sendFrames(units);
      }),
    );
  }

  function sendFrames(units: Unit[]): void {
    for (const { item, candidates } of units) {
      const needsRls = item.meta.rls && item.change.action !== "D";
      for (const candidate of candidates) {
        const { conn, channel } = candidate;
        if (conn.channels.get(channel.topic) !== channel) continue;
        const role = channel.claims.role;
        if (needsRls && !changeError(item, role) && item.visibility.get(candidate.checkedClaimsJson ?? channel.claimsJson) !== true) continue;
        let data = item.dataByRole.get(role);
        if (data === undefined) {
          data = dataJson(item, role);
          item.dataByRole.set(role, data);
        }
        sendFrame(conn, changeFrame(conn, channel.topic, candidate.ids, data));
      }
    }
  }

  return { deliver, wantsTable, invalidateMeta };
}
