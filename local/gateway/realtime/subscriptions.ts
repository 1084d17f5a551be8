// postgres_changes bindings of a join (docs/supabase-standin-spec.md §3.3, §3.6): parsed from the join config, each with
// Realtime's stable id, then resolved against the publication and the subscriber's role (the role must
// exist and SELECT the tables; filter columns must exist, be selectable and take the filter's values).
import type pg from "pg";
import { PUBLICATION } from "./capture.ts";
import { relationKey, type Binding, type ChangeEvent, type Channel, type TableSubscription } from "./connection.ts";
import { FilterParseError, filterValueProblem, parseFilter } from "./filters.ts";

/** Stable id per distinct binding map, like Realtime's phash2(params): identical maps share an id. */
function bindingId(params: Record<string, unknown>): number {
  const canonical = JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
  let hash = 0x811c9dc5;
  for (let i = 0; i < canonical.length; i++) {
    hash ^= canonical.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash & 0x7ffffff) || 1;
}

function parseEvent(value: unknown): ChangeEvent {
  const upper = typeof value === "string" ? value.toUpperCase() : "*";
  return upper === "INSERT" || upper === "UPDATE" || upper === "DELETE" ? upper : "*";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Bindings whose filter could not be parsed carry the parse error here; they fail the whole join's subscription. */
const parseErrors = new WeakMap<Binding, string>();

export function parseBindings(rawBindings: unknown): Binding[] {
  const list = Array.isArray(rawBindings) ? rawBindings : [];
  return list.map((entry) => {
    const params = isObject(entry) ? entry : {};
    const binding: Binding = { id: bindingId(params), params, event: parseEvent(params.event), filters: [], tables: new Map() };
    try {
      binding.filters = parseFilter(params.filter);
    } catch (error) {
      parseErrors.set(binding, error instanceof FilterParseError ? error.message : "Error parsing `filter` params");
    }
    return binding;
  });
}

export type SubscribeOutcome = { status: "ok" | "error"; message: string };

export function createSubscriptions(pool: pg.Pool) {
  /** Resolves a binding to published tables and validates role and filters; returns an error text on failure. */
  async function subscribeBinding(binding: Binding, role: string): Promise<string | undefined> {
    // Tables resolved for an earlier role must not outlive a failed re-subscribe.
    binding.tables = new Map();
    const p = binding.params;
    const describe = () =>
      `Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: ${String(p.event ?? "*")}, schema: ${String(p.schema ?? "")}, table: ${String(p.table ?? "")}, filters: ${JSON.stringify(binding.filters.map((f) => [f.column, `${f.negate ? "not." : ""}${f.op}`, f.value]))}]`;
    const table = typeof p.table === "string" && p.table !== "" ? p.table : "*";
    const schema = typeof p.schema === "string" && p.schema !== "" ? p.schema : table === "*" ? "*" : "public";
    const { rows: roleRows } = await pool.query("select 1 from pg_roles where rolname = $1", [role]);
    if (roleRows.length === 0) return describe();
    const { rows: tables } = await pool.query<{ schema: string; table: string; oid: number; can_select: boolean }>(
      `select pt.schemaname as schema, pt.tablename as table, c.oid::int as oid,
              has_any_column_privilege($4, c.oid, 'SELECT') as can_select
         from pg_publication_tables pt
         join pg_namespace n on n.nspname = pt.schemaname
         join pg_class c on c.relnamespace = n.oid and c.relname = pt.tablename
        where pt.pubname = $1 and ($2 = '*' or pt.schemaname = $2) and ($3 = '*' or pt.tablename = $3)`,
      [PUBLICATION, schema, table, role],
    );
    if (tables.length === 0 || tables.some((t) => !t.can_select)) return describe();
    const resolved = new Map<string, TableSubscription>();
    for (const t of tables) {
      const filterTypes = new Map<string, string>();
      if (binding.filters.length > 0) {
        const { rows: columns } = await pool.query<{ name: string; typname: string; sql: string; can_select: boolean }>(
          `select a.attname as name, ty.typname, format_type(a.atttypid, a.atttypmod) as sql,
                  has_column_privilege($2, a.attrelid, a.attname, 'SELECT') as can_select
             from pg_attribute a join pg_type ty on ty.oid = a.atttypid
            where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped`,
          [t.oid, role],
        );
        const byName = new Map(columns.map((c) => [c.name, c]));
        for (const filter of binding.filters) {
          const column = byName.get(filter.column);
          if (!column || !column.can_select) return describe();
          if (filterValueProblem(filter, column.typname)) return describe();
          if (["eq", "neq", "lt", "lte", "gt", "gte", "in", "isdistinct"].includes(filter.op)) {
            const operands = filter.op === "in" ? filter.values : [filter.value];
            try {
              for (const operand of operands) await pool.query(`select $1::text::${column.sql}`, [operand]);
            } catch {
              return describe();
            }
          }
          filterTypes.set(filter.column, column.typname);
        }
      }
      resolved.set(relationKey(t.schema, t.table), { schema: t.schema, table: t.table, filterTypes });
    }
    binding.tables = resolved;
    return undefined;
  }

  /** Subscribes every binding of the channel for its current role; the outcome is the `system` message's. */
  async function resolveChannel(channel: Channel): Promise<SubscribeOutcome> {
    for (const binding of channel.bindings) {
      const parseError = parseErrors.get(binding);
      if (parseError) return { status: "error", message: parseError };
    }
    for (const binding of channel.bindings) {
      try {
        const problem = await subscribeBinding(binding, channel.claims.role);
        if (problem) return { status: "error", message: problem };
      } catch (error) {
        // The cause (a database error, a lost connection) is for the logs, not for the subscriber.
        console.error("[realtime] subscribing failed:", (error as Error).message);
        return { status: "error", message: "Unable to subscribe to changes: an internal error occurred" };
      }
    }
    return { status: "ok", message: "Subscribed to PostgreSQL" };
  }

  return { resolveChannel };
}
