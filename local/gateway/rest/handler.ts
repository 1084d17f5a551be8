// PostgREST v12/v13 behaviour for /rest/v1 (docs/supabase-standin-spec.md §1): the entry point routes a
// request to a read, a mutation or an rpc, each run in one transaction (transaction.ts), and renders
// errors as PostgREST does. The pieces: request.ts (what is asked), read.ts, mutate.ts, rpc.ts (the SQL),
// render.ts (the response), schema-cache.ts (what exists).
import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";
import { BodyTooLargeError, readBody, RequestAbortedError, send } from "../http.ts";
import { ApiError, internalError } from "./errors.ts";
import { handleDelete, handleInsert, handleUpdate } from "./mutate.ts";
import { handleRead } from "./read.ts";
import { errorResponse, type Response } from "./render.ts";
import { authenticate, headerValue, parseAccept, parsePath, parsePrefer, parseQuery, type Common } from "./request.ts";
import { handleRpc } from "./rpc.ts";
import { findRelation, type SchemaCache } from "./schema-cache.ts";

export interface RestContext {
  pool: pg.Pool;
  cache: SchemaCache;
  jwtSecret: string;
  bodyLimit: number;
}

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
      response = errorResponse(internalError());
    }
    if (response.status === 401 && !response.headers["WWW-Authenticate"]) response.headers["WWW-Authenticate"] = "Bearer";
  }
  if (req.method === "HEAD") response.body = undefined;
  send(res, response.status, response.headers, response.body);
}

/**
 * A relationship missing from the cache may come from a migration applied after the last load: refresh
 * the cache (at most one catalog read a second) and plan again (the error is raised while planning,
 * before anything ran in the database).
 */
async function withRelationshipRetry(ctx: RestContext, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== "PGRST200") throw err;
    await ctx.cache.refresh();
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
  const schemas = ctx.cache.api.schemas;
  const schema = profile ?? schemas[0];
  if (!schemas.includes(schema)) {
    throw new ApiError(406, "PGRST106", `Invalid schema: ${schema}`, null, `Only the following schemas are exposed: ${schemas.join(", ")}`);
  }
  const auth = authenticate(headerValue(req, "authorization"), ctx.jwtSecret);
  if (target === "root") {
    if (!readMethod) throw new ApiError(405, "PGRST117", `Unsupported HTTP method: ${method}`);
    const cache = await ctx.cache.refresh();
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
  const accept = parseAccept(headerValue(req, "accept"), (await ctx.cache.get()).config.planEnabled);
  const common: Omit<Common, "query"> = {
    schema,
    profileNegotiated: profile !== undefined || schemas.length !== 1,
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
