// GET and HEAD on a table or view: one statement that pages, counts and aggregates the rows.
import type { IncomingMessage } from "node:http";
import type { Relation } from "./catalog.ts";
import type { RestContext } from "./handler.ts";
import { qualified, quoteIdent, SqlBuilder } from "./query.ts";
import { aggregate, runAndRespond, type Response } from "./render.ts";
import { rangeFromHeader, type Common } from "./request.ts";
import { groupBy, planLevel, selectList } from "./select.ts";

export async function handleRead(
  ctx: RestContext,
  req: IncomingMessage,
  common: Common,
  relation: Relation,
): Promise<Response> {
  const { query, prefer, accept, head } = common;
  const cache = await ctx.cache.get();
  const b = new SqlBuilder(cache, query.levels);
  const alias = quoteIdent(relation.name);
  const plan = planLevel(b, { relation, alias }, query.select, "");
  const root = query.levels.get("") ?? { filters: [] };
  const headerRange = rangeFromHeader(req);
  const offset = root.offset ?? headerRange?.offset ?? 0;
  // db-max-rows caps the page when no smaller limit is asked for.
  const maxRows = cache.api.maxRows;
  let limit = root.limit ?? headerRange?.limit;
  if (maxRows !== undefined && (limit === undefined || limit > maxRows)) limit = maxRows;
  const from = `${qualified(relation.schema, relation.name)} AS ${alias}`;
  const where = plan.conditions.length ? ` WHERE ${plan.conditions.join(" AND ")}` : "";
  const orderBy = plan.orderBy.length ? ` ORDER BY ${plan.orderBy.join(", ")}` : "";
  const page = `${limit !== undefined ? ` LIMIT ${b.param(limit)}` : ""} OFFSET ${b.param(offset)}`;
  const source = `SELECT ${selectList(plan)} FROM ${from}${where}${groupBy(plan)}${orderBy}${page}`;
  // The count is of the rows the filters keep (aggregates group them afterwards, as in PostgREST).
  const countQuery = `SELECT 1 FROM ${from}${where}`;
  let total = "NULL::bigint";
  if (prefer.count === "exact") total = `(SELECT count(*) FROM ${from}${where})`;
  // estimated counts exactly up to db-max-rows (one more shows it was passed); the planner says the rest.
  if (prefer.count === "estimated") total = `(SELECT count(*) FROM (${countQuery}${maxRows !== undefined ? ` LIMIT ${maxRows + 1}` : ""}) AS pgrst_count)`;
  const body = head ? "NULL::text" : aggregate(accept.stripNulls, "pgrst_source", accept.singular);
  const sql = `WITH pgrst_source AS (${source}) SELECT ${total} AS total, (SELECT count(*) FROM pgrst_source) AS page, ${body} AS body`;
  return runAndRespond(ctx, req, common, { readOnly: true, builder: b, sql, kind: "read", offset, countQuery });
}
