// Turns the text forms pgoutput streams into the typed JSON Realtime sends (docs/supabase-standin-spec.md §3.5: what
// Postgres `to_jsonb(value::type)` gives). Common types are converted here; any other type (arrays,
// enums, intervals, ranges, bytea, ...) is cast by Postgres itself in one query per chunk.
import type pg from "pg";

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

/** One-dimensional arrays of these element types are converted here too (text[] is common: messages.asks). */
const ARRAY_ELEMENT: Record<number, number> = {
  1000: OID.bool,
  1005: OID.int2,
  1007: OID.int4,
  1009: OID.text,
  1014: OID.bpchar,
  1015: OID.varchar,
  1016: OID.int8,
  1021: OID.float4,
  1022: OID.float8,
  1231: OID.numeric,
  2951: OID.uuid,
  1182: OID.date,
  1185: OID.timestamptz,
};

/** Splits a one-dimensional array literal ({a,"b c",NULL}) into element texts; undefined for anything else. */
export function parseArrayLiteral(text: string): Array<string | null> | undefined {
  if (!text.startsWith("{") || !text.endsWith("}")) return undefined;
  const body = text.slice(1, -1);
  if (body === "") return [];
  const out: Array<string | null> = [];
  let i = 0;
  while (i <= body.length) {
    if (body[i] === "{") return undefined; // more than one dimension
    if (body[i] === '"') {
      let value = "";
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === "\\") i++;
        value += body[i];
        i++;
      }
      if (i >= body.length) return undefined;
      out.push(value);
      i++;
    } else {
      const end = body.indexOf(",", i);
      const raw = body.slice(i, end < 0 ? body.length : end);
      out.push(raw === "NULL" ? null : raw);
      i = end < 0 ? body.length : end;
    }
    if (i === body.length) break;
    if (body[i] !== ",") return undefined;
    i++;
  }
  return out;
}

const passThroughStrings = new Set<number>([OID.text, OID.bpchar, OID.varchar, OID.date, OID.time, OID.uuid, OID.name, OID.char]);
const numberTypes = new Set<number>([OID.int2, OID.int4, OID.int8, OID.oid, OID.float4, OID.float8, OID.numeric]);

const NEEDS_SQL = Symbol("needs sql cast");

/** Postgres's text form of a value -> the JSON to_jsonb gives, for the common types; NEEDS_SQL otherwise. */
function convertLocally(value: string | null, typeoid: number): unknown {
  if (value === null) return null;
  if (passThroughStrings.has(typeoid)) return value;
  if (typeoid === OID.bool) return value === "t" ? true : value === "f" ? false : NEEDS_SQL;
  if (numberTypes.has(typeoid)) {
    // to_jsonb keeps NaN and Infinity as strings; everything else is a JSON number.
    if (!/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(value)) return value;
    const n = Number(value);
    return Number.isFinite(n) ? n : NEEDS_SQL;
  }
  if (typeoid === OID.json || typeoid === OID.jsonb) {
    try {
      return JSON.parse(value);
    } catch {
      return NEEDS_SQL;
    }
  }
  if (typeoid === OID.timestamp) return value.replace(" ", "T");
  if (typeoid === OID.timestamptz) return value.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00");
  const element = ARRAY_ELEMENT[typeoid];
  if (element !== undefined) {
    const items = parseArrayLiteral(value);
    if (!items) return NEEDS_SQL;
    const converted = items.map((item) => convertLocally(item, element));
    return converted.includes(NEEDS_SQL) ? NEEDS_SQL : converted;
  }
  return NEEDS_SQL;
}

/** A row as name -> typed JSON value, in column order. */
export type TypedRow = Record<string, unknown>;

/** One column to type: its text form and, for the types converted by Postgres, the SQL type to cast to. */
export interface RowColumn {
  name: string;
  typeoid: number;
  /** undefined: an unchanged TOASTed value, left out of the row. */
  value: string | null | undefined;
  /** format_type() of the column, quoted by Postgres, so safe to put in SQL. */
  sqlType: string;
}

interface PendingCast {
  row: TypedRow;
  name: string;
  text: string;
  sqlType: string;
}

/** Converts many rows at once: common types here, any other type (arrays, enums, intervals, ranges, bytea, ...) in one query. */
export async function typedRows(db: pg.ClientBase | pg.Pool, rows: RowColumn[][]): Promise<TypedRow[]> {
  const pending: PendingCast[] = [];
  const result = rows.map((columns) => {
    const row: TypedRow = {};
    for (const column of columns) {
      if (column.value === undefined) continue;
      const converted = convertLocally(column.value, column.typeoid);
      if (converted === NEEDS_SQL) {
        row[column.name] = null;
        pending.push({ row, name: column.name, text: column.value as string, sqlType: column.sqlType });
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
