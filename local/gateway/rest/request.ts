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

/** Accept: application/vnd.pgrst.plan[+text|+json]; for="…"; options=analyze|verbose|settings|buffers|wal */
export interface PlanRequest {
  format: "text" | "json";
  options: string[];
  /** The media type whose query is explained, as PostgREST names it. */
  forType: string;
}

export interface Accept {
  singular: boolean;
  stripNulls: boolean;
  csv?: boolean;
  plan?: PlanRequest;
}

const PLAN_OPTIONS = ["analyze", "verbose", "settings", "buffers", "wal"];

/** Splits on `separator` outside double quotes. */
function splitUnquoted(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

interface MediaType {
  type: string;
  params: Map<string, string>;
}

function parseMediaType(text: string): MediaType {
  const [type, ...rest] = splitUnquoted(text, ";");
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf("=");
    if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1"));
  }
  return { type: (type ?? "").toLowerCase(), params };
}

/** A non-plan media type as PostgREST answers it, or undefined when it produces no such thing. */
function dataMediaType(mt: MediaType): { accept: Accept; mime: string } | undefined {
  const stripNulls = mt.params.get("nulls") === "stripped";
  switch (mt.type) {
    case "application/vnd.pgrst.object+json":
    case "application/vnd.pgrst.object":
      return { accept: { singular: true, stripNulls }, mime: `application/vnd.pgrst.object+json${stripNulls ? ";nulls=stripped" : ""}` };
    case "application/vnd.pgrst.array+json":
    case "application/vnd.pgrst.array":
      return { accept: { singular: false, stripNulls }, mime: stripNulls ? "application/vnd.pgrst.array+json;nulls=stripped" : "application/json" };
    case "text/csv":
      return { accept: { singular: false, stripNulls: false, csv: true }, mime: "text/csv" };
    case "application/json":
    case "*/*":
    case "application/*":
      return { accept: { singular: false, stripNulls: false }, mime: "application/json" };
  }
  return undefined;
}

/** The plan media type's name, as PostgREST writes it in Content-Type and in 406 messages. */
export function planMediaType(plan: PlanRequest): string {
  return `application/vnd.pgrst.plan+${plan.format}; for="${plan.forType}"${plan.options.length ? `; options=${plan.options.join("|")}` : ""}`;
}

/**
 * The first media type of the Accept header the gateway produces. The plan media type counts only when the
 * in-database config enables it (db-plan-enabled; off by default, and on Supabase): otherwise, as in
 * PostgREST, it is not available, and a request that accepts nothing else gets 406 PGRST107.
 */
export function parseAccept(header: string | undefined, planEnabled = false): Accept {
  if (!header) return { singular: false, stripNulls: false };
  const names: string[] = [];
  for (const text of splitUnquoted(header, ",")) {
    const mt = parseMediaType(text);
    const plan = /^application\/vnd\.pgrst\.plan(?:\+(text|json))?$/.exec(mt.type);
    if (plan) {
      const forData = dataMediaType(parseMediaType(mt.params.get("for") ?? "application/json"));
      const options = (mt.params.get("options") ?? "").split("|").filter((o) => PLAN_OPTIONS.includes(o));
      const request: PlanRequest = { format: plan[1] === "json" ? "json" : "text", options, forType: forData?.mime ?? "application/json" };
      if (planEnabled && forData) return { ...forData.accept, plan: request };
      names.push(planMediaType(request));
      continue;
    }
    const data = dataMediaType(mt);
    if (data) return data.accept;
    names.push(text);
  }
  throw new ApiError(406, "PGRST107", `None of these media types are available: ${names.join(", ")}`);
}

export interface Auth {
  role: string;
  claims: JwtClaims;
  /** The claims as `request.jwt.claims` gets them. */
  claimsJson: string;
}

const ANONYMOUS: Auth = { role: ANON_ROLE, claims: { role: ANON_ROLE }, claimsJson: JSON.stringify({ role: ANON_ROLE }) };

/**
 * Tokens whose signature was verified, with the Auth they give: the same few keys and session tokens come
 * with every request, and an HMAC per request costs more than the rest of the request's parsing. Only
 * verified tokens enter (nobody can fill it without the secret); the time claims are checked on every use.
 */
const verifiedTokens = new Map<string, { secret: string; auth: Auth }>();
const MAX_VERIFIED_TOKENS = 1000;

export function authenticate(authorization: string | undefined, secret: string): Auth {
  const token = bearerToken(authorization);
  if (token === undefined) return ANONYMOUS;
  try {
    const known = verifiedTokens.get(token);
    if (known && known.secret === secret) {
      checkTimeClaims(known.auth.claims);
      return known.auth;
    }
    const claims = verifyJwt(token, secret);
    const role = typeof claims.role === "string" && claims.role !== "" ? claims.role : ANON_ROLE;
    const withRole = { ...claims, role };
    const auth: Auth = { role, claims: withRole, claimsJson: JSON.stringify(withRole) };
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
  /** The schema was chosen by profile negotiation (a profile header, or several exposed schemas): answers say which. */
  profileNegotiated: boolean;
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
  /** Query params that did not parse as filters (rpc GET/HEAD arguments), every value of a repeated one. */
  rpcArgs: Map<string, string[]>;
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
      q.rpcArgs.set(key, [...(q.rpcArgs.get(key) ?? []), value]);
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
      q.rpcArgs.set(key, [...(q.rpcArgs.get(key) ?? []), value]);
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
