// What a /rest/v1 request asks for, read from its path, query string and headers: the target, the
// Prefer and Accept headers, the caller's role from the JWT, and the filters of every embed level.
import type { IncomingMessage } from "node:http";
import { bearerToken, checkTimeClaims, JwtError, verifyJwt, type JwtClaims } from "../jwt.ts";
import { ApiError } from "./errors.ts";
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
import type { LevelOptions } from "./query.ts";

export const ANON_ROLE = "anon";

export interface Prefer {
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

export function parsePrefer(header: string | undefined): { prefer: Prefer; applied: string[] } {
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

export interface Accept {
  singular: boolean;
  stripNulls: boolean;
  csv?: boolean;
}

export function parseAccept(header: string | undefined): Accept {
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

export interface Auth {
  role: string;
  claims: JwtClaims;
}

/**
 * Tokens whose signature was verified, with the Auth they give: the same few keys and session tokens come
 * with every request, and an HMAC per request costs more than the rest of the request's parsing. Only
 * verified tokens enter (nobody can fill it without the secret); the time claims are checked on every use.
 */
const verifiedTokens = new Map<string, { secret: string; auth: Auth }>();
const MAX_VERIFIED_TOKENS = 1000;

export function authenticate(authorization: string | undefined, secret: string): Auth {
  const token = bearerToken(authorization);
  if (token === undefined) return { role: ANON_ROLE, claims: { role: ANON_ROLE } };
  try {
    const known = verifiedTokens.get(token);
    if (known && known.secret === secret) {
      checkTimeClaims(known.auth.claims);
      return known.auth;
    }
    const claims = verifyJwt(token, secret);
    const role = typeof claims.role === "string" && claims.role !== "" ? claims.role : ANON_ROLE;
    const auth = { role, claims: { ...claims, role } };
    if (verifiedTokens.size >= MAX_VERIFIED_TOKENS) verifiedTokens.clear();
    verifiedTokens.set(token, { secret, auth });
    return auth;
  } catch (err) {
    if (err instanceof JwtError) {
      throw new ApiError(401, err.code, err.message, null, null, {
        "WWW-Authenticate": `Bearer error="invalid_token", error_description="${err.message}"`,
      });
    }
    throw err;
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

export interface Common {
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

export interface ParsedQuery {
  select: SelectItem[];
  levels: Map<string, LevelOptions>;
  columns?: string[];
  onConflict?: string[];
  /** Query params that did not parse as filters (rpc GET/HEAD arguments). */
  rpcArgs: Map<string, string>;
}

const RESERVED_TAILS = new Set(["order", "limit", "offset", "or", "and"]);

export function parseQuery(params: URLSearchParams, rpcArgNames: Set<string> | undefined): ParsedQuery {
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

export function rangeFromHeader(req: IncomingMessage): { offset: number; limit?: number } | undefined {
  const range = headerValue(req, "range");
  if (!range) return undefined;
  const m = /^(?:items=)?(\d+)-(\d*)$/.exec(range.trim());
  if (!m) return undefined;
  const from = Number(m[1]);
  return { offset: from, limit: m[2] === "" ? undefined : Math.max(0, Number(m[2]) - from + 1) };
}

export interface Target {
  kind: "relation" | "rpc";
  name: string;
}

export function parsePath(pathname: string): Target | "root" {
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

export function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "PGRST102", "Empty or invalid json");
  }
}
