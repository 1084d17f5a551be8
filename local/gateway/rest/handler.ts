// PostgREST v12/v13 behaviour for /rest/v1 (docs/supabase-standin-spec.md §1): one transaction per request,
// PostgREST's preamble, reads, mutations and rpc, and its response and error rules.
import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";
import { BodyTooLargeError, readBody, RequestAbortedError, send } from "../http.ts";
import { bearerToken, JwtError, verifyJwt, type JwtClaims } from "../jwt.ts";
import { ApiError, fromPgError } from "./errors.ts";
import {
  parseColumnList,
  parseField,
  parseFilter,
  parseLogicTree,
  parseNonNegativeInt,
  parseOrder,
  parseSelect,
  type LogicTree,
  type SelectItem,
} from "./parse.ts";
import { planLevel, qualified, quoteIdent, SqlBuilder, type LevelOptions } from "./query.ts";
import { loadSchemaCache, type DbFunction, type Relation, type SchemaCacheData } from "./schema-cache.ts";

export const EXPOSED_SCHEMAS = ["public", "graphql_public"];
const EXTRA_SEARCH_PATH = ["public", "extensions"];
const MAX_ROWS = 1000;
const ANON_ROLE = "anon";

/** Holds the schema cache; reloads are coalesced so a burst of misses triggers one catalog read. */
export class SchemaCache {
  data: SchemaCacheData | undefined;
  /** Bumped on every reload; connections from an older generation are recycled (their prepared plans may be stale). */
  generation = 0;
  private loading: Promise<SchemaCacheData> | undefined;
  constructor(private readonly pool: pg.Pool) {}

  async get(): Promise<SchemaCacheData> {
    return this.data ?? this.reload();
  }

  /**
   * Loads the catalog again. A reload asked for while one is running gets a fresh load queued after it
   * (the running one may have started before the change that prompted the request); waiters share it.
   */
  reload(): Promise<SchemaCacheData> {
    if (!this.loading) return (this.loading = this.load());
    if (!this.queued) {
      this.queued = this.loading
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          return (this.loading = this.load());
        });
    }
    return this.queued;
  }

  private queued: Promise<SchemaCacheData> | undefined;

  private load(): Promise<SchemaCacheData> {
    const loading: Promise<SchemaCacheData> = loadSchemaCache(this.pool, EXPOSED_SCHEMAS)
      .then((d) => {
        this.generation++;
        return (this.data = d);
      })
      .finally(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    return loading;
  }
}

export interface RestContext {
  pool: pg.Pool;
  cache: SchemaCache;
  jwtSecret: string;
  bodyLimit: number;
}

interface Prefer {
  return?: "minimal" | "representation" | "headers-only";
  count?: "exact" | "planned" | "estimated";
  resolution?: "merge-duplicates" | "ignore-duplicates";
  missing?: "default" | "null";
  tx?: "commit" | "rollback";
  handling?: "strict" | "lenient";
  maxAffected?: number;
  timezone?: string;
  singleObject?: boolean;
}

function parsePrefer(header: string | undefined): { prefer: Prefer; applied: string[] } {
  const prefer: Prefer = {};
  const applied: string[] = [];
  if (!header) return { prefer, applied };
  for (const raw of header.split(",")) {
    const item = raw.trim();
    const [k, v] = item.split("=").map((s) => s.trim());
    if (k === "return" && (v === "minimal" || v === "representation" || v === "headers-only")) prefer.return = v;
    else if (k === "count" && (v === "exact" || v === "planned" || v === "estimated")) prefer.count = v;
    else if (k === "resolution" && (v === "merge-duplicates" || v === "ignore-duplicates")) prefer.resolution = v;
    else if (k === "missing" && (v === "default" || v === "null")) prefer.missing = v;
    else if (k === "tx" && (v === "commit" || v === "rollback")) prefer.tx = v;
    else if (k === "handling" && (v === "strict" || v === "lenient")) prefer.handling = v;
    else if (k === "max-affected" && /^\d+$/.test(v ?? "")) prefer.maxAffected = Number(v);
    else if (k === "timezone" && v) prefer.timezone = v;
    else if (k === "params" && v === "single-object") prefer.singleObject = true;
    else continue;
    applied.push(item);
  }
  return { prefer, applied };
}

interface Accept {
  singular: boolean;
  stripNulls: boolean;
  csv?: boolean;
}

function parseAccept(header: string | undefined): Accept {
  if (!header) return { singular: false, stripNulls: false };
  const types = header.split(",").map((t) => t.trim().toLowerCase());
  for (const t of types) {
    const [mt, ...params] = t.split(";").map((s) => s.trim());
    const stripNulls = params.includes("nulls=stripped");
    if (mt === "application/vnd.pgrst.object+json" || mt === "application/vnd.pgrst.object") return { singular: true, stripNulls };
    if (mt === "text/csv") return { singular: false, stripNulls: false, csv: true };
    if (mt === "application/json" || mt === "application/vnd.pgrst.array+json" || mt === "*/*" || mt === "application/*") {
      return { singular: false, stripNulls };
    }
  }
  throw new ApiError(406, "PGRST107", `None of these media types are available: ${types.join(", ")}`);
}

interface Auth {
  role: string;
  claims: JwtClaims;
}

function authenticate(authorization: string | undefined, secret: string): Auth {
  const token = bearerToken(authorization);
  if (token === undefined) return { role: ANON_ROLE, claims: { role: ANON_ROLE } };
  try {
    const claims = verifyJwt(token, secret);
    const role = typeof claims.role === "string" && claims.role !== "" ? claims.role : ANON_ROLE;
    return { role, claims: { ...claims, role } };
  } catch (err) {
    if (err instanceof JwtError) {
      throw new ApiError(401, err.code, err.message, null, null, {
        "WWW-Authenticate": `Bearer error="invalid_token", error_description="${err.message}"`,
      });
    }
    throw err;
  }
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

interface ParsedQuery {
  select: SelectItem[];
  levels: Map<string, LevelOptions>;
  columns?: string[];
  onConflict?: string[];
  /** Query params that did not parse as filters (rpc GET/HEAD arguments). */
  rpcArgs: Map<string, string>;
}

const RESERVED_TAILS = new Set(["order", "limit", "offset", "or", "and"]);

function parseQuery(params: URLSearchParams, rpcArgNames: Set<string> | undefined): ParsedQuery {
  const levels = new Map<string, LevelOptions>();
  const level = (path: string) => {
    let l = levels.get(path);
    if (!l) levels.set(path, (l = { filters: [] }));
    return l;
  };
  const q: ParsedQuery = { select: [{ kind: "star" }], levels, rpcArgs: new Map() };
  for (const [key, value] of params) {
    if (key === "select") {
      q.select = value === "" ? [] : parseSelect(value);
      continue;
    }
    if (key === "columns") {
      q.columns = parseColumnList(value, "columns parameter");
      continue;
    }
    if (key === "on_conflict") {
      q.onConflict = parseColumnList(value, "on_conflict parameter");
      continue;
    }
    if (rpcArgNames?.has(key)) {
      q.rpcArgs.set(key, value);
      continue;
    }
    const segments = key.split(".");
    const last = segments[segments.length - 1];
    if (RESERVED_TAILS.has(last)) {
      let pathSegs = segments.slice(0, -1);
      let negate = false;
      if ((last === "or" || last === "and") && pathSegs[pathSegs.length - 1] === "not") {
        negate = true;
        pathSegs = pathSegs.slice(0, -1);
      }
      const l = level(pathSegs.join("."));
      if (last === "order") l.order = parseOrder(value);
      else if (last === "limit") l.limit = parseNonNegativeInt(value, "limit");
      else if (last === "offset") l.offset = parseNonNegativeInt(value, "offset");
      else l.filters.push(parseLogicTree(last as "and" | "or", negate, value, key));
      continue;
    }
    if (value === "" && rpcArgNames) {
      q.rpcArgs.set(key, value);
      continue;
    }
    // Filter: path segments name embeds; the last one is the column (with an optional JSON path).
    const field = parseField(last);
    const filter = parseFilter(field, value, key);
    const tree: LogicTree = { kind: "leaf", filter };
    level(segments.slice(0, -1).join(".")).filters.push(tree);
  }
  return q;
}

function rangeFromHeader(req: IncomingMessage): { offset: number; limit?: number } | undefined {
  const range = headerValue(req, "range");
  if (!range) return undefined;
  const m = /^(?:items=)?(\d+)-(\d*)$/.exec(range.trim());
  if (!m) return undefined;
  const from = Number(m[1]);
  return { offset: from, limit: m[2] === "" ? undefined : Math.max(0, Number(m[2]) - from + 1) };
}

function contentRange(first: number, rows: number, total: number | undefined): string {
  const totalText = total === undefined ? "*" : String(total);
  return rows > 0 ? `${first}-${first + rows - 1}/${totalText}` : `*/${totalText}`;
}

interface Target {
  kind: "relation" | "rpc";
  name: string;
}

function parsePath(pathname: string): Target | "root" {
  const segs = pathname.split("/").slice(1);
  if (segs.length === 1 && segs[0] === "") return "root";
  const decoded = segs.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ApiError(404, "PGRST125", "Invalid path specified in request URL");
    }
  });
  if (decoded.length === 1 && decoded[0] !== "") return { kind: "relation", name: decoded[0] };
  if (decoded.length === 2 && decoded[0] === "rpc" && decoded[1] !== "") return { kind: "rpc", name: decoded[1] };
  throw new ApiError(404, "PGRST125", "Invalid path specified in request URL");
}

async function findRelation(cache: SchemaCache, schema: string, name: string): Promise<Relation> {
  let data = await cache.get();
  let rel = data.relations.get(`${schema}.${name}`);
  if (!rel) {
    data = await cache.reload();
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

// Statements are prepared per connection, as PostgREST does by default: request shapes repeat, so parsing and
// planning are paid once. The texts are bounded so a stream of odd queries cannot grow every connection forever;
// past the bound, statements run unnamed.
const MAX_PREPARED_STATEMENTS = 500;
const statementIds = new Map<string, string>();
function statementName(text: string): string | undefined {
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

/** Runs `work` in one transaction with PostgREST's preamble; rolls back on error or when asked. */
async function inTransaction<T>(
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
    throw new ApiError(503, "PGRST000", "Database connection error. Retrying the connection.", String((err as Error).message));
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
    const pgErr = err as { code?: string; message: string; detail?: string; hint?: string };
    if (!pgErr.code) {
      broken = true;
      throw new ApiError(503, "PGRST000", "Database connection error. Retrying the connection.", pgErr.message);
    }
    throw fromPgError(pgErr, opts.auth.role === ANON_ROLE);
  } finally {
    client.release(broken);
  }
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

function singularError(rows: number): ApiError {
  return new ApiError(406, "PGRST116", "Cannot coerce the result to a single JSON object", `The result contains ${rows} rows`);
}

function jsonContentType(singular: boolean): string {
  return singular ? "application/vnd.pgrst.object+json; charset=utf-8" : "application/json; charset=utf-8";
}

function aggregate(stripNulls: boolean, source: string, singular: boolean): string {
  if (singular) {
    const row = `(SELECT row_to_json(pgrst_t) FROM ${source} AS pgrst_t LIMIT 1)`;
    return `${stripNulls ? `json_strip_nulls(${row})` : row}::text`;
  }
  const agg = `COALESCE((SELECT json_agg(pgrst_t) FROM ${source} AS pgrst_t), '[]')`;
  return `${stripNulls ? `json_strip_nulls(${agg})` : agg}::text`;
}

// ---------------------------------------------------------------------------------------------- read

async function handleRead(
  ctx: RestContext,
  req: IncomingMessage,
  common: Common,
  relation: Relation,
): Promise<Response> {
  const { query, prefer, accept, head } = common;
  const cache = await ctx.cache.get();
  const b = new SqlBuilder(cache, query.levels);
  const alias = quoteIdent(relation.name);
  const plan = planLevel(b, relation, alias, query.select, "");
  const root = query.levels.get("") ?? { filters: [] };
  const headerRange = rangeFromHeader(req);
  const offset = root.offset ?? headerRange?.offset ?? 0;
  let limit = root.limit ?? headerRange?.limit;
  if (limit === undefined || limit > MAX_ROWS) limit = Math.min(limit ?? MAX_ROWS, MAX_ROWS);
  const from = `${qualified(relation.schema, relation.name)} AS ${alias}`;
  const where = plan.conditions.length ? ` WHERE ${plan.conditions.join(" AND ")}` : "";
  const source = `SELECT ${plan.selectList.join(", ")} FROM ${from}${where}${plan.orderBy.length ? ` ORDER BY ${plan.orderBy.join(", ")}` : ""} LIMIT ${b.param(limit)} OFFSET ${b.param(offset)}`;
  const total = prefer.count ? `(SELECT count(*) FROM ${from}${where})` : "NULL::bigint";
  const body = head ? "NULL::text" : aggregate(accept.stripNulls, "pgrst_source", accept.singular);
  const sql = `WITH pgrst_source AS (${source}) SELECT ${total} AS total, (SELECT count(*) FROM pgrst_source) AS page, ${body} AS body`;
  return runAndRespond(ctx, req, common, { readOnly: true, sql, params: b.params, kind: "read", offset });
}

interface Common {
  schema: string;
  profileHeader: boolean;
  auth: Auth;
  prefer: Prefer;
  applied: string[];
  accept: Accept;
  query: ParsedQuery;
  head: boolean;
  path: string;
  method: string;
}

async function runAndRespond(
  ctx: RestContext,
  req: IncomingMessage,
  common: Common,
  plan: {
    readOnly: boolean;
    sql: string;
    params: unknown[];
    kind: "read" | "insert" | "update" | "delete" | "rpc";
    offset?: number;
    rpcVoid?: boolean;
    rpcScalar?: boolean;
    location?: (row: Record<string, unknown>) => string;
    payloadRows?: number;
  },
): Promise<Response> {
  const { prefer, accept } = common;
  const row = await inTransaction(
    ctx,
    { readOnly: plan.readOnly, auth: common.auth, schema: common.schema, method: common.method, path: common.path, req, timezone: prefer.timezone },
    async (client) => {
      // response.status / response.headers may be set by the SQL the request ran (PostgREST's response GUCs).
      const text = `${plan.sql}, nullif(current_setting('response.headers', true), '') AS response_headers, nullif(current_setting('response.status', true), '') AS response_status`;
      const r = await client.query({ name: statementName(text), text, values: plan.params });
      const out = r.rows[0] as {
        total: string | null;
        page: string;
        body: string | null;
        inserted?: string;
        response_headers: string | null;
        response_status: string | null;
      };
      const page = Number(out.page);
      if (accept.singular && page !== 1 && !(plan.kind === "rpc" && plan.rpcScalar)) throw singularError(page);
      if (prefer.handling === "strict" && prefer.maxAffected !== undefined && plan.kind !== "read" && page > prefer.maxAffected) {
        throw new ApiError(400, "PGRST124", "Query result exceeds max-affected preference constraint", `The query affects ${page} rows`);
      }
      return { result: out, rollback: prefer.tx === "rollback" };
    },
  );
  const page = Number(row.page);
  const total = row.total === null ? undefined : Number(row.total);
  const headers: Record<string, string> = {};
  if (common.profileHeader) headers["Content-Profile"] = common.schema;
  const applied = common.applied.filter((a) => !a.startsWith("return=") || plan.kind !== "read");
  if (applied.length) headers["Preference-Applied"] = applied.join(", ");
  const withBody = (status: number): Response => {
    if (accept.csv) {
      headers["Content-Type"] = "text/csv; charset=utf-8";
      return { status, headers, body: common.head ? undefined : toCsv(row.body ?? "[]") };
    }
    headers["Content-Type"] = jsonContentType(accept.singular);
    return { status, headers, body: common.head ? undefined : (row.body ?? "null") };
  };
  const response = buildResponse();
  return applyResponseGucs(response, row.response_status, row.response_headers);
  function buildResponse(): Response {
    switch (plan.kind) {
      case "read": {
        const offset = plan.offset ?? 0;
        if (total !== undefined && offset > total) {
          throw new ApiError(416, "PGRST103", "Requested range not satisfiable", `An offset of ${offset} was requested, but there are only ${total} rows.`);
        }
        headers["Content-Range"] = contentRange(offset, page, total);
        return withBody(total !== undefined && page < total ? 206 : 200);
      }
      case "rpc": {
        headers["Content-Range"] = contentRange(0, page, total);
        if (plan.rpcVoid) return { status: 204, headers };
        return withBody(200);
      }
      case "insert":
      case "update":
      case "delete": {
        headers["Content-Range"] = plan.kind === "update" ? contentRange(0, page, total) : `*/${total ?? "*"}`;
        const status = plan.kind === "insert" ? (row.inserted !== undefined && row.inserted !== null && Number(row.inserted) === 0 && (plan.payloadRows ?? 0) > 0 ? 200 : 201) : prefer.return === "representation" ? 200 : 204;
        if (prefer.return === "representation") return withBody(status);
        if (prefer.return === "headers-only" && plan.location && row.body) {
          const rows = JSON.parse(row.body) as Record<string, unknown>[];
          if (rows[0]) headers["Location"] = plan.location(rows[0]);
        }
        return { status: plan.kind === "insert" ? status : 204, headers };
      }
    }
  }
}

function applyResponseGucs(response: Response, status: string | null, headersJson: string | null): Response {
  if (status !== null) {
    const code = Number(status);
    if (!Number.isInteger(code) || code < 100 || code > 599) {
      throw new ApiError(500, "PGRST112", "Status code must be a positive integer", `Invalid status code: ${status}`);
    }
    response.status = code;
  }
  if (headersJson !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(headersJson);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((h) => typeof h === "object" && h !== null && !Array.isArray(h))) {
      throw new ApiError(500, "PGRST111", "Response headers must be a JSON array of objects", headersJson);
    }
    for (const h of parsed as Record<string, unknown>[]) {
      for (const [k, v] of Object.entries(h)) if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k)) response.headers[k] = String(v);
    }
  }
  return response;
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  const text = typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function toCsv(jsonArray: string): string {
  const rows = JSON.parse(jsonArray) as Record<string, unknown>[];
  if (!Array.isArray(rows) || rows.length === 0) return "";
  const keys = Object.keys(rows[0]);
  return [keys.map(csvField).join(","), ...rows.map((r) => keys.map((k) => csvField(r[k])).join(","))].join("\n");
}

// ------------------------------------------------------------------------------------------ mutations

function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "PGRST102", "Empty or invalid json");
  }
}

async function payloadColumns(
  ctx: RestContext,
  relation: Relation,
  rows: Record<string, unknown>[],
  columnsParam: string[] | undefined,
): Promise<{ columns: string[]; relation: Relation }> {
  let columns: string[];
  if (columnsParam) columns = columnsParam;
  else {
    const first = rows[0] ? Object.keys(rows[0]) : [];
    const sorted = [...first].sort().join("\u0000");
    for (const r of rows) {
      if (Object.keys(r).sort().join("\u0000") !== sorted) throw new ApiError(400, "PGRST102", "All object keys must match");
    }
    columns = first;
  }
  let rel = relation;
  let missing = columns.find((c) => !rel.columns.some((col) => col.name === c));
  if (missing !== undefined) {
    const data = await ctx.cache.reload();
    rel = data.relations.get(`${relation.schema}.${relation.name}`) ?? rel;
    missing = columns.find((c) => !rel.columns.some((col) => col.name === c));
  }
  if (missing !== undefined) {
    throw new ApiError(400, "PGRST204", `Could not find the '${missing}' column of '${relation.name}' in the schema cache`);
  }
  return { columns, relation: rel };
}

function returningSelect(b: SqlBuilder, common: Common, relation: Relation, alias: string): { list: string; needsRows: boolean } {
  if (common.prefer.return === "representation") {
    // Filters already shaped the mutation; the returned rows only need the select list.
    const plan = planLevel(b, relation, alias, common.query.select, "", {
      skipFilters: true,
      starColumns: relation.columns.map((c) => c.name),
    });
    return { list: plan.selectList.join(", "), needsRows: true };
  }
  if (common.prefer.return === "headers-only" && relation.primaryKey.length) {
    return { list: relation.primaryKey.map((c) => `${alias}.${quoteIdent(c)}`).join(", "), needsRows: true };
  }
  return { list: "", needsRows: false };
}

function locationFor(relation: Relation): (row: Record<string, unknown>) => string {
  return (row) =>
    `/${encodeURIComponent(relation.name)}?` +
    relation.primaryKey.map((c) => `${encodeURIComponent(c)}=eq.${encodeURIComponent(String(row[c]))}`).join("&");
}

async function handleInsert(ctx: RestContext, req: IncomingMessage, common: Common, relation: Relation, raw: Buffer, upsertPut = false): Promise<Response> {
  const payload = parseJsonBody(raw);
  let rows: Record<string, unknown>[];
  if (Array.isArray(payload)) rows = payload as Record<string, unknown>[];
  else if (payload === undefined) rows = [{}];
  else rows = [payload as Record<string, unknown>];
  if (!rows.every((r) => typeof r === "object" && r !== null && !Array.isArray(r))) {
    throw new ApiError(400, "PGRST102", "Empty or invalid json");
  }
  const { columns, relation: rel } = await payloadColumns(ctx, relation, rows, common.query.columns);
  const cache = await ctx.cache.get();
  const b = new SqlBuilder(cache, common.query.levels);
  const alias = quoteIdent(relation.name);
  const target = qualified(rel.schema, rel.name);
  const colList = columns.map(quoteIdent).join(", ");
  let insert: string;
  if (common.prefer.missing === "default" && rows.length > 0) {
    // Keys missing from a row take the column default, so each row is its own VALUES tuple.
    const tuples = rows.map((r) => {
      const p = b.param(JSON.stringify(r));
      return `(${columns.map((c) => (c in r ? `(json_populate_record(null::${target}, ${p}::json)).${quoteIdent(c)}` : "DEFAULT")).join(", ")})`;
    });
    insert = `INSERT INTO ${target} AS ${alias}${columns.length ? ` (${colList})` : ""} ${columns.length ? `VALUES ${tuples.join(", ")}` : "DEFAULT VALUES"}`;
  } else {
    const p = b.param(JSON.stringify(rows));
    insert = `INSERT INTO ${target} AS ${alias}${columns.length ? ` (${colList})` : ""} SELECT ${colList} FROM json_populate_recordset(null::${target}, ${p}::json) AS pgrst_body`;
  }
  const resolution = upsertPut ? "merge-duplicates" : common.prefer.resolution;
  if (resolution) {
    const conflict = common.query.onConflict ?? rel.primaryKey;
    if (conflict.length === 0) {
      throw new ApiError(400, "PGRST100", `Table '${rel.name}' has no primary key; use on_conflict to name the conflict columns`);
    }
    // merge-duplicates sets every payload column from EXCLUDED (conflict columns included, as PostgREST does).
    insert += ` ON CONFLICT (${conflict.map(quoteIdent).join(", ")}) ` +
      (resolution === "merge-duplicates" && columns.length
        ? `DO UPDATE SET ${columns.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(", ")}`
        : "DO NOTHING");
  }
  const ret = returningSelect(b, common, rel, alias);
  const detectInserted = resolution === "merge-duplicates" && ret.needsRows;
  insert += ret.needsRows ? ` RETURNING ${alias}.*${detectInserted ? ", (xmax = 0) AS pgrst_inserted" : ""}` : " RETURNING 1";
  const body = ret.needsRows ? aggregate(common.accept.stripNulls, `(SELECT ${ret.list} FROM pgrst_source AS ${alias})`, common.accept.singular) : "NULL::text";
  // Upserts answer 200 when nothing was inserted (PostgREST #2926). With DO NOTHING every returned row is an
  // insert; merge-duplicates needs xmax, which is only read when rows are returned anyway (reading it would
  // otherwise subject a minimal insert to SELECT policies).
  const inserted = detectInserted
    ? `(SELECT count(*) FROM pgrst_source WHERE pgrst_inserted)`
    : resolution === "ignore-duplicates"
      ? "(SELECT count(*) FROM pgrst_source)"
      : "NULL::bigint";
  const sql = `WITH pgrst_source AS (${insert}) SELECT (SELECT count(*) FROM pgrst_source) AS total, (SELECT count(*) FROM pgrst_source) AS page, ${body} AS body, ${inserted} AS inserted`;
  const response = await runAndRespond(ctx, req, common, {
    readOnly: false, sql, params: b.params, kind: "insert", location: locationFor(rel), payloadRows: rows.length,
  });
  if (!common.prefer.count) {
    response.headers["Content-Range"] = "*/*";
  }
  return response;
}

/**
 * WHERE clause of a PATCH/DELETE. With limit/offset it becomes PostgREST's limited update/delete: only the
 * rows of the ordered, limited selection (by ctid, so tables only) are touched.
 */
function mutationWhere(b: SqlBuilder, common: Common, relation: Relation, alias: string): string {
  const root = common.query.levels.get("") ?? { filters: [] };
  const limited = root.limit !== undefined || root.offset !== undefined;
  const plan = planLevel(b, relation, alias, [], "", { skipOrder: !limited });
  const conditions = plan.conditions.length ? ` WHERE ${plan.conditions.join(" AND ")}` : "";
  if (!limited) return conditions;
  const target = qualified(relation.schema, relation.name);
  const order = plan.orderBy.length ? ` ORDER BY ${plan.orderBy.join(", ")}` : "";
  const limit = root.limit !== undefined ? ` LIMIT ${b.param(root.limit)}` : "";
  const offset = root.offset !== undefined ? ` OFFSET ${b.param(root.offset)}` : "";
  return ` WHERE ${alias}.ctid = ANY(ARRAY(SELECT ${alias}.ctid FROM ${target} AS ${alias}${conditions}${order}${limit}${offset}))`;
}

async function handleUpdate(ctx: RestContext, req: IncomingMessage, common: Common, relation: Relation, raw: Buffer): Promise<Response> {
  const payload = parseJsonBody(raw);
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw new ApiError(400, "PGRST102", "Empty or invalid json");
  }
  const row = payload as Record<string, unknown>;
  const { columns, relation: rel } = await payloadColumns(ctx, relation, [row], common.query.columns);
  const cache = await ctx.cache.get();
  const b = new SqlBuilder(cache, common.query.levels);
  const alias = quoteIdent(rel.name);
  const target = qualified(rel.schema, rel.name);
  const where = mutationWhere(b, common, rel, alias);
  const ret = returningSelect(b, common, rel, alias);
  let mutation: string;
  if (columns.length === 0) {
    // An empty body updates nothing (PostgREST answers with an empty result).
    // The filters stay in the text (under `false`) so every bound parameter is used and typed.
    mutation = `SELECT ${alias}.* FROM ${target} AS ${alias} WHERE false${where ? ` AND ${where.replace(/^ WHERE /, "")}` : ""}`;
  } else {
    const p = b.param(JSON.stringify(row));
    mutation = `UPDATE ${target} AS ${alias} SET ${columns.map((c) => `${quoteIdent(c)} = pgrst_body.${quoteIdent(c)}`).join(", ")} FROM (SELECT * FROM json_populate_record(null::${target}, ${p}::json)) AS pgrst_body${where} RETURNING ${ret.needsRows ? `${alias}.*` : "1"}`;
  }
  const body = ret.needsRows ? aggregate(common.accept.stripNulls, `(SELECT ${ret.list} FROM pgrst_source AS ${alias})`, common.accept.singular) : "NULL::text";
  const sql = `WITH pgrst_source AS (${mutation}) SELECT (SELECT count(*) FROM pgrst_source) AS total, (SELECT count(*) FROM pgrst_source) AS page, ${body} AS body`;
  const response = await runAndRespond(ctx, req, common, { readOnly: false, sql, params: b.params, kind: "update" });
  if (!common.prefer.count) response.headers["Content-Range"] = response.headers["Content-Range"].replace(/\/\d+$/, "/*");
  return response;
}

async function handleDelete(ctx: RestContext, req: IncomingMessage, common: Common, relation: Relation): Promise<Response> {
  const cache = await ctx.cache.get();
  const b = new SqlBuilder(cache, common.query.levels);
  const alias = quoteIdent(relation.name);
  const target = qualified(relation.schema, relation.name);
  const where = mutationWhere(b, common, relation, alias);
  const ret = returningSelect(b, common, relation, alias);
  const mutation = `DELETE FROM ${target} AS ${alias}${where} RETURNING ${ret.needsRows ? `${alias}.*` : "1"}`;
  const body = ret.needsRows ? aggregate(common.accept.stripNulls, `(SELECT ${ret.list} FROM pgrst_source AS ${alias})`, common.accept.singular) : "NULL::text";
  const sql = `WITH pgrst_source AS (${mutation}) SELECT (SELECT count(*) FROM pgrst_source) AS total, (SELECT count(*) FROM pgrst_source) AS page, ${body} AS body`;
  const response = await runAndRespond(ctx, req, common, { readOnly: false, sql, params: b.params, kind: "delete" });
  if (!common.prefer.count) response.headers["Content-Range"] = "*/*";
  return response;
}

// ------------------------------------------------------------------------------------------------ rpc

function inArgs(fn: DbFunction) {
  return fn.args.filter((a) => a.mode === "i" || a.mode === "b" || a.mode === "v");
}

function chooseFunction(overloads: DbFunction[], keys: string[], rawBodyAllowed: boolean): { fn: DbFunction; singleJson: boolean } | undefined {
  const exact: DbFunction[] = [];
  for (const fn of overloads) {
    const args = inArgs(fn);
    const names = new Set(args.map((a) => a.name));
    const required = args.filter((a) => !a.hasDefault).map((a) => a.name);
    if (keys.every((k) => names.has(k)) && required.every((r) => keys.includes(r)) && args.every((a) => a.name !== "" || a.hasDefault)) {
      exact.push(fn);
    }
  }
  if (exact.length > 0) {
    exact.sort((x, y) => inArgs(x).length - inArgs(y).length);
    return { fn: exact[0], singleJson: false };
  }
  if (rawBodyAllowed) {
    for (const fn of overloads) {
      const args = inArgs(fn);
      if (args.length === 1 && args[0].name === "" && (args[0].type === "json" || args[0].type === "jsonb")) {
        return { fn, singleJson: true };
      }
    }
  }
  return undefined;
}

async function handleRpc(ctx: RestContext, req: IncomingMessage, common: Common, name: string, raw: Buffer | undefined, params: URLSearchParams): Promise<Response> {
  const key = `${common.schema}.${name}`;
  let cache = await ctx.cache.get();
  if (!cache.functions.has(key)) cache = await ctx.cache.reload();
  const overloads = cache.functions.get(key) ?? [];
  let args: Record<string, unknown>;
  let query: ParsedQuery;
  const argNames = new Set(overloads.flatMap((f) => inArgs(f).map((a) => a.name)).filter((n) => n !== ""));
  if (common.method === "POST") {
    query = common.query;
    const payload = raw ? parseJsonBody(raw) : undefined;
    // An array body can only go whole to a single unnamed json/jsonb parameter (chooseFunction decides).
    if (payload !== undefined && !Array.isArray(payload) && (typeof payload !== "object" || payload === null)) {
      throw new ApiError(400, "PGRST102", "Empty or invalid json");
    }
    args = (payload ?? {}) as Record<string, unknown>;
  } else {
    query = parseQuery(params, argNames);
    args = Object.fromEntries(query.rpcArgs);
  }
  const keys = Array.isArray(args) ? [] : Object.keys(args);
  const chosen = common.prefer.singleObject
    ? overloads.find((f) => inArgs(f).length === 1) && { fn: overloads.find((f) => inArgs(f).length === 1)!, singleJson: true }
    : chooseFunction(overloads, keys, common.method === "POST");
  if (!chosen) {
    const sortedKeys = [...keys].sort();
    const similar = [...cache.functions.keys()].find((k) => k.startsWith(`${common.schema}.`) && (k.includes(name) || key.includes(k.slice(common.schema.length + 1))) && k !== key);
    throw new ApiError(
      404,
      "PGRST202",
      `Could not find the function ${key}${sortedKeys.length ? `(${sortedKeys.join(", ")})` : " without parameters"} in the schema cache`,
      `Searched for the function ${key}${sortedKeys.length ? ` with parameters ${sortedKeys.join(", ")}` : " without parameters"} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
      similar ? `Perhaps you meant to call the function ${similar}` : null,
    );
  }
  const { fn, singleJson } = chosen;
  const b = new SqlBuilder(cache, query.levels);
  let call: string;
  let argsFrom = "";
  if (singleJson) {
    call = `${qualified(fn.schema, fn.name)}(${b.param(JSON.stringify(args))}::${fn.args[0].type === "jsonb" ? "jsonb" : "json"})`;
  } else {
    const used = inArgs(fn).filter((a) => keys.includes(a.name));
    if (used.length) {
      // json_to_record converts each JSON value with the argument type's own input rules, as PostgREST does.
      argsFrom = `json_to_record(${b.param(JSON.stringify(args))}::json) AS pgrst_args(${used.map((a) => `${quoteIdent(a.name)} ${a.type}`).join(", ")}), LATERAL `;
    }
    call = `${qualified(fn.schema, fn.name)}(${used.map((a) => `${a.mode === "v" ? "VARIADIC " : ""}${quoteIdent(a.name)} := pgrst_args.${quoteIdent(a.name)}`).join(", ")})`;
  }
  const readOnly = common.method !== "POST" || fn.volatility !== "v";
  const composite = fn.returnTypeKind === "c";
  const alias = quoteIdent(fn.name);
  let sql: string;
  const root = query.levels.get("") ?? { filters: [] };
  if (composite) {
    const relation: Relation | undefined = fn.returnRelation ? cache.relations.get(`${fn.returnRelation.schema}.${fn.returnRelation.name}`) : undefined;
    const plan = planLevel(b, relation, alias, query.select, "");
    const where = plan.conditions.length ? ` WHERE ${plan.conditions.join(" AND ")}` : "";
    const from = `${argsFrom}${call} AS ${alias}`;
    const limit = root.limit !== undefined ? ` LIMIT ${b.param(root.limit)}` : "";
    const offset = root.offset !== undefined ? ` OFFSET ${b.param(root.offset)}` : "";
    const source = `SELECT ${plan.selectList.join(", ")} FROM ${from}${where}${plan.orderBy.length ? ` ORDER BY ${plan.orderBy.join(", ")}` : ""}${limit}${offset}`;
    const total = common.prefer.count ? `(SELECT count(*) FROM ${from}${where})` : "NULL::bigint";
    const singular = common.accept.singular || !fn.returnsSet;
    const body = common.head ? "NULL::text" : aggregate(common.accept.stripNulls, "pgrst_source", singular);
    sql = `WITH pgrst_source AS (${source}) SELECT ${total} AS total, (SELECT count(*) FROM pgrst_source) AS page, ${body} AS body`;
  } else {
    const from = `${argsFrom}${call} AS pgrst_scalar`;
    const source = `SELECT pgrst_scalar FROM ${from}`;
    let body: string;
    if (fn.returnsVoid || common.head) body = "NULL::text";
    else if (fn.returnsSet) body = `COALESCE((SELECT json_agg(pgrst_scalar) FROM pgrst_source), '[]')::text`;
    else body = `COALESCE((SELECT to_json(pgrst_scalar) FROM pgrst_source LIMIT 1), 'null')::text`;
    sql = `WITH pgrst_source AS (${source}) SELECT ${common.prefer.count ? "(SELECT count(*) FROM pgrst_source)" : "NULL::bigint"} AS total, (SELECT count(*) FROM pgrst_source) AS page, ${body} AS body`;
  }
  const response = await runAndRespond(ctx, req, { ...common, query, accept: { ...common.accept, singular: composite && (common.accept.singular || !fn.returnsSet) } }, {
    readOnly,
    sql,
    params: b.params,
    kind: "rpc",
    rpcVoid: fn.returnsVoid,
    rpcScalar: !composite,
  });
  if (composite && !fn.returnsSet && !common.accept.singular) response.headers["Content-Type"] = "application/json; charset=utf-8";
  return response;
}

// -------------------------------------------------------------------------------------------- entry

export async function handleRest(ctx: RestContext, req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
  let response: Response;
  try {
    response = await route(ctx, req, rest);
  } catch (err) {
    if (err instanceof RequestAbortedError) {
      res.destroy();
      return;
    }
    if (err instanceof BodyTooLargeError) {
      response = errorResponse(new ApiError(413, "PGRST413", "Payload Too Large", `The request body exceeds the limit of ${err.limit} bytes`));
    } else if (err instanceof ApiError) {
      response = errorResponse(err);
    } else {
      console.error("[gateway] rest handler failed:", err);
      response = errorResponse(new ApiError(500, "PGRST000", "Internal gateway error", String((err as Error)?.message ?? err)));
    }
    if (response.status === 401 && !response.headers["WWW-Authenticate"]) response.headers["WWW-Authenticate"] = "Bearer";
  }
  if (req.method === "HEAD") response.body = undefined;
  send(res, response.status, response.headers, response.body);
}

function errorResponse(err: ApiError): Response {
  return {
    status: err.status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Proxy-Status": `PostgREST; error=${err.code}`, ...err.headers },
    body: err.body(),
  };
}

/**
 * A relationship missing from the cache may come from a migration applied after the last load: reload
 * once and plan again (the error is raised while planning, before anything ran in the database).
 */
async function withRelationshipRetry(ctx: RestContext, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== "PGRST200") throw err;
    await ctx.cache.reload();
    return run();
  }
}

async function route(ctx: RestContext, req: IncomingMessage, rest: string): Promise<Response> {
  const method = (req.method ?? "GET").toUpperCase();
  // Concatenate rather than resolve, so a path like `//x` stays a path instead of becoming a host.
  let url: URL;
  try {
    url = new URL(`http://localhost${rest}`);
  } catch {
    throw new ApiError(404, "PGRST125", "Invalid path specified in request URL");
  }
  const target = parsePath(url.pathname);
  const readMethod = method === "GET" || method === "HEAD";
  const profileName = readMethod ? "accept-profile" : "content-profile";
  const profile = headerValue(req, profileName);
  const schema = profile ?? EXPOSED_SCHEMAS[0];
  if (!EXPOSED_SCHEMAS.includes(schema)) {
    throw new ApiError(406, "PGRST106", `Invalid schema: ${schema}`, null, `Only the following schemas are exposed: ${EXPOSED_SCHEMAS.join(", ")}`);
  }
  const auth = authenticate(headerValue(req, "authorization"), ctx.jwtSecret);
  if (target === "root") {
    if (!readMethod) throw new ApiError(405, "PGRST117", `Unsupported HTTP method: ${method}`);
    const cache = await ctx.cache.reload();
    const paths: Record<string, object> = {};
    for (const r of cache.relations.values()) if (r.schema === schema) paths[`/${r.name}`] = {};
    for (const [k] of cache.functions) if (k.startsWith(`${schema}.`)) paths[`/rpc/${k.slice(schema.length + 1)}`] = {};
    return {
      status: 200,
      headers: { "Content-Type": "application/openapi+json; charset=utf-8" },
      body: JSON.stringify({ swagger: "2.0", info: { title: "leadloop local REST", version: "12" }, paths }),
    };
  }
  const { prefer, applied } = parsePrefer(headerValue(req, "prefer"));
  const accept = parseAccept(headerValue(req, "accept"));
  const common: Omit<Common, "query"> = {
    schema,
    profileHeader: profile !== undefined,
    auth,
    prefer,
    applied,
    accept,
    head: method === "HEAD",
    path: url.pathname,
    method,
  };
  if (target.kind === "rpc") {
    if (method !== "GET" && method !== "HEAD" && method !== "POST") {
      throw new ApiError(405, "PGRST101", `Cannot use the ${method} method on RPC`);
    }
    const raw = method === "POST" ? await readBody(req, ctx.bodyLimit) : undefined;
    const query = method === "POST" ? parseQuery(url.searchParams, undefined) : { select: [{ kind: "star" as const }], levels: new Map(), rpcArgs: new Map() };
    return withRelationshipRetry(ctx, () => handleRpc(ctx, req, { ...common, query }, target.name, raw, url.searchParams));
  }
  const query = parseQuery(url.searchParams, undefined);
  const full: Common = { ...common, query };
  if (method === "POST" || method === "PUT" || method === "PATCH") {
    const raw = await readBody(req, ctx.bodyLimit);
    return withRelationshipRetry(ctx, async () => {
      const relation = await findRelation(ctx.cache, schema, target.name);
      if (method === "PATCH") return handleUpdate(ctx, req, full, relation, raw);
      return handleInsert(ctx, req, full, relation, raw, method === "PUT");
    });
  }
  switch (method) {
    case "GET":
    case "HEAD":
      return withRelationshipRetry(ctx, async () => handleRead(ctx, req, full, await findRelation(ctx.cache, schema, target.name)));
    case "DELETE":
      return withRelationshipRetry(ctx, async () => handleDelete(ctx, req, full, await findRelation(ctx.cache, schema, target.name)));
    default:
      throw new ApiError(405, "PGRST117", `Unsupported HTTP method: ${method}`);
  }
}
