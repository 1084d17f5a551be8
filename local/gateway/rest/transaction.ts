// PostgREST's per-request transaction (docs/supabase-standin-spec.md §1.6): a pooled connection, the
// preamble that sets role, claims and request.* settings, and statements prepared per connection.
import type { IncomingMessage } from "node:http";
import pg from "pg";
import { ApiError, fromPgError } from "./errors.ts";
import { quoteIdent } from "./query.ts";
import { ANON_ROLE, headerValue, parseCookies, type Auth } from "./request.ts";
import type { RestContext } from "./handler.ts";

const EXTRA_SEARCH_PATH = ["public", "extensions"];

// Statements are prepared per connection, as PostgREST does by default: request shapes repeat, so parsing and
// planning are paid once. The texts are bounded so a stream of odd queries cannot grow every connection forever;
// past the bound, statements run unnamed.
const MAX_PREPARED_STATEMENTS = 500;
const statementIds = new Map<string, string>();
export function statementName(text: string): string | undefined {
  let name = statementIds.get(text);
  if (name === undefined && statementIds.size < MAX_PREPARED_STATEMENTS) {
    statementIds.set(text, (name = `pgrst_${statementIds.size + 1}`));
  }
  return name;
}

const connectionGeneration = new WeakMap<pg.PoolClient, number>();

/** A pooled connection prepared under the current schema cache (PostgREST flushes its pool on reload too). */
async function connectCurrent(ctx: RestContext): Promise<pg.PoolClient> {
  for (;;) {
    const client = await ctx.pool.connect();
    const generation = connectionGeneration.get(client);
    if (generation === undefined || generation === ctx.cache.generation) {
      connectionGeneration.set(client, ctx.cache.generation);
      return client;
    }
    connectionGeneration.delete(client);
    client.release(true);
  }
}

/** PostgREST's 503 for a database it cannot reach; what went wrong is logged, not told to the caller. */
function connectionError(err: unknown): ApiError {
  console.error("[gateway] REST database connection failed:", (err as Error)?.message ?? err);
  return new ApiError(503, "PGRST000", "Database connection error. Retrying the connection.");
}

/** Runs `work` in one transaction with PostgREST's preamble; rolls back on error or when asked. */
export async function inTransaction<T>(
  ctx: RestContext,
  opts: {
    readOnly: boolean;
    auth: Auth;
    schema: string;
    method: string;
    path: string;
    req: IncomingMessage;
    timezone?: string;
  },
  work: (client: pg.PoolClient) => Promise<{ result: T; rollback: boolean }>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await connectCurrent(ctx);
  } catch (err) {
    throw connectionError(err);
  }
  let broken = false;
  try {
    await client.query(`BEGIN ISOLATION LEVEL READ COMMITTED ${opts.readOnly ? "READ ONLY" : "READ WRITE"}`);
    try {
      const cache = await ctx.cache.get();
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.req.headers)) {
        if (k === "cookie" || v === undefined) continue;
        headers[k] = Array.isArray(v) ? v.join(", ") : v;
      }
      const values: unknown[] = [];
      const p = (v: unknown) => {
        values.push(v);
        return `$${values.length}`;
      };
      const parts = [
        `set_config('search_path', ${p([opts.schema, ...EXTRA_SEARCH_PATH.filter((s) => s !== opts.schema)].map(quoteIdent).join(", "))}, true)`,
      ];
      for (const [name, value] of cache.roleSettings.get(opts.auth.role) ?? []) {
        parts.push(`set_config(${p(name)}, ${p(value)}, true)`);
      }
      parts.push(
        `set_config('role', ${p(opts.auth.role)}, true)`,
        `set_config('request.jwt.claims', ${p(JSON.stringify(opts.auth.claims))}, true)`,
        `set_config('request.method', ${p(opts.method)}, true)`,
        `set_config('request.path', ${p(opts.path)}, true)`,
        `set_config('request.headers', ${p(JSON.stringify(headers))}, true)`,
        `set_config('request.cookies', ${p(JSON.stringify(parseCookies(headerValue(opts.req, "cookie"))))}, true)`,
      );
      if (opts.timezone) parts.push(`set_config('timezone', ${p(opts.timezone)}, true)`);
      // The preamble's text depends only on the role's settings, so it is prepared once per connection.
      const preamble = `SELECT ${parts.join(", ")}`;
      await client.query({ name: statementName(preamble), text: preamble, values });
      const { result, rollback } = await work(client);
      await client.query(rollback ? "ROLLBACK" : "COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => (broken = true));
      throw err;
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    // Postgres' own errors carry a SQLSTATE and are shown as PostgREST shows them.
    if (err instanceof pg.DatabaseError) throw fromPgError(err, opts.auth.role === ANON_ROLE);
    broken = true;
    // A bug of ours (TypeError and the like) is the handler's generic 500; anything else broke the connection.
    if (err instanceof Error && err.constructor !== Error && !("code" in err)) throw err;
    throw connectionError(err);
  } finally {
    client.release(broken);
  }
}
