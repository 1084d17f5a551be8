// PostgREST's per-request transaction (docs/supabase-standin-spec.md §1.6): a pooled connection, the
// preamble that sets role, claims and request.* settings, and the request's statement, prepared per
// connection. The whole transaction goes to Postgres as one batch (batch.ts), so a request costs one round
// trip, not four (BEGIN, preamble, statement, COMMIT).
import type { IncomingMessage } from "node:http";
import pg from "pg";
import { ApiError, fromPgError } from "./errors.ts";
import { quoteIdent, type Statement } from "./query.ts";
import { ANON_ROLE, parseCookies, type Auth } from "./request.ts";
import { PreparedStatements, runBatch, type BatchStatement, type Row } from "./batch.ts";
import type { RestContext } from "./handler.ts";

/**
 * The REST pool: `authenticator` connections, each held by one request at a time, closed after 30 s idle
 * (PostgREST's db-pool-max-idletime; pg.Pool's own default is 10 s). A new connection costs a SCRAM
 * handshake and a backend whose first intake plans every trigger's statements (about 30 ms of CPU against
 * 5 ms warm), so closing them early costs the next burst dearly.
 */
export function createRestPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, idleTimeoutMillis: 30_000, application_name: "leadloop-gateway-rest" });
  pool.on("error", (err) => console.error("[gateway] idle REST connection failed:", err.message));
  return pool;
}

/**
 * Named statements kept per connection, as PostgREST prepares them: request shapes repeat, so parsing and
 * planning are paid once per connection and shape (the least recently used past this bound is closed).
 */
export const MAX_PREPARED_PER_CONNECTION = 100;

interface PooledState {
  generation: number;
  prepared: PreparedStatements;
}
const pooledState = new WeakMap<pg.PoolClient, PooledState>();

/** A pooled connection prepared under the current schema cache (PostgREST flushes its pool on reload too). */
async function connectCurrent(ctx: RestContext): Promise<{ client: pg.PoolClient; state: PooledState }> {
  for (;;) {
    const client = await ctx.pool.connect();
    let state = pooledState.get(client);
    if (state === undefined) {
      state = { generation: ctx.cache.generation, prepared: new PreparedStatements(MAX_PREPARED_PER_CONNECTION) };
      pooledState.set(client, state);
    }
    if (state.generation === ctx.cache.generation) return { client, state };
    pooledState.delete(client);
    client.release(true);
  }
}

/** PostgREST's 503 for a database it cannot reach; what went wrong is logged, not told to the caller. */
function connectionError(err: unknown): ApiError {
  console.error("[gateway] REST database connection failed:", (err as Error)?.message ?? err);
  return new ApiError(503, "PGRST000", "Database connection error. Retrying the connection.");
}

export interface TransactionOptions {
  readOnly: boolean;
  auth: Auth;
  schema: string;
  method: string;
  path: string;
  req: IncomingMessage;
  timezone?: string;
  /** Prefer: tx=rollback. */
  rollback: boolean;
  /** db-extra-search-path (config.toml [api] extra_search_path), after the request's schema. */
  extraSearchPath: string[];
}

/**
 * The preamble's text depends only on how many settings the role has and on whether a timezone is asked
 * for (names and values are parameters), so it is built once per shape and prepared like any statement.
 */
const preambleTexts = new Map<string, string>();
function preambleText(settings: number, timezone: boolean): string {
  const key = `${settings}:${timezone}`;
  let text = preambleTexts.get(key);
  if (text === undefined) {
    let n = 1;
    const parts = [`set_config('search_path', $${n++}, true)`];
    for (let i = 0; i < settings; i++) parts.push(`set_config($${n++}, $${n++}, true)`);
    for (const name of ["role", "request.jwt.claims", "request.method", "request.path", "request.headers", "request.cookies"]) {
      parts.push(`set_config('${name}', $${n++}, true)`);
    }
    if (timezone) parts.push(`set_config('timezone', $${n++}, true)`);
    preambleTexts.set(key, (text = `SELECT ${parts.join(", ")}`));
  }
  return text;
}

const searchPaths = new Map<string, string>();
function searchPath(schema: string, extra: string[]): string {
  const key = `${schema}\u0000${extra.join("\u0000")}`;
  let path = searchPaths.get(key);
  if (path === undefined) searchPaths.set(key, (path = [schema, ...extra.filter((s) => s !== schema)].map(quoteIdent).join(", ")));
  return path;
}

function preamble(roleSettings: [string, string][], opts: TransactionOptions): Statement {
  const { cookie, ...headers } = opts.req.headers;
  const values: unknown[] = [searchPath(opts.schema, opts.extraSearchPath)];
  for (const [name, value] of roleSettings) values.push(name, value);
  values.push(
    opts.auth.role,
    opts.auth.claimsJson,
    opts.method,
    opts.path,
    JSON.stringify(headers),
    cookie === undefined ? "{}" : JSON.stringify(parseCookies(Array.isArray(cookie) ? cookie.join("; ") : cookie)),
  );
  if (opts.timezone) values.push(opts.timezone);
  return { text: preambleText(roleSettings.length, !!opts.timezone), values };
}

/**
 * Runs `main` (and `extra` statements after it) in one transaction with PostgREST's preamble and returns
 * their rows. BEGIN, the preamble, the statements and the COMMIT (or, with Prefer: tx=rollback, ROLLBACK) go
 * out as one batch: one round trip. An error skips the rest of the batch and leaves the transaction aborted,
 * so it is rolled back before the connection is reused. `verify` may refuse the main rows (a singular
 * response with several rows, max-affected): a read-only transaction changed nothing, so it is checked
 * after the commit; a write that must be verified waits for its result and then commits or rolls back,
 * its second round trip.
 */
export async function runStatements(
  ctx: RestContext,
  opts: TransactionOptions,
  main: Statement,
  extra: Statement[] = [],
  verify?: (rows: Row[]) => void,
): Promise<{ rows: Row[]; extra: Row[][] }> {
  const cache = await ctx.cache.get();
  const pre = preamble(cache.roleSettings.get(opts.auth.role) ?? [], opts);
  let client: pg.PoolClient;
  let state: PooledState;
  try {
    ({ client, state } = await connectCurrent(ctx));
  } catch (err) {
    throw connectionError(err);
  }
  const end = opts.rollback ? "ROLLBACK" : "COMMIT";
  const verifyBeforeCommit = verify !== undefined && !opts.readOnly && !opts.rollback;
  let broken = false;
  try {
    const batch: BatchStatement[] = [
      { text: `BEGIN ISOLATION LEVEL READ COMMITTED ${opts.readOnly ? "READ ONLY" : "READ WRITE"}` },
      pre,
      { ...main, rows: true },
      ...extra.map((s) => ({ ...s, rows: true })),
    ];
    if (!verifyBeforeCommit) batch.push({ text: end });
    let results: Row[][];
    try {
      results = await runBatch(client, state.prepared, batch);
      if (verifyBeforeCommit) verify(results[2]);
    } catch (err) {
      // The transaction is still open (aborted, or waiting for the verdict): end it before anything else.
      await client.query("ROLLBACK").catch(() => (broken = true));
      throw err;
    }
    if (verifyBeforeCommit) await client.query(end);
    else verify?.(results[2]);
    return { rows: results[2], extra: results.slice(3, 3 + extra.length) };
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
