// Turns parsed filter and order trees into SQL, and holds the statement being built. User input only ever
// reaches SQL as bound parameters or as identifiers quoted by quoteIdent; cast type names are whitelisted by
// the parser. select.ts plans the select tree (columns, aggregates, embeds) with these pieces.
import { ApiError } from "./errors.ts";
import type { SchemaCacheData } from "./catalog.ts";
import { parseInList, type Field, type Filter, type LogicTree, type OrderTerm } from "./parse.ts";

export function quoteIdent(name: string): string {
  if (name.includes("\u0000")) throw new ApiError(400, "PGRST100", "Identifiers cannot contain NUL characters");
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Per-level modifiers from the query string, keyed by embed path ("" is the top level). */
export interface LevelOptions {
  filters: LogicTree[];
  order?: OrderTerm[];
  limit?: number;
  offset?: number;
}

export interface Statement {
  text: string;
  values: unknown[];
}

// A parameter is a placeholder until a statement is rendered: each statement binds exactly the
// parameters its text uses, numbered in order of appearance, so fragments can be shared between
// statements (the rows and the count of a read, or its EXPLAIN) without unused or shifted parameters.
// NUL can appear nowhere else in SQL text (quoteIdent refuses it).
const PLACEHOLDER = /\u0000(\d+)\u0000/g;

export class SqlBuilder {
  private readonly values: unknown[] = [];
  private aliasCount = 0;
  constructor(
    readonly cache: SchemaCacheData,
    readonly levels: Map<string, LevelOptions>,
  ) {}

  param(value: unknown): string {
    this.values.push(value);
    return `\u0000${this.values.length - 1}\u0000`;
  }

  alias(base: string): string {
    return quoteIdent(`${base}_${++this.aliasCount}`);
  }

  level(path: string): LevelOptions {
    return this.levels.get(path) ?? { filters: [] };
  }

  /** The statement for `text`: its placeholders become $1, $2, … in order of first appearance. */
  render(text: string): Statement {
    const numbers = new Map<string, number>();
    const values: unknown[] = [];
    const rendered = text.replace(PLACEHOLDER, (_, index: string) => {
      let n = numbers.get(index);
      if (n === undefined) {
        values.push(this.values[Number(index)]);
        numbers.set(index, (n = values.length));
      }
      return `$${n}`;
    });
    return { text: rendered, values };
  }
}

/** An embedded resource as the level that selects it sees it: where its rows come from and how they join. */
export interface EmbedInfo {
  /** `FROM` item of the embedded rows, with its alias. */
  from: string;
  alias: string;
  /** Conditions that tie an embedded row to the parent row, plus the embed's own filters. */
  conditions: string[];
  toOne: boolean;
}

export function columnExpr(b: SqlBuilder, alias: string, field: Field): string {
  let expr = field.name === "*" ? `${alias}.*` : `${alias}.${quoteIdent(field.name)}`;
  for (const step of field.jsonPath) {
    const key = /^-?\d+$/.test(step.key) ? `${b.param(Number(step.key))}::int` : `${b.param(step.key)}::text`;
    expr = `(${expr}${step.arrow}${key})`;
  }
  return expr;
}

const SIMPLE_OPS: Record<string, string> = {
  eq: "=", neq: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=", like: "LIKE", ilike: "ILIKE", match: "~", imatch: "~*",
  cs: "@>", cd: "<@", ov: "&&", sl: "<<", sr: ">>", nxr: "&<", nxl: "&>", adj: "-|-", isdistinct: "IS DISTINCT FROM",
};
const FTS_FUNCTIONS: Record<string, string> = {
  fts: "to_tsquery", plfts: "plainto_tsquery", phfts: "phraseto_tsquery", wfts: "websearch_to_tsquery",
};

function likePattern(value: string): string {
  return value.replace(/\*/g, "%");
}

export function compileFilter(b: SqlBuilder, expr: string, f: Omit<Filter, "field">): string {
  let sql: string;
  const op = f.op;
  if (f.quantifier) {
    const value = op === "like" || op === "ilike" ? likePattern(f.value) : f.value;
    sql = `${expr} ${SIMPLE_OPS[op]} ${f.quantifier.toUpperCase()}(${b.param(value)})`;
  } else if (op === "is") {
    const v = f.value.toLowerCase();
    const map: Record<string, string> = { null: "NULL", not_null: "NOT NULL", true: "TRUE", false: "FALSE", unknown: "UNKNOWN" };
    if (!(v in map)) {
      throw new ApiError(400, "PGRST100", `"failed to parse filter (is.${f.value})" (line 1, column 4)`, 'unexpected "' + f.value.slice(0, 1) + '" expecting null or trilean value (unknown, true, false)');
    }
    sql = `${expr} IS ${map[v]}`;
  } else if (op === "in") {
    sql = `${expr} = ANY(${b.param(parseInList(f.value))})`;
  } else if (op in FTS_FUNCTIONS) {
    const query = f.language ? `${FTS_FUNCTIONS[op]}(${b.param(f.language)}::regconfig, ${b.param(f.value)})` : `${FTS_FUNCTIONS[op]}(${b.param(f.value)})`;
    sql = `${expr} @@ ${query}`;
  } else if (op === "like" || op === "ilike") {
    sql = `${expr} ${SIMPLE_OPS[op]} ${b.param(likePattern(f.value))}`;
  } else {
    sql = `${expr} ${SIMPLE_OPS[op]} ${b.param(f.value)}`;
  }
  return f.negate ? `NOT (${sql})` : sql;
}

export function compileTree(b: SqlBuilder, alias: string, tree: LogicTree, embeds: Map<string, EmbedInfo>): string {
  if (tree.kind === "leaf") {
    const f = tree.filter;
    const embed = f.field.jsonPath.length === 0 ? embeds.get(f.field.name) : undefined;
    if (embed) {
      if (f.op !== "is" || f.value.toLowerCase() !== "null" || f.quantifier) {
        throw new ApiError(400, "PGRST120", `Bad operator on the '${f.field.name}' embedded resource`, "Only is null or not is null filters are allowed on embedded resources");
      }
      const exists = `EXISTS (SELECT 1 FROM ${embed.from} WHERE ${embed.conditions.join(" AND ") || "TRUE"})`;
      return f.negate ? exists : `NOT ${exists}`;
    }
    return compileFilter(b, columnExpr(b, alias, f.field), f);
  }
  const joined = tree.children.map((c) => compileTree(b, alias, c, embeds)).join(tree.op === "and" ? " AND " : " OR ");
  return tree.negate ? `NOT (${joined})` : `(${joined})`;
}

export function orderClause(b: SqlBuilder, alias: string, terms: OrderTerm[], embeds: Map<string, EmbedInfo>, origin: string): string[] {
  return terms.map((t) => {
    let expr: string;
    if (t.relation) {
      const embed = embeds.get(t.relation);
      if (!embed || !embed.toOne) {
        throw new ApiError(400, "PGRST118", `A related order on '${t.relation}' is not possible`, `'${origin}' and '${t.relation}' do not form a many-to-one or one-to-one relationship`);
      }
      expr = `(SELECT ${columnExpr(b, embed.alias, t.field)} FROM ${embed.from} WHERE ${embed.conditions.join(" AND ") || "TRUE"} LIMIT 1)`;
    } else expr = columnExpr(b, alias, t.field);
    return `${expr}${t.direction ? ` ${t.direction.toUpperCase()}` : ""}${t.nulls ? ` NULLS ${t.nulls.toUpperCase()}` : ""}`;
  });
}
