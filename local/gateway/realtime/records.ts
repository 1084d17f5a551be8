// Turns wal2json column values into the typed JSON Realtime sends (docs/supabase-standin-spec.md §3.5: what Postgres
// `to_jsonb(value::type)` gives). Common types are converted here; any other type (arrays, enums,
// intervals, ranges, bytea, ...) is cast by Postgres itself in one query per poll.
import type pg from "pg";
import type { WalColumn } from "./capture.ts";

const OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
  name: 19,
  char: 18,
} as const;

const passThroughStrings = new Set<number>([OID.text, OID.bpchar, OID.varchar, OID.date, OID.time, OID.uuid, OID.name, OID.char]);
const numberTypes = new Set<number>([OID.int2, OID.int4, OID.int8, OID.oid, OID.float4, OID.float8, OID.numeric]);

const NEEDS_SQL = Symbol("needs sql cast");

function convertLocally(value: unknown, typeoid: number): unknown {
  if (value === null || value === undefined) return null;
  if (typeoid === OID.bool && typeof value === "boolean") return value;
  if (numberTypes.has(typeoid) && typeof value === "number") return value;
  if (typeof value !== "string") return NEEDS_SQL;
  if (passThroughStrings.has(typeoid)) return value;
  if (typeoid === OID.json || typeoid === OID.jsonb) {
    try {
      return JSON.parse(value);
    } catch {
      return NEEDS_SQL;
    }
  }
  if (typeoid === OID.timestamp) return value.replace(" ", "T");
  if (typeoid === OID.timestamptz) return value.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00");
  return NEEDS_SQL;
}

/** A row as name -> typed JSON value, in column order. */
export type TypedRow = Record<string, unknown>;

interface PendingCast {
  row: TypedRow;
  name: string;
  text: string;
  /** format_type() output from wal2json: quoted by Postgres, so safe to put in SQL. */
  sqlType: string;
}

/** Converts many rows at once; `rows[i]` is the list of wal2json columns of row i. */
export async function typedRows(db: pg.ClientBase | pg.Pool, rows: WalColumn[][]): Promise<TypedRow[]> {
  const pending: PendingCast[] = [];
  const result = rows.map((columns) => {
    const row: TypedRow = {};
    for (const column of columns) {
      const converted = convertLocally(column.value, column.typeoid);
      if (converted === NEEDS_SQL) {
        row[column.name] = null;
        pending.push({ row, name: column.name, text: typeof column.value === "string" ? column.value : JSON.stringify(column.value), sqlType: column.type });
      } else {
        row[column.name] = converted;
      }
    }
    return row;
  });
  const CHUNK = 500;
  for (let start = 0; start < pending.length; start += CHUNK) {
    const chunk = pending.slice(start, start + CHUNK);
    const values = chunk.map((p, i) => `(${i}, to_jsonb($${i + 1}::text::${p.sqlType}))`).join(", ");
    try {
      const { rows: out } = await db.query<{ values: unknown[] }>(
        `select jsonb_agg(v order by i) as values from (values ${values}) as x(i, v)`,
        chunk.map((p) => p.text),
      );
      const casted = out[0]?.values ?? [];
      chunk.forEach((p, i) => {
        p.row[p.name] = casted[i] ?? null;
      });
    } catch {
      // A type Postgres cannot round-trip from text: keep its text form rather than lose the change.
      for (const p of chunk) p.row[p.name] = p.text;
    }
  }
  return result;
}

/** The text form used by filters and PK lookups. */
export function textForm(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
