// Resolves `rel[!hint]` in a select to a foreign-key relationship, as PostgREST's schema cache does.
import { ApiError } from "./errors.ts";
import type { ForeignKey, Relation, SchemaCacheData } from "./schema-cache.ts";

export type Cardinality = "many-to-one" | "one-to-many" | "one-to-one" | "many-to-many";

export interface Relationship {
  cardinality: Cardinality;
  target: Relation;
  fk: ForeignKey;
  /** [source column, target column] pairs for direct relationships. */
  pairs: [string, string][];
  junction?: { relation: Relation; toSource: ForeignKey; toTarget: ForeignKey };
}

function isUnique(rel: Relation, columns: string[]): boolean {
  return rel.uniqueKeys.some((k) => k.length === columns.length && k.every((c) => columns.includes(c)));
}

function describe(r: Relationship, source: Relation): { cardinality: string; embedding: string; relationship: string } {
  const name = r.junction ? `${r.junction.toSource.name}, ${r.junction.toTarget.name}` : r.fk.name;
  const via = r.junction ? `${r.junction.relation.schema}.${r.junction.relation.name}` : `${r.target.schema}.${r.target.name}`;
  const using = r.junction ? `${name} using ${via}` : `${name} using ${source.schema}.${source.name}(${r.fk.columns.join(", ")}) and ${r.fk.refSchema}.${r.fk.refTable}(${r.fk.refColumns.join(", ")})`;
  return { cardinality: r.cardinality, embedding: `${source.name} with ${r.target.name}`, relationship: using };
}

export function findRelationship(
  cache: SchemaCacheData,
  source: Relation,
  embedName: string,
  hint: string | undefined,
): Relationship {
  const schema = source.schema;
  const rel = (s: string, n: string) => cache.relations.get(`${s}.${n}`);
  const candidates: Relationship[] = [];
  const isSource = (s: string, t: string) => s === source.schema && t === source.name;
  for (const fk of cache.foreignKeys) {
    // many-to-one (or one-to-one) from the source's FK; embeddable by target name, FK column or constraint name.
    if (isSource(fk.schema, fk.table)) {
      const target = rel(fk.refSchema, fk.refTable);
      const byName = fk.refSchema === schema && fk.refTable === embedName;
      const byColumn = fk.columns.length === 1 && fk.columns[0] === embedName;
      const byConstraint = fk.name === embedName;
      if (target && (byName || byColumn || byConstraint)) {
        candidates.push({
          cardinality: isUnique(source, fk.columns) ? "one-to-one" : "many-to-one",
          target,
          fk,
          pairs: fk.columns.map((c, i) => [c, fk.refColumns[i]]),
        });
      }
    }
    // one-to-many (or one-to-one) from a child's FK to the source.
    if (isSource(fk.refSchema, fk.refTable) && fk.schema === schema && (fk.table === embedName || fk.name === embedName)) {
      const target = rel(fk.schema, fk.table);
      if (target) {
        candidates.push({
          cardinality: isUnique(target, fk.columns) ? "one-to-one" : "one-to-many",
          target,
          fk,
          pairs: fk.refColumns.map((c, i) => [c, fk.columns[i]]),
        });
      }
    }
  }
  // many-to-many through a junction whose FKs point at both sides and are covered by its primary key.
  for (const toSource of cache.foreignKeys) {
    if (!isSource(toSource.refSchema, toSource.refTable)) continue;
    const junction = rel(toSource.schema, toSource.table);
    if (!junction) continue;
    for (const toTarget of cache.foreignKeys) {
      if (toTarget === toSource || toTarget.schema !== junction.schema || toTarget.table !== junction.name) continue;
      if (toTarget.refSchema !== schema || toTarget.refTable !== embedName) continue;
      const target = rel(toTarget.refSchema, toTarget.refTable);
      if (!target) continue;
      const keyCols = junction.primaryKey;
      if (![...toSource.columns, ...toTarget.columns].every((c) => keyCols.includes(c))) continue;
      candidates.push({ cardinality: "many-to-many", target, fk: toTarget, pairs: [], junction: { relation: junction, toSource, toTarget } });
    }
  }
  let matches = candidates;
  if (hint !== undefined) {
    matches = candidates.filter((c) => {
      if (c.junction) {
        return hint === c.junction.relation.name || hint === c.junction.toSource.name || hint === c.junction.toTarget.name;
      }
      return hint === c.fk.name || c.fk.columns.includes(hint) || c.fk.refColumns.includes(hint);
    });
  }
  // A direct relationship beats a many-to-many one through a junction, as in PostgREST.
  if (matches.length > 1 && hint === undefined) {
    const direct = matches.filter((m) => !m.junction);
    if (direct.length === 1) matches = direct;
  }
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    throw new ApiError(
      400,
      "PGRST200",
      `Could not find a relationship between '${source.name}' and '${embedName}' in the schema cache`,
      `Searched for a foreign key relationship between '${source.name}' and '${embedName}'${hint ? ` using the hint '${hint}'` : ""} in the schema '${schema}', but no matches were found.`,
      "Perhaps you meant a different relationship or the foreign key is missing.",
    );
  }
  const options = matches.map((m) => `'${embedName}!${m.junction ? m.junction.relation.name : m.fk.name}'`);
  throw new ApiError(
    300,
    "PGRST201",
    `Could not embed because more than one relationship was found for '${source.name}' and '${embedName}'`,
    matches.map((m) => describe(m, source)),
    `Try changing '${embedName}' to one of the following: ${options.join(", ")}. Find the desired relationship in the 'details' key.`,
  );
}
