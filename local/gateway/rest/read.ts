// GET and HEAD on a table or view: one statement that pages, counts and aggregates the rows.
import type { IncomingMessage } from "node:http";
import type { RestContext } from "./handler.ts";
import { planLevel, qualified, quoteIdent, SqlBuilder } from "./query.ts";
import { aggregate, runAndRespond, type Response } from "./render.ts";
import { rangeFromHeader, type Common } from "./request.ts";
import type { Relation } from "./schema-cache.ts";

const MAX_ROWS = 1000;

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
