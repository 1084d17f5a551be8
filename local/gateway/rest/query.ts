// Turns parsed select/filter/order trees into SQL. User input only ever reaches SQL as bound
// parameters ($n) or as identifiers quoted by quoteIdent; cast type names are whitelisted by the parser.
import { ApiError } from "./errors.ts";
import { parseInList, type Field, type Filter, type LogicTree, type OrderTerm, type SelectItem } from "./parse.ts";
import { findRelationship, type Relationship } from "./relationships.ts";
import type { Relation, SchemaCacheData } from "./schema-cache.ts";

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

export class SqlBuilder {
  readonly params: unknown[] = [];
  private aliasCount = 0;
  constructor(
    readonly cache: SchemaCacheData,
    readonly levels: Map<string, LevelOptions>,
  ) {}

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  alias(base: string): string {
    return quoteIdent(`${base}_${++this.aliasCount}`);
  }

  level(path: string): LevelOptions {
    return this.levels.get(path) ?? { filters: [] };
  }
}

interface EmbedInfo {
  relationship: Relationship;
  alias: string;
  /** Conditions that tie a target row to the parent row plus the embed's own filters. */
  conditions: string[];
  toOne: boolean;
}

export interface LevelPlan {
  selectList: string[];
  conditions: string[];
  orderBy: string[];
  limit?: number;
  offset?: number;
}

function columnExpr(b: SqlBuilder, alias: string, field: Field): string {
  let expr = `${alias}.${quoteIdent(field.name)}`;
  for (const step of field.jsonPath) {
    const key = /^-?\d+$/.test(step.key) ? `${b.param(Number(step.key))}::int` : `${b.param(step.key)}::text`;
    expr = `(${expr}${step.arrow}${key})`;
  }
  return expr;
}

function outputName(field: Field, alias?: string): string {
  if (alias) return alias;
  if (field.jsonPath.length > 0) return field.jsonPath[field.jsonPath.length - 1].key;
  return field.name;
}

function joinConditions(rel: Relationship, parentAlias: string, targetAlias: string): string[] {
  if (rel.junction) {
    const j = rel.junction;
    const jAlias = quoteIdent(`${j.relation.name}_junction`);
    const conds = [
      ...j.toSource.columns.map((c, i) => `${jAlias}.${quoteIdent(c)} = ${parentAlias}.${quoteIdent(j.toSource.refColumns[i])}`),
      ...j.toTarget.columns.map((c, i) => `${jAlias}.${quoteIdent(c)} = ${targetAlias}.${quoteIdent(j.toTarget.refColumns[i])}`),
    ];
    return [`EXISTS (SELECT 1 FROM ${qualified(j.relation.schema, j.relation.name)} AS ${jAlias} WHERE ${conds.join(" AND ")})`];
  }
  return rel.pairs.map(([s, t]) => `${targetAlias}.${quoteIdent(t)} = ${parentAlias}.${quoteIdent(s)}`);
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
      if (f.op !== "is" || !["null"].includes(f.value.toLowerCase()) || f.quantifier) {
        throw new ApiError(400, "PGRST120", "Only is null or not is null filters are allowed on embedded resources");
      }
      const exists = `EXISTS (SELECT 1 FROM ${qualified(embed.relationship.target.schema, embed.relationship.target.name)} AS ${embed.alias} WHERE ${embed.conditions.join(" AND ")})`;
      return f.negate ? exists : `NOT ${exists}`;
    }
    return compileFilter(b, columnExpr(b, alias, f.field), f);
  }
  const joined = tree.children.map((c) => compileTree(b, alias, c, embeds)).join(tree.op === "and" ? " AND " : " OR ");
  return tree.negate ? `NOT (${joined})` : `(${joined})`;
}

function orderClause(b: SqlBuilder, alias: string, terms: OrderTerm[], embeds: Map<string, EmbedInfo>): string[] {
  return terms.map((t) => {
    let expr: string;
    if (t.relation) {
      const embed = embeds.get(t.relation);
      if (!embed || !embed.toOne) {
        throw new ApiError(400, "PGRST118", `A related order on '${t.relation}' is not possible`, `'${t.relation}' must be a to-one embedded resource in the select`);
      }
      const target = embed.relationship.target;
      expr = `(SELECT ${columnExpr(b, embed.alias, t.field)} FROM ${qualified(target.schema, target.name)} AS ${embed.alias} WHERE ${embed.conditions.join(" AND ")} LIMIT 1)`;
    } else expr = columnExpr(b, alias, t.field);
    return `${expr}${t.direction ? ` ${t.direction.toUpperCase()}` : ""}${t.nulls ? ` NULLS ${t.nulls.toUpperCase()}` : ""}`;
  });
}

/**
 * Plans one level of a read: select list (with embeds as correlated subqueries), WHERE conditions
 * (filters and !inner semi-joins), ORDER BY, LIMIT/OFFSET.
 */
export function planLevel(
  b: SqlBuilder,
  relation: Relation | undefined,
  alias: string,
  items: SelectItem[],
  path: string,
  options: { skipFilters?: boolean; skipOrder?: boolean; starColumns?: string[] } = {},
): LevelPlan {
  const opts = b.level(path);
  const selectList: string[] = [];
  const conditions: string[] = [];
  const embeds = new Map<string, EmbedInfo>();

  for (const item of items) {
    if (item.kind === "star") {
      if (options.starColumns) selectList.push(...options.starColumns.map((c) => `${alias}.${quoteIdent(c)}`));
      else selectList.push(`${alias}.*`);
    } else if (item.kind === "column") {
      let expr = columnExpr(b, alias, item.field);
      if (item.cast) expr = `CAST(${expr} AS ${item.cast})`;
      selectList.push(`${expr} AS ${quoteIdent(outputName(item.field, item.alias))}`);
    } else {
      if (!relation) {
        throw new ApiError(400, "PGRST200", `Could not find a relationship for '${item.name}' in the schema cache`);
      }
      const relationship = findRelationship(b.cache, relation, item.name, item.hint);
      const target = relationship.target;
      const key = item.alias ?? item.name;
      const childPath = path ? `${path}.${key}` : key;
      const childAlias = b.alias(target.name);
      const child = planLevel(b, target, childAlias, item.children, childPath);
      const conds = [...joinConditions(relationship, alias, childAlias), ...child.conditions];
      const toOne = relationship.cardinality === "many-to-one" || relationship.cardinality === "one-to-one";
      const info: EmbedInfo = { relationship, alias: childAlias, conditions: conds, toOne };
      embeds.set(key, info);
      const from = `${qualified(target.schema, target.name)} AS ${childAlias}`;
      const where = `WHERE ${conds.join(" AND ")}`;
      const tail = `${child.orderBy.length ? ` ORDER BY ${child.orderBy.join(", ")}` : ""}${child.limit !== undefined ? ` LIMIT ${b.param(child.limit)}` : ""}${child.offset !== undefined ? ` OFFSET ${b.param(child.offset)}` : ""}`;
      if (item.joinType === "inner") conditions.push(`EXISTS (SELECT 1 FROM ${from} ${where})`);
      if (item.children.length === 0) continue; // `rel()` only filters the parent
      if (item.spread) {
        // Spread: lift each embedded column into the parent (arrays of values for to-many).
        for (const expr of child.selectList) {
          const m = / AS ("(?:[^"]|"")*")$/.exec(expr);
          const value = m ? expr.slice(0, m.index) : expr;
          const name = m ? m[1] : null;
          if (!name) throw new ApiError(400, "PGRST100", "A spread embed cannot use '*'", "List the columns to spread");
          const sub = toOne
            ? `(SELECT ${value} FROM ${from} ${where} LIMIT 1)`
            : `(SELECT json_agg(${value}${child.orderBy.length ? ` ORDER BY ${child.orderBy.join(", ")}` : ""}) FROM ${from} ${where})`;
          selectList.push(`${sub} AS ${name}`);
        }
        continue;
      }
      const inner = `SELECT ${child.selectList.join(", ")} FROM ${from} ${where}`;
      const sub = toOne
        ? `(SELECT row_to_json(pgrst_row) FROM (${inner} LIMIT 1) AS pgrst_row)`
        : `COALESCE((SELECT json_agg(pgrst_row) FROM (${inner}${tail}) AS pgrst_row), '[]')`;
      selectList.push(`${sub} AS ${quoteIdent(key)}`);
    }
  }
  if (options.skipFilters) return { selectList, conditions, orderBy: [] };
  for (const tree of opts.filters) conditions.push(compileTree(b, alias, tree, embeds));
  // Every parameter compiled must appear in the statement, so order is compiled only where it is used.
  const orderBy = opts.order && !options.skipOrder ? orderClause(b, alias, opts.order, embeds) : [];
  return { selectList, conditions, orderBy, limit: opts.limit, offset: opts.offset };
}
