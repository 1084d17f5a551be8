// The postgres_changes `filter` grammar of current Realtime (docs/supabase-standin-spec.md §3.6): `col=op.value`, several AND-ed with
// commas (commas inside () or "" do not split), an optional `not.` prefix, ops eq/neq/lt/lte/gt/gte/in plus
// like/ilike/is/match/imatch/isdistinct. Values are compared as the column's type, like Realtime's casts.

export const FILTER_OPS = ["eq", "neq", "lt", "lte", "gt", "gte", "in", "like", "ilike", "is", "match", "imatch", "isdistinct"] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface ColumnFilter {
  column: string;
  op: FilterOp;
  negate: boolean;
  /** Scalar operand, already unquoted; for `in`, the list. */
  value: string;
  values: string[];
}

export class FilterParseError extends Error {
  constructor(readonly parts: string[]) {
    super(`Error parsing \`filter\` params: ${JSON.stringify(parts)}`);
  }
}

const MAX_IN_VALUES = 100;

function splitTopLevel(text: string, separator: string): string[] {
  const pieces: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      current += ch;
      if (ch === "\\" && i + 1 < text.length) current += text[++i];
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === "(") depth++;
    else if (ch === ")") depth = Math.max(0, depth - 1);
    if (ch === separator && depth === 0) {
      pieces.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  pieces.push(current);
  return pieces;
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) {
    return trimmed.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return trimmed;
}

/** Parses a filter string; an empty or missing filter means no filter. */
export function parseFilter(filter: unknown): ColumnFilter[] {
  if (filter === undefined || filter === null || filter === "") return [];
  if (typeof filter !== "string") throw new FilterParseError([String(filter)]);
  if (filter === "undefined") throw new FilterParseError(["undefined"]);
  return splitTopLevel(filter, ",").map((clause) => {
    const eq = clause.indexOf("=");
    if (eq <= 0) throw new FilterParseError([clause]);
    const column = clause.slice(0, eq).trim();
    let rest = clause.slice(eq + 1);
    let negate = false;
    if (rest.startsWith("not.")) {
      negate = true;
      rest = rest.slice(4);
    }
    const dot = rest.indexOf(".");
    const opText = dot < 0 ? rest : rest.slice(0, dot);
    const operand = dot < 0 ? "" : rest.slice(dot + 1);
    if (!(FILTER_OPS as readonly string[]).includes(opText) || dot < 0 || column === "") {
      throw new FilterParseError([column, rest]);
    }
    const op = opText as FilterOp;
    if (op === "in") {
      const m = /^\((.*)\)$/s.exec(operand.trim());
      if (!m) throw new FilterParseError([column, rest]);
      const values = m[1].trim() === "" ? [] : splitTopLevel(m[1], ",").map(unquote);
      if (values.length > MAX_IN_VALUES) throw new FilterParseError([column, `in: more than ${MAX_IN_VALUES} values`]);
      return { column, op, negate, value: operand, values };
    }
    if (op === "is" && !["null", "true", "false", "unknown"].includes(operand.toLowerCase())) {
      throw new FilterParseError([column, rest]);
    }
    return { column, op, negate, value: unquote(operand), values: [] };
  });
}

type Category = "number" | "bool" | "time" | "uuid" | "text";

const numericTypes = new Set(["int2", "int4", "int8", "float4", "float8", "numeric", "oid", "money"]);
const timeTypes = new Set(["timestamptz", "timestamp", "date"]);

export function typeCategory(typname: string): Category {
  if (numericTypes.has(typname)) return "number";
  if (typname === "bool") return "bool";
  if (timeTypes.has(typname)) return "time";
  if (typname === "uuid") return "uuid";
  return "text";
}

function parseBool(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (["t", "true", "yes", "y", "on", "1"].includes(v)) return true;
  if (["f", "false", "no", "n", "off", "0"].includes(v)) return false;
  return undefined;
}

function parseTime(value: string): number {
  let v = value.trim().replace(" ", "T");
  if (/^\d{4}-\d\d-\d\d$/.test(v)) return Date.parse(`${v}T00:00:00Z`);
  // "+00" style offsets are ISO only with minutes.
  v = v.replace(/(T[\d:.]+[+-]\d\d)$/, "$1:00");
  if (!/(Z|[+-]\d\d:?\d\d)$/.test(v)) v += "Z";
  return Date.parse(v);
}

/** Normalises a text form to something JS can compare the way Postgres compares the typed value. */
function comparable(text: string, category: Category): number | string | boolean | undefined {
  switch (category) {
    case "number": {
      const n = Number(text.replace(/[$,]/g, ""));
      return Number.isNaN(n) ? undefined : n;
    }
    case "bool":
      return parseBool(text);
    case "time": {
      const t = parseTime(text);
      return Number.isNaN(t) ? undefined : t;
    }
    case "uuid":
      return text.trim().toLowerCase();
    default:
      return text;
  }
}

/** Checks at subscribe time that a filter value is usable with the column type (JS side of the cast check). */
export function filterValueProblem(filter: ColumnFilter, typname: string): string | undefined {
  const category = typeCategory(typname);
  if (filter.op === "is") {
    const v = filter.value.toLowerCase();
    if (v !== "null" && category !== "bool") return `is.${v} requires a boolean column`;
    return undefined;
  }
  if (["like", "ilike", "match", "imatch"].includes(filter.op)) return undefined;
  const operands = filter.op === "in" ? filter.values : [filter.value];
  for (const operand of operands) {
    if (comparable(operand, category) === undefined) return `invalid input for type ${typname}: "${operand}"`;
  }
  return undefined;
}

function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\" && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (ch === "%") source += "[\\s\\S]*";
    else if (ch === "_") source += "[\\s\\S]";
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`, caseInsensitive ? "i" : "");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function compare(a: number | string | boolean, b: number | string | boolean): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/**
 * Evaluates one filter against a column value in text form (null = SQL NULL, undefined = column absent).
 * Absent columns fail closed; NULL fails every op except is.null and isdistinct, as in SQL.
 */
export function filterMatches(filter: ColumnFilter, columnText: string | null | undefined, typname: string): boolean {
  if (columnText === undefined) return false;
  const category = typeCategory(typname);
  if (filter.op === "is") {
    const wanted = filter.value.toLowerCase();
    let result: boolean;
    if (wanted === "null") result = columnText === null;
    else if (wanted === "unknown") result = columnText === null;
    else result = columnText !== null && parseBool(columnText) === (wanted === "true");
    return filter.negate ? !result : result;
  }
  if (filter.op === "isdistinct") {
    let result: boolean;
    if (columnText === null) result = true;
    else result = compare(comparable(columnText, category) ?? columnText, comparable(filter.value, category) ?? filter.value) !== 0;
    return filter.negate ? !result : result;
  }
  if (columnText === null) return false;
  const left = comparable(columnText, category);
  if (left === undefined) return false;
  let result: boolean;
  switch (filter.op) {
    case "in":
      result = filter.values.some((v) => {
        const right = comparable(v, category);
        return right !== undefined && compare(left, right) === 0;
      });
      break;
    case "like":
    case "ilike":
      result = likeToRegExp(filter.value, filter.op === "ilike").test(columnText);
      break;
    case "match":
    case "imatch":
      try {
        result = new RegExp(filter.value, filter.op === "imatch" ? "i" : "").test(columnText);
      } catch {
        result = false;
      }
      break;
    default: {
      const right = comparable(filter.value, category);
      if (right === undefined) return false;
      const c = compare(left, right);
      result =
        filter.op === "eq" ? c === 0
        : filter.op === "neq" ? c !== 0
        : filter.op === "lt" ? c < 0
        : filter.op === "lte" ? c <= 0
        : filter.op === "gt" ? c > 0
        : c >= 0;
    }
  }
  return filter.negate ? !result : result;
}
