// postgres_changes delivery (docs/supabase-standin-spec.md §3.5, §3.6): each captured change is matched to
// bindings by event and filter, checked against RLS as each subscriber's claims in one round trip per chunk,
// stripped of columns the role cannot select, and sent as one frame per channel.
import type pg from "pg";
import type { CapturedTable, WalChange } from "./capture.ts";
import { filterMatches } from "./filters.ts";
import { DEBUG, PUBLICATION, relationKey, send, type Channel, type Connection } from "./channels.ts";
import { textForm, typedRows, type TypedRow } from "./records.ts";

const CHECKS_PER_ROUND_TRIP = 100;

interface TableMeta {
  rls: boolean;
  columns: Array<{ name: string; type: string; sql: string; grantedTo: string[] }>;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function actionType(action: WalChange["action"]): "INSERT" | "UPDATE" | "DELETE" {
  return action === "I" ? "INSERT" : action === "U" ? "UPDATE" : "DELETE";
}

/** Delivers committed changes to the channels of `connections`; `subscribedTables` tells the poller what to decode. */
export function createDelivery({ pool, connections }: { pool: pg.Pool; connections: Set<Connection> }) {
  /** Every table some binding of an open channel is subscribed to: the only ones the poller decodes. */
  function subscribedTables(): CapturedTable[] {
    const tables = new Map<string, CapturedTable>();
    for (const conn of connections) {
      for (const channel of conn.channels.values()) {
        for (const binding of channel.bindings) {
          for (const [key, sub] of binding.tables) tables.set(key, { schema: sub.schema, table: sub.table });
        }
      }
    }
    return [...tables.values()];
  }

  function tableWanted(key: string): boolean {
    for (const conn of connections) {
      for (const channel of conn.channels.values()) {
        for (const binding of channel.bindings) if (binding.tables.has(key)) return true;
      }
    }
    return false;
  }

  async function loadMeta(keys: string[], roles: string[]): Promise<Map<string, TableMeta>> {
    const schemas: string[] = [];
    const tables: string[] = [];
    for (const key of keys) {
      const [schema, table] = JSON.parse(key) as [string, string];
      schemas.push(schema);
      tables.push(table);
    }
    const { rows } = await pool.query<{ schema: string; table: string; rls: boolean; columns: TableMeta["columns"] }>(
      `select n.nspname as schema, c.relname as table, c.relrowsecurity as rls,
              jsonb_agg(jsonb_build_object(
                'name', a.attname, 'type', ty.typname, 'sql', format_type(a.atttypid, a.atttypmod),
                'grantedTo', (select coalesce(jsonb_agg(r.rolname), '[]'::jsonb) from pg_roles r
                               where r.rolname = any($3::text[]) and has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT')))
                order by a.attnum) as columns
         from unnest($1::text[], $2::text[]) as wanted(schema_name, table_name)
         join pg_namespace n on n.nspname = wanted.schema_name
         join pg_class c on c.relnamespace = n.oid and c.relname = wanted.table_name
         join pg_publication_tables pt on pt.pubname = $4 and pt.schemaname = n.nspname and pt.tablename = c.relname
         join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
         join pg_type ty on ty.oid = a.atttypid
        group by n.nspname, c.relname, c.relrowsecurity`,
      [schemas, tables, roles, PUBLICATION],
    );
    // A table dropped from the publication after a join stops producing events, as with Realtime.
    return new Map(rows.map((r) => [relationKey(r.schema, r.table), { rls: r.rls, columns: r.columns }]));
  }

  interface Candidate {
    conn: Connection;
    channel: Channel;
    ids: number[];
  }

  interface PreparedChange {
    change: WalChange;
    key: string;
    meta: TableMeta;
    record: TypedRow | null;
    oldRecord: TypedRow | null;
    candidates: Candidate[];
    /** claimsJson -> visible; filled for INSERT/UPDATE on RLS tables. */
    visibility: Map<string, boolean>;
  }

  function matchCandidates(change: WalChange, key: string): Candidate[] {
    const type = actionType(change.action);
    const source = change.action === "D" ? change.identity : change.columns;
    const texts = new Map<string, string | null>();
    for (const column of source) texts.set(column.name, textForm(column.value));
    const candidates: Candidate[] = [];
    for (const conn of connections) {
      for (const channel of conn.channels.values()) {
        const ids: number[] = [];
        for (const binding of channel.bindings) {
          const sub = binding.tables.get(key);
          if (!sub) continue;
          if (binding.event !== "*" && binding.event !== type) continue;
          const passes = binding.filters.every((f) =>
            filterMatches(f, texts.has(f.column) ? texts.get(f.column) : undefined, sub.filterTypes.get(f.column) ?? "text"),
          );
          if (passes && !ids.includes(binding.id)) ids.push(binding.id);
        }
        if (ids.length > 0) candidates.push({ conn, channel, ids });
      }
    }
    return candidates;
  }

  async function checkVisibility(prepared: PreparedChange[]): Promise<void> {
    type Check = VisibilityCheck;
    const checks: Check[] = [];
    for (const item of prepared) {
      if (!item.meta.rls || item.change.action === "D") continue;
      const seen = new Set<string>();
      for (const candidate of item.candidates) {
        if (seen.has(candidate.channel.claimsJson)) continue;
        if (changeError(item, candidate.channel.claims.role)) continue; // gets an error frame, no row
        seen.add(candidate.channel.claimsJson);
        checks.push({ item, claimsJson: candidate.channel.claimsJson, role: candidate.channel.claims.role });
      }
    }
    if (checks.length === 0) return;
    const chunks: Check[][] = [];
    for (let i = 0; i < checks.length; i += CHECKS_PER_ROUND_TRIP) chunks.push(checks.slice(i, i + CHECKS_PER_ROUND_TRIP));
    await Promise.all(chunks.map((chunk) => checkChunk(chunk)));
  }

  interface VisibilityCheck {
    item: PreparedChange;
    claimsJson: string;
    role: string;
  }

  /**
   * The checks of one chunk go out as one multi-statement simple query: Postgres plans each statement
   * only after the previous one ran, so every `exists` runs under the role and claims set just before
   * it. Values are quoted with escapeLiteral: claims come from verified JWTs, keys from the WAL.
   */
  function checkStatements(client: pg.PoolClient, check: VisibilityCheck): [string, string] {
    const lit = (value: string) => client.escapeLiteral(value);
    const columnSql = new Map(check.item.meta.columns.map((c) => [c.name, c.sql]));
    const where = check.item.change.pk
      .map((p) => `${quoteIdent(p.name)} = ${lit(textForm(check.item.record?.[p.name] ?? null) ?? "")}::${columnSql.get(p.name) ?? p.type}`)
      .join(" and ");
    return [
      `select set_config('role', ${lit(check.role)}, true), set_config('request.jwt.claims', ${lit(check.claimsJson)}, true)`,
      `select exists(select 1 from ${quoteIdent(check.item.change.schema)}.${quoteIdent(check.item.change.table)} where ${where}) as visible`,
    ];
  }

  async function runChecks(client: pg.PoolClient, checks: VisibilityCheck[]): Promise<void> {
    const statements = ["begin"];
    const resultIndex: number[] = [];
    for (const check of checks) {
      const [setClaims, exists] = checkStatements(client, check);
      statements.push(setClaims);
      resultIndex.push(statements.length);
      statements.push(exists);
    }
    statements.push("rollback");
    const results = (await client.query(statements.join(";\n"))) as unknown as pg.QueryResult<{ visible: boolean }>[];
    checks.forEach((check, i) => check.item.visibility.set(check.claimsJson, results[resultIndex[i]]?.rows[0]?.visible === true));
  }

  async function checkChunk(checks: VisibilityCheck[]): Promise<void> {
    const client = await pool.connect();
    let broken = false;
    try {
      try {
        await runChecks(client, checks);
      } catch {
        await client.query("rollback").catch(() => {
          broken = true;
        });
        // One subscriber's check failed (a policy raised, a role vanished): retry them one by one, so
        // only that subscriber misses the change.
        for (const check of checks) {
          if (broken) break;
          try {
            await runChecks(client, [check]);
          } catch (error) {
            if (DEBUG) console.log("[realtime] visibility check failed:", (error as Error).message);
            check.item.visibility.set(check.claimsJson, false);
            await client.query("rollback").catch(() => {
              broken = true;
            });
          }
        }
      }
    } finally {
      client.release(broken);
    }
  }

  /** Realtime's per-role error payloads for INSERT/UPDATE: no primary key, or no SELECT on all of it. */
  function changeError(item: PreparedChange, role: string): string | undefined {
    if (item.change.action === "D") return undefined;
    if (item.change.pk.length === 0) return "Error 400: Bad Request, no primary key";
    const granted = new Set(item.meta.columns.filter((c) => c.grantedTo.includes(role)).map((c) => c.name));
    if (!item.change.pk.every((p) => granted.has(p.name))) return "Error 401: Unauthorized";
    return undefined;
  }

  function framePayload(item: PreparedChange, role: string, ids: number[]): Record<string, unknown> {
    const type = actionType(item.change.action);
    const base: Record<string, unknown> = { schema: item.change.schema, table: item.change.table, type };
    const pkNames = item.change.pk.map((p) => p.name);
    const error = changeError(item, role);
    if (error) return { ids, data: { ...base, errors: [error] } };
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
      // wal2json leaves out unchanged TOASTed values; like Realtime, take them from the old row.
      if (type === "UPDATE" && item.oldRecord) {
        for (const name of visibleNames) if (!(name in record) && name in item.oldRecord) record[name] = item.oldRecord[name];
      }
      data.record = record;
    }
    if (type !== "INSERT") {
      const oldNames = type === "DELETE" && item.meta.rls ? new Set(pkNames) : visibleNames;
      data.old_record = pick(item.oldRecord, oldNames);
    }
    return { ids, data };
  }

  async function deliver(changes: WalChange[]): Promise<void> {
    if (connections.size === 0) return;
    const relevant = changes.filter((c) => tableWanted(relationKey(c.schema, c.table)));
    if (relevant.length === 0) return;
    const roles = new Set<string>();
    for (const conn of connections) for (const channel of conn.channels.values()) roles.add(channel.claims.role);
    const metas = await loadMeta([...new Set(relevant.map((c) => relationKey(c.schema, c.table)))], [...roles]);
    const rowsToType = relevant.flatMap((c) => [c.columns, c.identity.length > 0 ? c.identity : c.columns.filter((col) => c.pk.some((p) => p.name === col.name))]);
    const typed = await typedRows(pool, rowsToType);
    const prepared: PreparedChange[] = [];
    relevant.forEach((change, i) => {
      const key = relationKey(change.schema, change.table);
      const meta = metas.get(key);
      if (!meta) return;
      const candidates = matchCandidates(change, key);
      if (candidates.length === 0) return;
      prepared.push({
        change,
        key,
        meta,
        record: change.action === "D" ? null : typed[2 * i],
        oldRecord: change.action === "I" ? null : typed[2 * i + 1],
        candidates,
        visibility: new Map(),
      });
    });
    await checkVisibility(prepared);
    for (const item of prepared) {
      const needsRls = item.meta.rls && item.change.action !== "D";
      for (const candidate of item.candidates) {
        if (candidate.conn.channels.get(candidate.channel.topic) !== candidate.channel) continue;
        const role = candidate.channel.claims.role;
        if (needsRls && !changeError(item, role) && item.visibility.get(candidate.channel.claimsJson) !== true) continue;
        send(candidate.conn, {
          joinRef: null,
          ref: null,
          topic: candidate.channel.topic,
          event: "postgres_changes",
          payload: framePayload(item, role, candidate.ids),
        });
      }
    }
  }

  return { deliver, subscribedTables };
}
