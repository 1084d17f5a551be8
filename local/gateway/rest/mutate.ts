// POST (insert and upsert), PUT, PATCH and DELETE: the payload becomes json_populate_record(set) so
// every value takes the column type's own input rules, and RETURNING feeds Prefer: return=...
import type { IncomingMessage } from "node:http";
import { ApiError } from "./errors.ts";
import type { RestContext } from "./handler.ts";
import type { Relation } from "./catalog.ts";
import { qualified, quoteIdent, SqlBuilder } from "./query.ts";
import { aggregate, runAndRespond, type Response } from "./render.ts";
import { parseJsonBody, type Common } from "./request.ts";
import { groupBy, planLevel, selectList } from "./select.ts";

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
    const data = await ctx.cache.refresh();
    rel = data.relations.get(`${relation.schema}.${relation.name}`) ?? rel;
    missing = columns.find((c) => !rel.columns.some((col) => col.name === c));
  }
  if (missing !== undefined) {
    throw new ApiError(400, "PGRST204", `Could not find the '${missing}' column of '${relation.name}' in the schema cache`);
  }
  return { columns, relation: rel };
}

/** What the returned rows are selected with: `SELECT … FROM pgrst_source AS alias` plus its GROUP BY. */
function returningSelect(b: SqlBuilder, common: Common, relation: Relation, alias: string): { list: string; group: string; needsRows: boolean } {
  if (common.prefer.return === "representation") {
    // Filters already shaped the mutation; the returned rows only need the select list. Computed
    // relationships take the row as the table's type (pgrst_source's rows are anonymous records).
    const rowExpr = `ROW(${relation.columns.map((c) => `${alias}.${quoteIdent(c.name)}`).join(", ")})::${qualified(relation.schema, relation.name)}`;
    const plan = planLevel(b, { relation, alias, rowExpr }, common.query.select, "", { skipFilters: true });
    return { list: selectList(plan), group: groupBy(plan), needsRows: true };
  }
  if (common.prefer.return === "headers-only" && relation.primaryKey.length) {
    return { list: relation.primaryKey.map((c) => `${alias}.${quoteIdent(c)}`).join(", "), group: "", needsRows: true };
  }
  return { list: "", group: "", needsRows: false };
}

function locationFor(relation: Relation): (row: Record<string, unknown>) => string {
  return (row) =>
    `/${encodeURIComponent(relation.name)}?` +
    relation.primaryKey.map((c) => `${encodeURIComponent(c)}=eq.${encodeURIComponent(String(row[c]))}`).join("&");
}

export async function handleInsert(ctx: RestContext, req: IncomingMessage, common: Common, relation: Relation, raw: Buffer, upsertPut = false): Promise<Response> {
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
  const body = ret.needsRows ? aggregate(common.accept.stripNulls, `(SELECT ${ret.list} FROM pgrst_source AS ${alias}${ret.group})`, common.accept.singular) : "NULL::text";
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
    readOnly: false, builder: b, sql, kind: "insert", location: locationFor(rel), payloadRows: rows.length,
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
  const plan = planLevel(b, { relation, alias }, [], "", { skipOrder: !limited });
  const conditions = plan.conditions.length ? ` WHERE ${plan.conditions.join(" AND ")}` : "";
  if (!limited) return conditions;
  const target = qualified(relation.schema, relation.name);
  const order = plan.orderBy.length ? ` ORDER BY ${plan.orderBy.join(", ")}` : "";
  const limit = root.limit !== undefined ? ` LIMIT ${b.param(root.limit)}` : "";
  const offset = root.offset !== undefined ? ` OFFSET ${b.param(root.offset)}` : "";
  return ` WHERE ${alias}.ctid = ANY(ARRAY(SELECT ${alias}.ctid FROM ${target} AS ${alias}${conditions}${order}${limit}${offset}))`;
}

export async function handleUpdate(ctx: RestContext, req: IncomingMessage, common: Common, relation: Relation, raw: Buffer): Promise<Response> {
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
    mutation = `SELECT ${alias}.* FROM ${target} AS ${alias} WHERE false`;
  } else {
    const p = b.param(JSON.stringify(row));
    mutation = `UPDATE ${target} AS ${alias} SET ${columns.map((c) => `${quoteIdent(c)} = pgrst_body.${quoteIdent(c)}`).join(", ")} FROM (SELECT * FROM json_populate_record(null::${target}, ${p}::json)) AS pgrst_body${where} RETURNING ${ret.needsRows ? `${alias}.*` : "1"}`;
  }
  const body = ret.needsRows ? aggregate(common.accept.stripNulls, `(SELECT ${ret.list} FROM pgrst_source AS ${alias}${ret.group})`, common.accept.singular) : "NULL::text";
  const sql = `WITH pgrst_source AS (${mutation}) SELECT (SELECT count(*) FROM pgrst_source) AS total, (SELECT count(*) FROM pgrst_source) AS page, ${body} AS body`;
  const response = await runAndRespond(ctx, req, common, { readOnly: false, builder: b, sql, kind: "update" });
  if (!common.prefer.count) response.headers["Content-Range"] = response.headers["Content-Range"].replace(/\/\d+$/, "/*");
  return response;
}

export async function handleDelete(ctx: RestContext, req: IncomingMessage, common: Common, relation: Relation): Promise<Response> {
  const cache = await ctx.cache.get();
  const b = new SqlBuilder(cache, common.query.levels);
  const alias = quoteIdent(relation.name);
  const target = qualified(relation.schema, relation.name);
  const where = mutationWhere(b, common, relation, alias);
  const ret = returningSelect(b, common, relation, alias);
  const mutation = `DELETE FROM ${target} AS ${alias}${where} RETURNING ${ret.needsRows ? `${alias}.*` : "1"}`;
  const body = ret.needsRows ? aggregate(common.accept.stripNulls, `(SELECT ${ret.list} FROM pgrst_source AS ${alias}${ret.group})`, common.accept.singular) : "NULL::text";
  const sql = `WITH pgrst_source AS (${mutation}) SELECT (SELECT count(*) FROM pgrst_source) AS total, (SELECT count(*) FROM pgrst_source) AS page, ${body} AS body`;
  const response = await runAndRespond(ctx, req, common, { readOnly: false, builder: b, sql, kind: "delete" });
  if (!common.prefer.count) response.headers["Content-Range"] = "*/*";
  return response;
}
