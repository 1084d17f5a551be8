// PostgREST's URL grammar (docs/supabase-standin-spec.md §1.4): select trees, filters, logic trees, order.
import { parseError } from "./errors.ts";

export interface JsonStep {
  arrow: "->" | "->>";
  key: string;
}
export interface Field {
  name: string;
  jsonPath: JsonStep[];
}
export type AggregateFunction = "sum" | "avg" | "count" | "min" | "max";
export type SelectItem =
  | { kind: "star" }
  | {
      kind: "column";
      /** `*` with the count aggregate is `count()`. */
      field: Field;
      alias?: string;
      cast?: string;
      /** `col.sum()` and friends; allowed only when the in-database config enables aggregates. */
      aggregate?: AggregateFunction;
      aggregateCast?: string;
    }
  | {
      kind: "embed";
      name: string;
      alias?: string;
      hint?: string;
      joinType?: "inner" | "left";
      spread: boolean;
      children: SelectItem[];
    };

export interface Filter {
  field: Field;
  negate: boolean;
  op: string;
  quantifier?: "any" | "all";
  language?: string;
  value: string;
}
export type LogicTree =
  | { kind: "tree"; negate: boolean; op: "and" | "or"; children: LogicTree[] }
  | { kind: "leaf"; filter: Filter };

export interface OrderTerm {
  /** Set when ordering by a column of a to-one embed: `rel(col).desc`. */
  relation?: string;
  field: Field;
  direction?: "asc" | "desc";
  nulls?: "first" | "last";
}

const CAST_RE = /^[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z_][A-Za-z0-9_]*)*(?:\[\])*$/;

class Cursor {
  pos = 0;
  constructor(readonly text: string, readonly what: string) {}
  peek(n = 0): string {
    return this.text[this.pos + n] ?? "";
  }
  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }
  eof(): boolean {
    return this.pos >= this.text.length;
  }
  fail(expecting: string): never {
    const found = this.eof() ? "end of input" : `"${this.peek()}"`;
    throw parseError(
      `"failed to parse ${this.what} (${this.text})" (line 1, column ${this.pos + 1})`,
      `unexpected ${found} expecting ${expecting}`,
    );
  }
  expect(s: string): void {
    if (!this.startsWith(s)) this.fail(`"${s}"`);
    this.pos += s.length;
  }
}

function readName(c: Cursor, allowEmpty = false): string {
  if (c.peek() === '"') {
    c.pos++;
    let out = "";
    while (!c.eof() && c.peek() !== '"') {
      if (c.peek() === "\\" && c.pos + 1 < c.text.length) c.pos++;
      out += c.peek();
      c.pos++;
    }
    c.expect('"');
    return out;
  }
  const start = c.pos;
  while (!c.eof()) {
    const ch = c.peek();
    if (",:.()!\"*>".includes(ch)) break;
    if (ch === "-" && c.peek(1) === ">") break;
    c.pos++;
  }
  const name = c.text.slice(start, c.pos).trim();
  if (!name && !allowEmpty) c.fail("a name");
  return name;
}

function readJsonPath(c: Cursor): JsonStep[] {
  const path: JsonStep[] = [];
  while (c.startsWith("->")) {
    const arrow = c.startsWith("->>") ? "->>" : "->";
    c.pos += arrow.length;
    let key: string;
    if (c.peek() === "-" && /\d/.test(c.peek(1))) {
      c.pos++;
      key = "-" + readName(c);
    } else key = readName(c);
    path.push({ arrow, key });
  }
  return path;
}

function readCast(c: Cursor): string | undefined {
  if (!c.startsWith("::")) return undefined;
  c.pos += 2;
  const start = c.pos;
  while (!c.eof() && /[A-Za-z0-9_ \[\]]/.test(c.peek())) c.pos++;
  const cast = c.text.slice(start, c.pos).trim();
  if (!CAST_RE.test(cast)) c.fail("a type name");
  return cast;
}

const AGGREGATES = /^\.(sum|avg|count|min|max)\(\)/;

function parseSelectItem(c: Cursor): SelectItem {
  if (c.peek() === "*") {
    c.pos++;
    return { kind: "star" };
  }
  let spread = false;
  if (c.startsWith("...")) {
    spread = true;
    c.pos += 3;
  }
  let alias: string | undefined;
  let name = readName(c);
  if (c.peek() === ":" && c.peek(1) !== ":") {
    if (spread) c.fail('"(" after a spread relation');
    c.pos++;
    alias = name;
    if (c.startsWith("...")) c.fail("a column or relation name");
    name = readName(c);
  }
  // `count()`: the row count aggregate (a relation can never be called count).
  if (!spread && name === "count" && c.startsWith("()")) {
    c.pos += 2;
    return { kind: "column", field: { name: "*", jsonPath: [] }, alias, aggregate: "count", aggregateCast: readCast(c) };
  }
  if (c.peek() === "!" || c.peek() === "(") {
    let hint: string | undefined;
    let joinType: "inner" | "left" | undefined;
    while (c.peek() === "!") {
      c.pos++;
      const word = readName(c);
      if (word === "inner" || word === "left") joinType = word;
      else hint = word;
    }
    c.expect("(");
    const children = parseSelectList(c, ")");
    c.expect(")");
    return { kind: "embed", name, alias, hint, joinType, spread, children };
  }
  if (spread) c.fail('"(" after a spread relation');
  const jsonPath = readJsonPath(c);
  const cast = readCast(c);
  const agg = AGGREGATES.exec(c.text.slice(c.pos));
  if (agg) {
    c.pos += agg[0].length;
    return { kind: "column", field: { name, jsonPath }, alias, cast, aggregate: agg[1] as AggregateFunction, aggregateCast: readCast(c) };
  }
  return { kind: "column", field: { name, jsonPath }, alias, cast };
}

function parseSelectList(c: Cursor, terminator: string): SelectItem[] {
  const items: SelectItem[] = [];
  if (c.peek() === terminator || c.eof()) return items;
  for (;;) {
    items.push(parseSelectItem(c));
    if (c.peek() === ",") {
      c.pos++;
      continue;
    }
    if (c.eof() || c.peek() === terminator) return items;
    c.fail('"," or end of select');
  }
}

export function parseSelect(text: string): SelectItem[] {
  const c = new Cursor(text, "select parameter");
  const items = parseSelectList(c, "\u0000");
  if (!c.eof()) c.fail("end of input");
  return items;
}

/** Field of a filter key or a logic-tree leaf: `col`, `col->a->>b`. */
export function parseField(text: string, what = "filter"): Field {
  const c = new Cursor(text, what);
  const name = readName(c);
  const jsonPath = readJsonPath(c);
  if (!c.eof()) c.fail("end of field");
  return { name, jsonPath };
}

const OPERATORS = new Set([
  "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "in", "is", "isdistinct",
  "fts", "plfts", "phfts", "wfts", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj",
]);
const QUANTIFIABLE = new Set(["eq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch"]);
const FTS = new Set(["fts", "plfts", "phfts", "wfts"]);

/** Parses `[not.]op[(any|all|lang)].value`; returns undefined when the text is not of that form. */
export function tryParseFilterValue(text: string): Omit<Filter, "field"> | undefined {
  const m = /^(not\.)?([a-z]+)(?:\(([^)]*)\))?\.([\s\S]*)$/.exec(text);
  if (!m || !OPERATORS.has(m[2])) return undefined;
  const [, not, op, modifier, value] = m;
  const filter: Omit<Filter, "field"> = { negate: !!not, op, value };
  if (modifier !== undefined) {
    if ((modifier === "any" || modifier === "all") && QUANTIFIABLE.has(op)) filter.quantifier = modifier;
    else if (FTS.has(op) && /^[A-Za-z0-9_]+$/.test(modifier)) filter.language = modifier;
    else return undefined;
  }
  return filter;
}

export function parseFilter(field: Field, text: string, key: string): Filter {
  const parsed = tryParseFilterValue(text);
  if (!parsed) {
    throw parseError(`"failed to parse filter (${text})" (line 1, column 1)`, `unexpected "${text.slice(0, 1)}" in filter ${key}`);
  }
  return { field, ...parsed };
}

/** Splits on commas that are outside quotes, parentheses and braces. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === "\\") i++;
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === "(" || ch === "{") depth++;
    else if (ch === ")" || ch === "}") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return value;
}

/** `(a.eq.1,b.gt.2,and(c.eq.3),not.or(d.is.null))` as given to `or=` / `and=`. */
export function parseLogicTree(op: "and" | "or", negate: boolean, text: string, key: string): LogicTree {
  const what = `logic tree (${text})`;
  if (!text.startsWith("(") || !text.endsWith(")")) {
    throw parseError(`"failed to parse ${what}" (line 1, column 1)`, `unexpected "${text.slice(0, 1)}" expecting "("`);
  }
  const inner = text.slice(1, -1);
  const children: LogicTree[] = [];
  for (const raw of splitTopLevel(inner)) {
    const part = raw.trim();
    const m = /^(not\.)?(and|or)(\(.*\))$/s.exec(part);
    if (m) {
      children.push(parseLogicTree(m[2] as "and" | "or", !!m[1], m[3], key));
      continue;
    }
    // Leaf: field up to the first "." that is not inside a quoted name.
    const c = new Cursor(part, what);
    const name = readName(c);
    const jsonPath = readJsonPath(c);
    if (c.peek() !== ".") c.fail('"." after the column');
    c.pos++;
    const filter = parseFilter({ name, jsonPath }, part.slice(c.pos), key);
    if (filter.op !== "in" && !filter.quantifier) filter.value = unquote(filter.value);
    children.push({ kind: "leaf", filter });
  }
  if (children.length === 0) throw parseError(`"failed to parse ${what}" (line 1, column 2)`, "expecting a filter");
  return { kind: "tree", negate, op, children };
}

/** Elements of `in.(a,"b,c")`. */
export function parseInList(value: string): string[] {
  if (!value.startsWith("(") || !value.endsWith(")")) {
    throw parseError(`"failed to parse filter (in.${value})" (line 1, column 4)`, 'unexpected end of input expecting "("');
  }
  const inner = value.slice(1, -1);
  if (inner.trim() === "") return [];
  const out: string[] = [];
  let i = 0;
  while (i <= inner.length) {
    if (inner[i] === '"') {
      let s = "";
      i++;
      while (i < inner.length && inner[i] !== '"') {
        if (inner[i] === "\\" && i + 1 < inner.length) i++;
        s += inner[i++];
      }
      i++; // closing quote
      out.push(s);
      while (i < inner.length && inner[i] !== ",") i++;
      i++;
    } else {
      const next = inner.indexOf(",", i);
      const end = next === -1 ? inner.length : next;
      out.push(inner.slice(i, end).trim());
      i = end + 1;
    }
  }
  return out;
}

export function parseOrder(text: string): OrderTerm[] {
  const terms: OrderTerm[] = [];
  for (const raw of splitTopLevel(text)) {
    const part = raw.trim();
    if (!part) continue;
    const c = new Cursor(part, `order (${text})`);
    let relation: string | undefined;
    let name = readName(c);
    if (c.peek() === "(") {
      c.pos++;
      relation = name;
      name = readName(c);
      const jsonPath = readJsonPath(c);
      c.expect(")");
      terms.push({ relation, field: { name, jsonPath }, ...readOrderModifiers(c) });
      continue;
    }
    const jsonPath = readJsonPath(c);
    terms.push({ field: { name, jsonPath }, ...readOrderModifiers(c) });
  }
  return terms;
}

function readOrderModifiers(c: Cursor): Pick<OrderTerm, "direction" | "nulls"> {
  const result: Pick<OrderTerm, "direction" | "nulls"> = {};
  while (c.peek() === ".") {
    c.pos++;
    const word = readName(c);
    if (word === "asc" || word === "desc") result.direction = word;
    else if (word === "nullsfirst") result.nulls = "first";
    else if (word === "nullslast") result.nulls = "last";
    else c.fail('"asc", "desc", "nullsfirst" or "nullslast"');
  }
  if (!c.eof()) c.fail("end of order term");
  return result;
}

/** Column list of `columns=` / `on_conflict=`. */
export function parseColumnList(text: string, what: string): string[] {
  const out: string[] = [];
  for (const raw of splitTopLevel(text)) {
    const c = new Cursor(raw.trim(), what);
    const name = readName(c);
    if (!c.eof()) c.fail('"," or end of list');
    out.push(name);
  }
  return out;
}

export function parseNonNegativeInt(text: string, what: string): number {
  if (!/^\d+$/.test(text)) {
    throw parseError(`"failed to parse ${what} parameter (${text})" (line 1, column 1)`, "expecting a non-negative integer");
  }
  return Number(text);
}
