// /rpc/<name>: PostgREST's overload choice by argument names, arguments converted by json_to_record,
// scalar, composite and set-returning results shaped as PostgREST shapes them.
import type { IncomingMessage } from "node:http";
import { ApiError } from "./errors.ts";
import type { RestContext } from "./handler.ts";
import type { DbFunction, Relation } from "./catalog.ts";
import { qualified, quoteIdent, SqlBuilder } from "./query.ts";
import { aggregate, runAndRespond, type Response } from "./render.ts";
import { parseJsonBody, parseQuery, type Common, type ParsedQuery } from "./request.ts";
import { groupBy, planLevel, selectList } from "./select.ts";

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

export async function handleRpc(ctx: RestContext, req: IncomingMessage, common: Common, name: string, raw: Buffer | undefined, params: URLSearchParams): Promise<Response> {
  const key = `${common.schema}.${name}`;
  let cache = await ctx.cache.get();
  if (!cache.functions.has(key)) cache = await ctx.cache.refresh();
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
    // A repeated argument is an array for a variadic parameter; otherwise the last one counts (PostgREST).
    const variadic = new Set(overloads.flatMap((f) => inArgs(f).filter((a) => a.mode === "v").map((a) => a.name)));
    args = Object.fromEntries([...query.rpcArgs].map(([k, values]) => [k, variadic.has(k) ? values : values[values.length - 1]]));
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
  let countQuery: string | undefined;
  const root = query.levels.get("") ?? { filters: [] };
  if (composite) {
    // Rows of a table type or of TABLE(...)/OUT columns: select, filters, order and paging apply to them.
    const relation: Relation | undefined = fn.returnRelation ? cache.relations.get(`${fn.returnRelation.schema}.${fn.returnRelation.name}`) : undefined;
    const plan = planLevel(b, { relation, alias, columns: fn.outputColumns }, query.select, "");
    const where = plan.conditions.length ? ` WHERE ${plan.conditions.join(" AND ")}` : "";
    const from = `${argsFrom}${call} AS ${alias}`;
    const limit = root.limit !== undefined ? ` LIMIT ${b.param(root.limit)}` : "";
    const offset = root.offset !== undefined ? ` OFFSET ${b.param(root.offset)}` : "";
    const source = `SELECT ${selectList(plan)} FROM ${from}${where}${groupBy(plan)}${plan.orderBy.length ? ` ORDER BY ${plan.orderBy.join(", ")}` : ""}${limit}${offset}`;
    countQuery = `SELECT 1 FROM ${from}${where}`;
    const total = common.prefer.count === "exact" || common.prefer.count === "estimated" ? `(SELECT count(*) FROM ${from}${where})` : "NULL::bigint";
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
    builder: b,
    sql,
    countQuery,
    kind: "rpc",
    rpcVoid: fn.returnsVoid,
    rpcScalar: !composite,
  });
  if (composite && !fn.returnsSet && !common.accept.singular) response.headers["Content-Type"] = "application/json; charset=utf-8";
  return response;
}
