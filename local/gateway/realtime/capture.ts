// Change capture the way Realtime does it (docs/supabase-standin-spec.md §3.6): a temporary logical replication slot with wal2json
// (format-version 2, include-pk, include-type-oids, include-timestamp), polled with
// pg_logical_slot_get_changes. A temporary slot belongs to its session, so a crashed gateway can never
// leave a slot behind that holds WAL or blocks the next one; leftovers of the permanent kind (from an
// older build) are dropped at startup when no session is using them.
//
// Memory stays bounded however large a transaction is (logical decoding always returns whole
// transactions, and one bulk insert once put a million rows into a single result and the gateway out of
// heap): the changes are read through a cursor, `chunkSize` rows per FETCH, and each chunk is delivered
// and awaited before the next one is fetched. Postgres materialises the decoded changes server-side
// (spilling to disk past work_mem). Tables nobody subscribes to are left out by wal2json's `add-tables`,
// as Realtime does with the publication's tables, and when nobody subscribes to anything the slot is
// advanced without decoding at all, so WAL never piles up behind it.
import { randomBytes } from "node:crypto";
import pg from "pg";

export const SLOT_PREFIX = "leadloop_realtime_";

export interface WalColumn {
  name: string;
  type: string;
  typeoid: number;
  value?: unknown;
}

export interface WalChange {
  action: "I" | "U" | "D";
  schema: string;
  table: string;
  /** Commit time as realtime sends it: YYYY-MM-DDTHH:MI:SS.mmmZ */
  commitTimestamp: string;
  columns: WalColumn[];
  identity: WalColumn[];
  pk: WalColumn[];
}

export interface CapturedTable {
  schema: string;
  table: string;
}

export interface CaptureOptions {
  dbUrl: string;
  pollIntervalMs: number;
  /** Called with at most `chunkSize` changes at a time; the next chunk is fetched once it resolves. */
  onChanges: (changes: WalChange[]) => Promise<void>;
  onError?: (error: Error) => void;
  /** Rows fetched from the decoding cursor per round trip (default 500). */
  chunkSize?: number;
  /**
   * The tables whose changes are wanted right now, read once per poll. Changes of other tables are never
   * decoded into rows; an empty list advances the slot without decoding. Without it, every table is read.
   */
  wantedTables?: () => CapturedTable[];
}

export interface CaptureStats {
  polls: number;
  /** Polls that advanced the slot without decoding because no table was wanted. */
  advancesWithoutDecoding: number;
  /** Changes parsed from wal2json rows, per "schema.table". */
  parsedByTable: Map<string, number>;
  /** Largest number of changes handed to onChanges in one call. */
  largestChunk: number;
}

export interface Capture {
  slotName: string;
  stats: CaptureStats;
  close(): Promise<void>;
}

export const DEFAULT_CHUNK_SIZE = 500;

const MAX_TRANSACTIONS_PER_POLL = 1000;

/** Prefix of the WAL messages the poller writes only to force a flush; decoding filters them out. */
const FLUSH_MESSAGE_PREFIX = "leadloop_realtime_flush";

const WAL2JSON_OPTIONS = [
  "format-version", "2",
  "include-pk", "1",
  "include-type-oids", "1",
  "include-timestamp", "1",
  "include-transaction", "0",
  "actions", "insert,update,delete",
  "filter-msg-prefixes", FLUSH_MESSAGE_PREFIX,
];


/** wal2json's table list syntax: schema.table, comma separated, with space ' , . * and backslash escaped by a backslash. */
export function wal2jsonTableList(tables: CapturedTable[]): string {
  const escape = (name: string) => name.replace(/[\\ ',.*]/g, (ch) => `\\${ch}`);
  return tables.map((t) => `${escape(t.schema)}.${escape(t.table)}`).join(",");
}

export function commitTimestampIso(walTimestamp: string): string {
  const iso = walTimestamp.trim().replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00");
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? walTimestamp : new Date(ms).toISOString();
}

function parseWalRow(data: string): WalChange | undefined {
  const raw = JSON.parse(data) as {
    action: string;
    timestamp?: string;
    schema?: string;
    table?: string;
    columns?: WalColumn[];
    identity?: WalColumn[];
    pk?: WalColumn[];
  };
  if (raw.action !== "I" && raw.action !== "U" && raw.action !== "D") return undefined;
  if (!raw.schema || !raw.table) return undefined;
  return {
    action: raw.action,
    schema: raw.schema,
    table: raw.table,
    commitTimestamp: raw.timestamp ? commitTimestampIso(raw.timestamp) : new Date().toISOString(),
    columns: raw.columns ?? [],
    identity: raw.identity ?? [],
    pk: raw.pk ?? [],
  };
}

export async function startCapture(options: CaptureOptions): Promise<Capture> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new Error(`realtime capture chunkSize must be a positive integer, got ${chunkSize}`);
  const slotName = `${SLOT_PREFIX}${process.pid}_${randomBytes(4).toString("hex")}`;
  let client: pg.Client | undefined = await openSlot(options, slotName);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  const stats: CaptureStats = { polls: 0, advancesWithoutDecoding: 0, parsedByTable: new Map(), largestChunk: 0 };
  const cursorName = "leadloop_realtime_changes";

  /** params: slot, upto_lsn, upto_nchanges, then wal2json option names and values. */
  function declareCursorSql(paramCount: number): string {
    const pluginOptions = Array.from({ length: paramCount - 3 }, (_, i) => `$${i + 4}`).join(", ");
    return `declare ${cursorName} no scroll cursor for
      select data from pg_logical_slot_get_changes($1, $2::pg_lsn, $3, ${pluginOptions})`;
  }

  async function deliverChunk(rows: Array<{ data: string }>): Promise<void> {
    const changes: WalChange[] = [];
    for (const row of rows) {
      const change = parseWalRow(row.data);
      if (!change) continue;
      const key = `${change.schema}.${change.table}`;
      stats.parsedByTable.set(key, (stats.parsedByTable.get(key) ?? 0) + 1);
      changes.push(change);
    }
    if (changes.length === 0) return;
    stats.largestChunk = Math.max(stats.largestChunk, changes.length);
    try {
      await options.onChanges(changes);
    } catch (error) {
      // The slot has already moved past these changes (below), so a failed chunk is reported and the
      // rest of the poll still goes out rather than being dropped with it.
      options.onError?.(error as Error);
    }
  }

  async function pollOnce(db: pg.Client): Promise<number> {
    stats.polls++;
    // `upto` is read before the wanted tables: a subscription made after that read can only see commits
    // that start after `upto`, which this poll leaves in the slot for the next one (with the new table
    // list). The flush makes everything up to `upto` readable by logical decoding.
    const { rows: [{ upto }] } = await db.query<{ upto: string }>(
      `select pg_current_wal_insert_lsn()::text as upto,
              case when pg_current_wal_insert_lsn() > pg_current_wal_flush_lsn() then pg_logical_emit_message(true, $1, '') end`,
      [FLUSH_MESSAGE_PREFIX],
    );
    const wanted = options.wantedTables?.();
    if (wanted && wanted.length === 0) {
      // Nobody listens: move the slot past everything without decoding a single change. Never behind its
      // confirmed position, which pg_replication_slot_advance refuses.
      await db.query(
        `select pg_replication_slot_advance(slot_name, greatest($2::pg_lsn, confirmed_flush_lsn))
           from pg_replication_slots where slot_name = $1`,
        [slotName, upto],
      );
      stats.advancesWithoutDecoding++;
      return 0;
    }
    const params: unknown[] = [slotName, upto, MAX_TRANSACTIONS_PER_POLL, ...WAL2JSON_OPTIONS];
    if (wanted) params.push("add-tables", wal2jsonTableList(wanted));
    // pg_logical_slot_get_changes confirms the slot's new position as soon as it has run (on the first
    // FETCH), and a rollback does not undo that: delivery is at most once. An error part-way (a broken
    // connection) loses the rest of this poll, as a dropped session loses its temporary slot anyway.
    let total = 0;
    await db.query("begin");
    try {
      await db.query(declareCursorSql(params.length), params);
      for (;;) {
        const { rows } = await db.query<{ data: string }>(`fetch ${chunkSize} from ${cursorName}`);
        total += rows.length;
        if (rows.length > 0) await deliverChunk(rows);
        if (rows.length < chunkSize) break;
      }
      await db.query("commit");
    } catch (error) {
      await db.query("rollback").catch(() => undefined);
      throw error;
    }
    return total;
  }

  function schedule(delay: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      current = (async () => {
        let next = options.pollIntervalMs;
        try {
          // The session (and with it the temporary slot) is gone after a database restart or a dropped
          // connection: open a new one. Changes committed in between are lost, as with Realtime.
          client ??= await openSlot(options, slotName);
          const count = await pollOnce(client);
          if (count >= MAX_TRANSACTIONS_PER_POLL) next = 0;
        } catch (error) {
          if (!stopped) options.onError?.(error as Error);
          const broken = client;
          client = undefined;
          await broken?.end().catch(() => undefined);
          next = Math.max(options.pollIntervalMs, 1000);
        }
        schedule(next);
      })();
    }, delay);
  }
  schedule(0);

  return {
    slotName,
    stats,
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current?.catch(() => undefined);
      if (!client) return;
      // Dropping explicitly frees the slot at once; ending the session would drop it anyway.
      await client.query("select pg_drop_replication_slot($1)", [slotName]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

async function openSlot(options: CaptureOptions, slotName: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: options.dbUrl, application_name: "leadloop realtime wal poller" });
  client.on("error", (error) => options.onError?.(error));
  await client.connect();
  try {
    // The local cluster runs with synchronous_commit=off, and logical decoding only reads flushed WAL, so
    // commits would wait for the WAL writer (200 ms cycles). A synchronous commit that wrote WAL flushes
    // everything before it: before each read, when WAL is unflushed, this session commits a tiny
    // transactional message synchronously (decoding skips it by prefix).
    await client.query("set synchronous_commit = on");
    await client.query("set timezone = 'UTC'");
    await client.query(
      `select pg_drop_replication_slot(slot_name) from pg_replication_slots
        where starts_with(slot_name, $1) and not active and database = current_database()`,
      [SLOT_PREFIX],
    );
    await client.query(`select pg_create_logical_replication_slot($1, 'wal2json', true)`, [slotName]);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new Error(
      `realtime could not open its wal2json replication slot (needs wal_level=logical, a free replication slot and wal2json installed): ${(error as Error).message}`,
      { cause: error },
    );
  }
  return client;
}
