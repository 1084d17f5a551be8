// PostgREST's response rules (docs/supabase-standin-spec.md §1.7): one SQL statement per request that
// yields total, page and body; status codes, Content-Range, Preference-Applied, response GUCs, CSV,
// planned and estimated counts and EXPLAIN plans.
import type { IncomingMessage } from "node:http";
import { ApiError } from "./errors.ts";
import type { RestContext } from "./handler.ts";
import type { Row } from "./batch.ts";
import type { SqlBuilder } from "./query.ts";
import { planMediaType, type Common } from "./request.ts";
import { runStatements } from "./transaction.ts";

export interface Response {
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

export function aggregate(stripNulls: boolean, source: string, singular: boolean): string {
  if (singular) {
    const row = `(SELECT row_to_json(pgrst_t) FROM ${source} AS pgrst_t LIMIT 1)`;
    return `${stripNulls ? `json_strip_nulls(${row})` : row}::text`;
  }
  const agg = `COALESCE((SELECT json_agg(pgrst_t) FROM ${source} AS pgrst_t), '[]')`;
  return `${stripNulls ? `json_strip_nulls(${agg})` : agg}::text`;
}

function contentRange(first: number, rows: number, total: number | undefined): string {
  const totalText = total === undefined ? "*" : String(total);
  return rows > 0 ? `${first}-${first + rows - 1}/${totalText}` : `*/${totalText}`;
}

/** The "Plan Rows" estimate of an `EXPLAIN (FORMAT JSON)` row. */
function plannedRows(rows: Row[]): number | undefined {
  try {
    const plan = JSON.parse(rows[0]?.["QUERY PLAN"] ?? "null") as { Plan?: { "Plan Rows"?: number } }[];
    const n = plan?.[0]?.Plan?.["Plan Rows"];
    return typeof n === "number" ? n : undefined;
  } catch {
    return undefined;
  }
}

export interface StatementPlan {
  readOnly: boolean;
  /** Builds the parameters of `sql` and `countQuery`. */
  builder: SqlBuilder;
  /** One statement yielding one row: total, page, body (and `inserted` for upserts). */
  sql: string;
  kind: "read" | "insert" | "update" | "delete" | "rpc";
  /** `SELECT 1 FROM … WHERE …`: what Prefer: count=planned|estimated asks the planner about. */
  countQuery?: string;
  offset?: number;
  rpcVoid?: boolean;
  rpcScalar?: boolean;
  location?: (row: Record<string, unknown>) => string;
  payloadRows?: number;
}

export async function runAndRespond(ctx: RestContext, req: IncomingMessage, common: Common, plan: StatementPlan): Promise<Response> {
  const { prefer, accept } = common;
  const cache = await ctx.cache.get();
  const txOptions = {
    readOnly: plan.readOnly,
    auth: common.auth,
    schema: common.schema,
    method: common.method,
    path: common.path,
    req,
    timezone: prefer.timezone,
    rollback: prefer.tx === "rollback",
    extraSearchPath: cache.api.extraSearchPath,
  };
  // response.status / response.headers may be set by the SQL the request ran (PostgREST's response GUCs).
  const text = `${plan.sql}, nullif(current_setting('response.headers', true), '') AS response_headers, nullif(current_setting('response.status', true), '') AS response_status`;
  if (accept.plan) {
    // Accept: application/vnd.pgrst.plan: the statement's EXPLAIN instead of its result (db-plan-enabled only).
    const options = [accept.plan.format === "json" ? "FORMAT JSON" : "FORMAT TEXT", ...accept.plan.options.map((o) => o.toUpperCase())];
    const { rows } = await runStatements(ctx, txOptions, plan.builder.render(`EXPLAIN (${options.join(", ")}) ${text}`));
    const headers: Record<string, string> = { "Content-Type": `${planMediaType(accept.plan)}; charset=utf-8` };
    if (common.profileNegotiated) headers["Content-Profile"] = common.schema;
    return { status: 200, headers, body: rows.map((r) => r["QUERY PLAN"]).join("\n") + "\n" };
  }
  const singularCheck = accept.singular && !(plan.kind === "rpc" && plan.rpcScalar);
  const maxAffectedCheck = prefer.handling === "strict" && prefer.maxAffected !== undefined && plan.kind !== "read";
  const planned = plan.countQuery !== undefined && (prefer.count === "planned" || prefer.count === "estimated");
  // The statement's one row, every column as text: total, page, body, [inserted], and the response GUCs.
  const result = await runStatements(
    ctx,
    txOptions,
    plan.builder.render(text),
    planned ? [plan.builder.render(`EXPLAIN (FORMAT JSON) ${plan.countQuery}`)] : [],
    singularCheck || maxAffectedCheck
      ? (rows) => {
          const page = Number(rows[0].page);
          if (singularCheck && page !== 1) throw singularError(page);
          if (maxAffectedCheck && page > prefer.maxAffected!) {
            throw new ApiError(400, "PGRST124", "Query result exceeds max-affected preference constraint", `The query affects ${page} rows`);
          }
        }
      : undefined,
  );
  const row = result.rows[0];
  const page = Number(row.page);
  let total = row.total === null ? undefined : Number(row.total);
  if (planned) {
    // planned: the planner's estimate; estimated: exact up to db-max-rows, past it the larger of both.
    const estimate = plannedRows(result.extra[0]);
    const maxRows = cache.api.maxRows;
    if (prefer.count === "planned") total = estimate;
    else if (total !== undefined && maxRows !== undefined && total > maxRows) total = Math.max(total, estimate ?? 0);
  }
  const headers: Record<string, string> = {};
  const applied = common.applied.filter((a) => !a.startsWith("return=") || plan.kind !== "read");
  if (applied.length) headers["Preference-Applied"] = applied.join(", ");
  const withBody = (status: number): Response => {
    if (common.profileNegotiated) headers["Content-Profile"] = common.schema;
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

export function errorResponse(err: ApiError): Response {
  return {
    status: err.status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Proxy-Status": `PostgREST; error=${err.code}`, ...err.headers },
    body: err.body(),
  };
}
