// PostgREST's relationships (docs/supabase-standin-spec.md §1.5): built once per schema cache load from the
// foreign keys (tables and views), their inverses, many-to-many junctions and computed relationships
// (functions taking a row), then looked up per embed by target name and hint the way PostgREST 12/13 does.
import { ApiError } from "./errors.ts";
import type { ForeignKey, Relation } from "./catalog.ts";

export interface QualifiedName {
  schema: string;
  name: string;
}

/** [column of the origin table, column of the foreign table] */
export type ColumnPair = [string, string];

export interface Junction {
  table: QualifiedName;
  constraint1: string;
  constraint2: string;
  /** [origin column, junction column] */
  source: ColumnPair[];
  /** [foreign table column, junction column] */
  target: ColumnPair[];
}

export type Cardinality =
  | { kind: "many-to-one" | "one-to-many"; constraint: string; columns: ColumnPair[] }
  | { kind: "one-to-one"; constraint: string; columns: ColumnPair[] }
  | { kind: "many-to-many"; junction: Junction };

export type Relationship =
  | {
      computed: false;
      table: QualifiedName;
      foreignTable: QualifiedName;
      isSelf: boolean;
      cardinality: Cardinality;
      tableIsView: boolean;
      foreignTableIsView: boolean;
    }
  | { computed: true; fn: QualifiedName; table: QualifiedName; foreignTable: QualifiedName; toOne: boolean; isSelf: boolean };

export interface ComputedRelationship {
  fn: QualifiedName;
  table: QualifiedName;
  foreignTable: QualifiedName;
  toOne: boolean;
}

/** Relationships by origin table (`schema.name`), as PostgREST's RelationshipsMap. */
export type RelationshipsMap = Map<string, Relationship[]>;

const key = (q: QualifiedName) => `${q.schema}.${q.name}`;
const same = (a: QualifiedName, b: QualifiedName) => a.schema === b.schema && a.name === b.name;

export function isToOne(r: Relationship): boolean {
  return r.computed ? r.toOne : r.cardinality.kind === "many-to-one" || r.cardinality.kind === "one-to-one";
}

function isUnique(rel: Relation | undefined, columns: string[]): boolean {
  return !!rel && rel.uniqueKeys.some((k) => k.length === columns.length && k.every((c) => columns.includes(c)));
}

/**
 * Every relationship PostgREST knows: many-to-one (one-to-one when the FK columns are unique) from each
 * foreign key, the inverse of each, many-to-many through a table whose primary key covers both of its
 * foreign keys, and computed relationships, which replace detected ones of the same name.
 */
export function buildRelationships(
  relations: Map<string, Relation>,
  foreignKeys: ForeignKey[],
  computed: ComputedRelationship[],
  exposed: string[],
): RelationshipsMap {
  const isView = (q: QualifiedName) => {
    const kind = relations.get(key(q))?.kind;
    return kind === "v" || kind === "m";
  };
  const direct: Relationship[] = [];
  for (const fk of foreignKeys) {
    const table = { schema: fk.schema, name: fk.table };
    const foreignTable = { schema: fk.refSchema, name: fk.refTable };
    const columns = fk.columns.map((c, i): ColumnPair => [c, fk.refColumns[i]]);
    const oneToOne = isUnique(relations.get(key(table)), fk.columns);
    const base = { computed: false as const, isSelf: same(table, foreignTable), tableIsView: isView(table), foreignTableIsView: isView(foreignTable) };
    direct.push({ ...base, table, foreignTable, cardinality: { kind: oneToOne ? "one-to-one" : "many-to-one", constraint: fk.name, columns } });
    direct.push({
      ...base,
      table: foreignTable,
      foreignTable: table,
      tableIsView: base.foreignTableIsView,
      foreignTableIsView: base.tableIsView,
      cardinality: { kind: oneToOne ? "one-to-one" : "one-to-many", constraint: fk.name, columns: columns.map(([a, b]): ColumnPair => [b, a]) },
    });
  }
  // Many-to-many: two foreign keys of one junction table, both covered by its primary key.
  const manyToOne = direct.filter((r) => !r.computed && r.cardinality.kind === "many-to-one");
  for (const a of manyToOne) {
    for (const b of manyToOne) {
      if (a === b || a.computed || b.computed || !same(a.table, b.table)) continue;
      const ca = a.cardinality as { constraint: string; columns: ColumnPair[] };
      const cb = b.cardinality as { constraint: string; columns: ColumnPair[] };
      if (ca.constraint === cb.constraint) continue;
      const pk = relations.get(key(a.table))?.primaryKey ?? [];
      if (![...ca.columns, ...cb.columns].every(([c]) => pk.includes(c))) continue;
      direct.push({
        computed: false,
        table: a.foreignTable,
        foreignTable: b.foreignTable,
        isSelf: same(a.foreignTable, b.foreignTable),
        tableIsView: a.foreignTableIsView,
        foreignTableIsView: b.foreignTableIsView,
        cardinality: {
          kind: "many-to-many",
          junction: {
            table: a.table,
            constraint1: ca.constraint,
            constraint2: cb.constraint,
            source: ca.columns.map(([j, t]): ColumnPair => [t, j]),
            target: cb.columns.map(([j, t]): ColumnPair => [t, j]),
          },
        },
      });
    }
  }
  // Keyed by (origin, foreign table) for detected and (origin, function) for computed ones: a computed
  // relationship named like a table replaces the relationships detected between the two.
  const byPair = new Map<string, Relationship[]>();
  for (const r of direct) {
    const k = `${key(r.table)}|${key(r.foreignTable)}`;
    byPair.set(k, [...(byPair.get(k) ?? []), r]);
  }
  for (const c of computed) {
    byPair.set(`${key(c.table)}|${key(c.fn)}`, [{ computed: true, ...c, isSelf: same(c.table, c.foreignTable) }]);
  }
  const map: RelationshipsMap = new Map();
  for (const rels of byPair.values()) {
    for (const r of rels) {
      // Only what lives in exposed schemas (junctions included) can be embedded.
      if (!exposed.includes(r.table.schema) || !exposed.includes(r.foreignTable.schema)) continue;
      if (!r.computed && r.cardinality.kind === "many-to-many" && !exposed.includes(r.cardinality.junction.table.schema)) continue;
      map.set(key(r.table), [...(map.get(key(r.table)) ?? []), r]);
    }
  }
  return map;
}

function singleColumn(c: Cardinality, side: 0 | 1): string | undefined {
  return c.kind !== "many-to-many" && c.columns.length === 1 ? c.columns[0][side] : undefined;
}

function describe(r: Relationship): { cardinality: string; embedding: string; relationship: string } | Record<string, never> {
  if (r.computed) return {};
  const embedding = `${r.table.name} with ${r.foreignTable.name}`;
  const cols = (xs: string[]) => `(${xs.join(", ")})`;
  const c = r.cardinality;
  if (c.kind === "many-to-many") {
    const j = c.junction;
    return {
      cardinality: c.kind,
      embedding,
      relationship: `${j.table.name} using ${j.constraint1}${cols(j.source.map(([, jc]) => jc))} and ${j.constraint2}${cols(j.target.map(([, jc]) => jc))}`,
    };
  }
  return {
    cardinality: c.kind,
    embedding,
    relationship: `${c.constraint} using ${r.table.name}${cols(c.columns.map(([a]) => a))} and ${r.foreignTable.name}${cols(c.columns.map(([, b]) => b))}`,
  };
}

function hintFor(r: Relationship): string {
  if (r.computed) return "";
  const c = r.cardinality;
  return `'${r.foreignTable.name}!${c.kind === "many-to-many" ? c.junction.table.name : c.constraint}'`;
}

/**
 * PostgREST's findRel: `/origin?select=target!hint(...)`. The target names a table or view, a foreign key
 * constraint or a foreign key column of the origin (the latter two not for views), or a computed
 * relationship; the hint names a constraint, a foreign key column on either side or a junction table.
 * A self-referencing foreign key gives two relationships, told apart by convention: the table name (or a
 * hint naming the column) for the one-to-many side, the column name for the many-to-one side.
 */
export function findRelationship(relationships: RelationshipsMap, schema: string, origin: string, target: string, hint: string | undefined): Relationship {
  const candidates = (relationships.get(`${schema}.${origin}`) ?? []).filter((r) => r.foreignTable.schema === schema);
  const matches = candidates.filter((r) => {
    if (r.computed) return target === r.fn.name;
    const c = r.cardinality;
    const constraint = c.kind === "many-to-many" ? undefined : c.constraint;
    if (r.isSelf) {
      if (hint === undefined) {
        return (target === r.foreignTable.name && c.kind === "one-to-many") || (singleColumn(c, 0) === target && c.kind === "many-to-one");
      }
      return target === r.foreignTable.name && c.kind === "one-to-many" && singleColumn(c, 1) === hint;
    }
    if (hint === undefined) {
      return (
        target === r.foreignTable.name ||
        (constraint === target && !r.foreignTableIsView) ||
        (singleColumn(c, 0) === target && !r.foreignTableIsView)
      );
    }
    return (
      target === r.foreignTable.name &&
      (constraint === hint ||
        singleColumn(c, 0) === hint ||
        singleColumn(c, 1) === hint ||
        (c.kind === "many-to-many" && c.junction.table.name === hint))
    );
  });
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    throw new ApiError(
      400,
      "PGRST200",
      `Could not find a relationship between '${origin}' and '${target}' in the schema cache`,
      `Searched for a foreign key relationship between '${origin}' and '${target}'${hint !== undefined ? ` using the hint '${hint}'` : ""} in the schema '${schema}', but no matches were found.`,
      noRelationshipHint(relationships, schema, origin, target),
    );
  }
  throw new ApiError(
    300,
    "PGRST201",
    `Could not embed because more than one relationship was found for '${origin}' and '${target}'`,
    matches.map(describe),
    `Try changing '${target}' to one of the following: ${matches.map(hintFor).join(", ")}. Find the desired relationship in the 'details' key.`,
  );
}

/** PostgREST suggests a close name: the origin's when it has no relationships at all, else the target's. */
function noRelationshipHint(relationships: RelationshipsMap, schema: string, origin: string, target: string): string | null {
  const rels = relationships.get(`${schema}.${origin}`);
  if (!rels) {
    const origins = [...relationships.keys()].filter((k) => k.startsWith(`${schema}.`)).map((k) => k.slice(schema.length + 1));
    const close = closest(origin, origins);
    return close ? `Perhaps you meant '${close}' instead of '${origin}'.` : null;
  }
  const targets = rels.map((r) => r.foreignTable.name);
  if (targets.includes(target)) return null;
  const close = closest(target, targets);
  return close ? `Perhaps you meant '${close}' instead of '${target}'.` : null;
}

/** The most similar name by shared bigrams (Dice coefficient), if it is similar enough to suggest. */
function closest(word: string, names: string[]): string | undefined {
  const grams = (s: string) => {
    const t = `-${s.toLowerCase()}-`;
    return Array.from({ length: t.length - 1 }, (_, i) => t.slice(i, i + 2));
  };
  const w = grams(word);
  let best: { name: string; score: number } | undefined;
  for (const name of new Set(names)) {
    const n = grams(name);
    const shared = w.filter((g) => n.includes(g)).length;
    const score = (2 * shared) / (w.length + n.length);
    if (score >= 0.5 && (!best || score > best.score)) best = { name, score };
  }
  return best?.name;
}
