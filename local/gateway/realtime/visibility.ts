// Per-subscriber RLS for postgres_changes (docs/supabase-standin-spec.md §3.6), batched: every check of a chunk of
// changes (a change x a distinct set of claims) goes to Postgres in one call of
// _realtime.visible_to_subscribers (local/db/platform/70-realtime.sql), which becomes each subscriber's
// role with their claims and runs a statement prepared once per table on this connection:
// `select exists(select 1 from <table> where <pk> = $1 ...)`. 200 subscribers cost one round trip and
// 200 executions of a cached plan, not 200 round trips and 200 plans.
import pg from "pg";
import { DEBUG } from "./connection.ts";

export interface VisibilityCheck {
  /** The changed row's transaction (the check waits until it is visible). */
  xid: number;
  schema: string;
  table: string;
  /** Primary key columns with their SQL types (format_type) and the row's values in text form. */
  key: Array<{ name: string; sqlType: string; value: string }>;
  role: string;
  claimsJson: string;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface VisibilityChecker {
  /** One boolean per check, in order; a check that fails (a policy raised, a role vanished) is false. */
  check(checks: VisibilityCheck[]): Promise<boolean[]>;
  close(): Promise<void>;
}

/** Checkers on `connections` sessions: a call goes to the one with the least work waiting, so two calls run side by side. */
export function createVisibilityChecker(dbUrl: string, connections = 2): VisibilityChecker & { readonly connections: number } {
  const sessions = Array.from({ length: connections }, () => ({ checker: createSession(dbUrl), pending: 0 }));
  return {
    connections,
    async check(checks) {
      const session = sessions.reduce((a, b) => (b.pending < a.pending ? b : a));
      session.pending++;
      try {
        return await session.checker.check(checks);
      } finally {
        session.pending--;
      }
    },
    async close() {
      await Promise.all(sessions.map((s) => s.checker.close()));
    },
  };
}

/** One session: its prepared statements, and one call at a time. */
function createSession(dbUrl: string): VisibilityChecker {
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  /** statement signature -> prepared statement name, on the current connection. */
  let prepared = new Map<string, string>();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  function connection(): Promise<pg.Client> {
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const c = new pg.Client({ connectionString: dbUrl, application_name: "leadloop realtime rls" });
      const forget = () => {
        if (client === c) client = undefined;
      };
      c.on("error", forget);
      c.on("end", forget);
      await c.connect();
      // One generic plan per table from the first check on: the plan does not depend on the key values.
      await c.query("set plan_cache_mode = force_generic_plan");
      prepared = new Map();
      client = c;
      return c;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  async function statementFor(c: pg.Client, check: VisibilityCheck): Promise<string> {
    const signature = JSON.stringify([check.schema, check.table, check.key.map((k) => [k.name, k.sqlType])]);
    let name = prepared.get(signature);
    if (name) return name;
    name = `rt_visible_${prepared.size + 1}`;
    const where = check.key.map((k, i) => `${quoteIdent(k.name)} = $${i + 1}`).join(" and ");
    const types = check.key.map((k) => k.sqlType).join(", ");
    await c.query(`prepare ${name} (${types}) as select exists(select 1 from ${quoteIdent(check.schema)}.${quoteIdent(check.table)} where ${where})`);
    prepared.set(signature, name);
    return name;
  }

  async function run(c: pg.Client, checks: VisibilityCheck[]): Promise<boolean[]> {
    const statements: string[] = [];
    for (const check of checks) statements.push(await statementFor(c, check));
    // Same role one after another: switching roles re-plans, switching claims does not.
    const order = checks.map((_, i) => i).sort((a, b) => (checks[a].role < checks[b].role ? -1 : checks[a].role > checks[b].role ? 1 : a - b));
    const { rows } = await c.query<{ visible: boolean[] }>("select _realtime.visible_to_subscribers($1::text[]::xid[], $2, $3, $4, $5) as visible", [
      [...new Set(checks.map((check) => String(check.xid)))],
      order.map((i) => statements[i]),
      order.map((i) => checks[i].key.map((k) => c.escapeLiteral(k.value)).join(", ")),
      order.map((i) => checks[i].role),
      order.map((i) => checks[i].claimsJson),
    ]);
    const result = new Array<boolean>(checks.length).fill(false);
    order.forEach((checkIndex, position) => {
      result[checkIndex] = rows[0]?.visible?.[position] === true;
    });
    return result;
  }

  async function checkAll(checks: VisibilityCheck[]): Promise<boolean[]> {
    if (checks.length === 0 || closed) return checks.map(() => false);
    const c = await connection();
    try {
      return await run(c, checks);
    } catch {
      // One subscriber's check failed (a policy raised, a role or table vanished): retry them one by
      // one with fresh statements, so only that subscriber misses the change.
      await c.query("deallocate all").catch(() => undefined);
      prepared = new Map();
      const result: boolean[] = [];
      for (const check of checks) {
        try {
          result.push((await run(c, [check]))[0]);
        } catch (error) {
          if (DEBUG) console.log("[realtime] visibility check failed:", (error as Error).message);
          result.push(false);
        }
      }
      return result;
    }
  }

  return {
    check(checks) {
      const next = queue.then(() => checkAll(checks));
      queue = next.catch(() => undefined);
      return next;
    },
    async close() {
      closed = true;
      await queue;
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
