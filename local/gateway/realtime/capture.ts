// Change capture the way Realtime does it (spec §3.6): a temporary logical replication slot with wal2json
// (format-version 2, include-pk, include-type-oids, include-timestamp), polled with
// pg_logical_slot_get_changes. A temporary slot belongs to its session, so a crashed gateway can never
// leave a slot behind that holds WAL or blocks the next one; leftovers of the permanent kind (from an
// older build) are dropped at startup when no session is using them.
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

export interface CaptureOptions {
  dbUrl: string;
  pollIntervalMs: number;
  onChanges: (changes: WalChange[]) => Promise<void>;
  onError?: (error: Error) => void;
}

export interface Capture {
  slotName: string;
  close(): Promise<void>;
}

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
  const slotName = `${SLOT_PREFIX}${process.pid}_${randomBytes(4).toString("hex")}`;
  let client: pg.Client | undefined = await openSlot(options, slotName);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;

  const getChangesSql = `select data from pg_logical_slot_get_changes($1, null, $2, ${WAL2JSON_OPTIONS.map((_, i) => `$${i + 3}`).join(", ")})`;

  async function pollOnce(db: pg.Client): Promise<number> {
    await db.query(
      "select case when pg_current_wal_insert_lsn() > pg_current_wal_flush_lsn() then pg_logical_emit_message(true, $1, '') end",
      [FLUSH_MESSAGE_PREFIX],
    );
    const { rows } = await db.query<{ data: string }>(getChangesSql, [slotName, MAX_TRANSACTIONS_PER_POLL, ...WAL2JSON_OPTIONS]);
    if (rows.length === 0) return 0;
    const changes: WalChange[] = [];
    for (const row of rows) {
      const change = parseWalRow(row.data);
      if (change) changes.push(change);
    }
    if (changes.length > 0) await options.onChanges(changes);
    return rows.length;
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
