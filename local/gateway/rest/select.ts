// Plans one level of a select tree (docs/supabase-standin-spec.md §1.4-1.5): columns with casts and JSON paths,
// aggregates with PostgREST's automatic GROUP BY, embeds (by foreign key, junction or computed relationship)
// as correlated subqueries, spreads, and the level's filters and order.
import { ApiError } from "./errors.ts";
import type { Relation } from "./catalog.ts";
import type { AggregateFunction, SelectItem } from "./parse.ts";
import { columnExpr, compileTree, orderClause, qualified, quoteIdent, type EmbedInfo, type SqlBuilder } from "./query.ts";
import { findRelationship, isToOne, type Relationship } from "./relationships.ts";

/** The rows a level selects from. */
export interface LevelSource {
  /** What the rows are: relationships and `*` are looked up from it. */
  relation: Relation | undefined;
  /** SQL alias of the rows. */
  alias: string;
  /** The rows' whole-row value of the relation's type, for computed relationships (default: the alias). */
  rowExpr?: string;
  /** Column names when there is no relation (a function returning TABLE or OUT parameters). */
  columns?: string[];
}

/** One output column: its value, and the aggregate applied to it when the level aggregates. */
export interface SelectEntry {
  value: string;
  name: string;
  aggregate?: AggregateFunction;
  aggregateCast?: string;
}

export interface LevelPlan {
  entries: SelectEntry[];
  conditions: string[];
  orderBy: string[];
  limit?: number;
  offset?: number;
}

export function castIf(expr: string, cast: string | undefined): string {
  return cast ? `CAST(${expr} AS ${cast})` : expr;
}

function render(e: SelectEntry): string {
  return e.aggregate ? castIf(`${e.aggregate.toUpperCase()}(${e.value})`, e.aggregateCast) : e.value;
}

/** `SELECT` list of a plan. */
export function selectList(plan: LevelPlan): string {
  return plan.entries.map((e) => (e.name === "*" ? e.value : `${render(e)} AS ${quoteIdent(e.name)}`)).join(", ");
}

/** PostgREST groups by every selected column that is not aggregated, as soon as one is. */
export function groupBy(plan: LevelPlan): string {
  if (!plan.entries.some((e) => e.aggregate)) return "";
  const ordinals = plan.entries.flatMap((e, i) => (e.aggregate ? [] : [String(i + 1)]));
  return ordinals.length ? ` GROUP BY ${ordinals.join(", ")}` : "";
}

function outputName(item: Extract<SelectItem, { kind: "column" }>): string {
  if (item.alias) return item.alias;
  if (item.aggregate) return item.aggregate;
  if (item.field.jsonPath.length > 0) return item.field.jsonPath[item.field.jsonPath.length - 1].key;
  return item.field.name;
}

function starColumns(source: LevelSource): string[] | undefined {
  return source.relation?.columns.map((c) => c.name) ?? source.columns;
}

function joinConditions(b: SqlBuilder, rel: Relationship, parentAlias: string, childAlias: string): string[] {
  if (rel.computed) return [];
  const c = rel.cardinality;
  if (c.kind === "many-to-many") {
    const j = b.alias(c.junction.table.name);
    const conds = [
      ...c.junction.source.map(([col, jcol]) => `${j}.${quoteIdent(jcol)} = ${parentAlias}.${quoteIdent(col)}`),
      ...c.junction.target.map(([col, jcol]) => `${j}.${quoteIdent(jcol)} = ${childAlias}.${quoteIdent(col)}`),
    ];
    return [`EXISTS (SELECT 1 FROM ${qualified(c.junction.table.schema, c.junction.table.name)} AS ${j} WHERE ${conds.join(" AND ")})`];
  }
  return c.columns.map(([col, fcol]) => `${childAlias}.${quoteIdent(fcol)} = ${parentAlias}.${quoteIdent(col)}`);
}

/**
 * Plans the select items of one level. Embeds become correlated subqueries of the level's rows; their
 * filters, order and limit come from the query string under their path (alias or name).
 */
export function planLevel(
  b: SqlBuilder,
  source: LevelSource,
  items: SelectItem[],
  path: string,
  options: { skipFilters?: boolean; skipOrder?: boolean } = {},
): LevelPlan {
  const { alias, relation } = source;
  const opts = b.level(path);
  const entries: SelectEntry[] = [];
  const conditions: string[] = [];
  const embeds = new Map<string, EmbedInfo>();

  for (const item of items) {
    if (item.kind === "star") {
      const columns = starColumns(source);
      if (columns) entries.push(...columns.map((name) => ({ value: `${alias}.${quoteIdent(name)}`, name })));
      else entries.push({ value: `${alias}.*`, name: "*" }); // columns unknown: every column, unnamed
      continue;
    }
    if (item.kind === "column") {
      if (item.aggregate && !b.cache.config.aggregatesEnabled) throw new ApiError(400, "PGRST123", "Use of aggregate functions is not allowed");
      entries.push({
        value: castIf(columnExpr(b, alias, item.field), item.cast),
        name: outputName(item),
        aggregate: item.aggregate,
        aggregateCast: item.aggregateCast,
      });
      continue;
    }
    if (!relation) {
      throw new ApiError(400, "PGRST200", `Could not find a relationship between '${alias.replace(/"/g, "")}' and '${item.name}' in the schema cache`);
    }
    const rel = findRelationship(b.cache.relationships, relation.schema, relation.name, item.name, item.hint);
    const target = b.cache.relations.get(`${rel.foreignTable.schema}.${rel.foreignTable.name}`)!;
    const key = item.alias ?? item.name;
    const childPath = path ? `${path}.${key}` : key;
    const childAlias = b.alias(target.name);
    const from = rel.computed
      ? `${qualified(rel.fn.schema, rel.fn.name)}(${source.rowExpr ?? alias}) AS ${childAlias}`
      : `${qualified(target.schema, target.name)} AS ${childAlias}`;
    const child = planLevel(b, { relation: target, alias: childAlias }, item.children, childPath);
    const conds = [...joinConditions(b, rel, alias, childAlias), ...child.conditions];
    const toOne = isToOne(rel);
    embeds.set(key, { from, alias: childAlias, conditions: conds, toOne });
    const where = conds.length ? ` WHERE ${conds.join(" AND ")}` : "";
    if (item.joinType === "inner") conditions.push(`EXISTS (SELECT 1 FROM ${from}${where})`);
    if (item.children.length === 0) continue; // `rel()` only filters the parent
    const childOrder = child.orderBy.length ? ` ORDER BY ${child.orderBy.join(", ")}` : "";
    if (item.spread && toOne) {
      // The embedded columns become the parent's; an aggregate among them aggregates in the parent.
      for (const e of child.entries) entries.push({ ...e, value: `(SELECT ${e.value} FROM ${from}${where} LIMIT 1)` });
      continue;
    }
    if (item.spread) {
      if (child.entries.some((e) => e.aggregate)) {
        throw new ApiError(400, "PGRST127", "Feature not implemented", "Aggregates are not implemented for one-to-many or many-to-many spreads.");
      }
      // Each spread column of a to-many embed becomes an array of its values.
      for (const e of child.entries) {
        entries.push({ value: `COALESCE((SELECT jsonb_agg(${e.value}${childOrder}) FROM ${from}${where}), '[]')`, name: e.name });
      }
      continue;
    }
    // Embeds are jsonb, as in PostgREST: an aggregating parent can group by them (json has no equality).
    const inner = `SELECT ${selectList(child)} FROM ${from}${where}${groupBy(child)}`;
    if (toOne) {
      entries.push({ value: `(SELECT to_jsonb(pgrst_row) FROM (${inner} LIMIT 1) AS pgrst_row)`, name: key });
    } else {
      const page = `${child.limit !== undefined ? ` LIMIT ${b.param(child.limit)}` : ""}${child.offset !== undefined ? ` OFFSET ${b.param(child.offset)}` : ""}`;
      entries.push({ value: `COALESCE((SELECT jsonb_agg(pgrst_row) FROM (${inner}${childOrder}${page}) AS pgrst_row), '[]')`, name: key });
    }
  }
  if (options.skipFilters) return { entries, conditions, orderBy: [] };
  for (const tree of opts.filters) conditions.push(compileTree(b, alias, tree, embeds));
  const orderBy = opts.order && !options.skipOrder ? orderClause(b, alias, opts.order, embeds, relation?.name ?? "") : [];
  return { entries, conditions, orderBy, limit: opts.limit, offset: opts.offset };
}
