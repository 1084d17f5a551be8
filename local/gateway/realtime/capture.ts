// Change capture by push (docs/supabase-standin-spec.md §3.6): the gateway streams a temporary logical
// replication slot over the replication protocol (pg-logical-replication, pgoutput on the
// `supabase_realtime` publication), so a commit reaches subscribers as soon as Postgres has decoded it,
// with no polling interval in between. pgoutput decodes only the published tables, and picks up
// `alter publication` by itself, the way Realtime scopes its slot to the publication.
//
// A temporary slot belongs to its session: it is created on the replication connection itself, so a
// crashed gateway can never leave a slot behind that holds WAL; leftovers of the permanent kind (from an
// older build) are dropped at startup when no session uses them. A lost connection (a database restart)
// opens a new slot; changes committed in between are lost, as with Realtime.
//
// Memory stays bounded however large a transaction is: the stream is read with flow control (the socket
// is paused while a message is handled), changes are handed on in chunks of at most `chunkSize`, and a
// chunk is awaited before the next message is read, so a million-row transaction waits in Postgres (which
// spills it to disk) and in the TCP window, never in the gateway's heap. Changes of tables nobody
// subscribes to are acknowledged without being turned into rows, so the slot keeps advancing.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from "pg-logical-replication";

export const SLOT_PREFIX = "leadloop_realtime_";
export const PUBLICATION = "supabase_realtime";

/** One column of a decoded row: Postgres's text form, `null` for SQL NULL, `undefined` for an unchanged TOASTed value. */
export interface WalColumn {
  name: string;
  typeoid: number;
  value: string | null | undefined;
}

export interface WalChange {
  action: "I" | "U" | "D";
  schema: string;
  table: string;
  /** Commit time as realtime sends it: YYYY-MM-DDTHH:MI:SS.mmmZ */
  commitTimestamp: string;
  /** The transaction's id, to wait until it is visible to other sessions (visibility.ts). */
  xid: number;
  /** The new row (INSERT, UPDATE); empty for DELETE. */
  columns: WalColumn[];
  /** The old row as the replica identity gives it (UPDATE when sent, DELETE); only key columns unless REPLICA IDENTITY FULL. */
  identity: WalColumn[];
}

export interface CapturedTable {
  schema: string;
  table: string;
}

export interface CaptureOptions {
  dbUrl: string;
  /** Called with at most `chunkSize` changes at a time; the stream waits until it resolves. */
  onChanges: (changes: WalChange[]) => Promise<void>;
  onError?: (error: Error) => void;
  /** Changes handed on per call (default 500); bounds the memory one transaction can take. */
  chunkSize?: number;
  /** Whether anybody listens to a table right now; asked once per table and transaction. */
  wantsTable?: (schema: string, table: string) => boolean;
  /** The stream announced a table's (new) shape: before its first change in a session, and after DDL on it. */
  onRelation?: (schema: string, table: string) => void;
}

export interface CaptureStats {
  /** Transactions read from the stream. */
  transactions: number;
  /** Changes acknowledged without being turned into rows because nobody listened to their table. */
  skippedUnwanted: number;
  /** Changes turned into rows, per "schema.table". */
  parsedByTable: Map<string, number>;
  /** Largest number of changes handed to onChanges in one call. */
  largestChunk: number;
  /** Replication sessions opened (1 + reconnects). */
  sessions: number;
}

export interface Capture {
  /** The current slot's name (a new one after each reconnect). */
  readonly slotName: string;
  stats: CaptureStats;
  close(): Promise<void>;
}

export const DEFAULT_CHUNK_SIZE = 500;
const RECONNECT_DELAY_MS = 1000;

/**
 * pgoutput on a temporary slot made by the replication connection itself, with every column kept in
 * Postgres's text form (the library would otherwise run node-postgres's type parsers, turning a
 * timestamptz into a millisecond Date, for instance): records.ts types them the way to_jsonb does.
 */
class TemporarySlotPgoutput extends PgoutputPlugin {
  constructor(private readonly onSlotReady: () => void) {
    super({ protoVersion: 1, publicationNames: [PUBLICATION] });
  }

  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer);
    if (message.tag === "relation") for (const column of message.columns) column.parser = (raw: unknown) => raw;
    return message;
  }

  override async start(client: pg.Client, slotName: string, lastLsn: string): Promise<unknown> {
    await client.query(`CREATE_REPLICATION_SLOT "${slotName}" TEMPORARY LOGICAL pgoutput`);
    this.onSlotReady();
    return super.start(client, slotName, lastLsn);
  }
}

export function commitTimestampIso(commitTimeMicros: bigint): string {
  return new Date(Number(commitTimeMicros / 1000n)).toISOString();
}

function tupleColumns(relation: Pgoutput.MessageRelation, tuple: Record<string, unknown> | null, keyOnly: boolean): WalColumn[] {
  if (!tuple) return [];
  const out: WalColumn[] = [];
  for (const column of relation.columns) {
    if (keyOnly && !(column.flags & 1)) continue;
    const value = tuple[column.name];
    out.push({ name: column.name, typeoid: column.typeOid, value: value === undefined ? undefined : (value as string | null) });
  }
  return out;
}

async function dropLeftoverSlots(dbUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: dbUrl, application_name: "leadloop realtime" });
  await client.connect();
  try {
    await client.query(
      `select pg_drop_replication_slot(slot_name) from pg_replication_slots
        where starts_with(slot_name, $1) and not active and not temporary and database = current_database()`,
      [SLOT_PREFIX],
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startCapture(options: CaptureOptions): Promise<Capture> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new Error(`realtime capture chunkSize must be a positive integer, got ${chunkSize}`);
  const stats: CaptureStats = { transactions: 0, skippedUnwanted: 0, parsedByTable: new Map(), largestChunk: 0, sessions: 0 };
  let slotName = "";
  let stopped = false;
  let service: LogicalReplicationService | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;

  // The transaction being read: its commit time, which tables are wanted, and the chunk being filled.
  let commitTimestamp = "";
  let xid = 0;
  let wanted = new Map<number, boolean>();
  let chunk: WalChange[] = [];

  async function flush(): Promise<void> {
    if (chunk.length === 0) return;
    const changes = chunk;
    chunk = [];
    stats.largestChunk = Math.max(stats.largestChunk, changes.length);
    try {
      await options.onChanges(changes);
    } catch (error) {
      // Delivery is at most once: a chunk that fails is reported and the stream goes on.
      options.onError?.(error as Error);
    }
  }

  function isWanted(relation: Pgoutput.MessageRelation): boolean {
    let answer = wanted.get(relation.relationOid);
    if (answer === undefined) {
      answer = options.wantsTable ? options.wantsTable(relation.schema, relation.name) : true;
      wanted.set(relation.relationOid, answer);
    }
    return answer;
  }

  async function onMessage(message: Pgoutput.Message): Promise<void> {
    switch (message.tag) {
      case "begin":
        commitTimestamp = commitTimestampIso(message.commitTime as bigint);
        xid = message.xid;
        wanted = new Map();
        chunk = [];
        return;
      case "commit":
        stats.transactions++;
        await flush();
        return;
      case "insert":
      case "update":
      case "delete": {
        const relation = message.relation;
        if (!isWanted(relation)) {
          stats.skippedUnwanted++;
          return;
        }
        const key = `${relation.schema}.${relation.name}`;
        stats.parsedByTable.set(key, (stats.parsedByTable.get(key) ?? 0) + 1);
        const base = { schema: relation.schema, table: relation.name, commitTimestamp, xid };
        if (message.tag === "insert") {
          chunk.push({ ...base, action: "I", columns: tupleColumns(relation, message.new, false), identity: [] });
        } else if (message.tag === "update") {
          const identity = message.old ? tupleColumns(relation, message.old, false) : tupleColumns(relation, message.key, true);
          chunk.push({ ...base, action: "U", columns: tupleColumns(relation, message.new, false), identity });
        } else {
          const identity = message.old ? tupleColumns(relation, message.old, false) : tupleColumns(relation, message.key, true);
          chunk.push({ ...base, action: "D", columns: [], identity });
        }
        if (chunk.length >= chunkSize) await flush();
        return;
      }
      case "relation":
        options.onRelation?.(message.schema, message.name);
        return;
      default:
        return; // type, origin, truncate (Realtime does not deliver TRUNCATE), message
    }
  }

  /** Opens a replication session with a fresh temporary slot; resolves once the slot exists and streaming starts. */
  function openSession(): Promise<void> {
    const name = `${SLOT_PREFIX}${process.pid}_${randomBytes(4).toString("hex")}`;
    const current = new LogicalReplicationService(
      {
        connectionString: options.dbUrl,
        application_name: "leadloop realtime replication",
        // Values are decoded in the walsender's session: text forms in UTC, ISO dates.
        options: "-c timezone=UTC -c datestyle=ISO,YMD -c intervalstyle=postgres -c extra_float_digits=1",
      },
      { acknowledge: { auto: false, timeoutSeconds: 5 }, flowControl: { enabled: true } },
    );
    service = current;
    stats.sessions++;
    current.on("data", async (lsn: string, message: Pgoutput.Message) => {
      await onMessage(message);
      // Confirm each transaction once it was delivered, so the slot never holds WAL behind a quiet stream.
      if (message.tag === "commit") await current.acknowledge(lsn);
    });
    current.on("heartbeat", async (lsn: string, _timestamp: number, shouldRespond: boolean) => {
      if (shouldRespond) await current.acknowledge(lsn);
    });
    current.on("error", (error: Error) => {
      if (!stopped) options.onError?.(error);
    });
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const plugin = new TemporarySlotPgoutput(() => {
        slotName = name;
      });
      current.once("start", () => {
        started = true;
        resolve();
      });
      current
        .subscribe(plugin, name)
        .catch((error: Error) => {
          if (!started) reject(error);
          else if (!stopped) options.onError?.(error);
        })
        .finally(() => {
          if (!started) return;
          // The session ended (database restart, dropped connection): a new slot takes over.
          if (!stopped && service === current) scheduleReconnect();
        });
    });
  }

  function scheduleReconnect(): void {
    if (stopped || reconnectTimer) return;
    chunk = [];
    reconnectTimer = setTimeout(async () => {
      reconnectTimer = undefined;
      try {
        await openSession();
      } catch (error) {
        if (!stopped) options.onError?.(error as Error);
        scheduleReconnect();
      }
    }, RECONNECT_DELAY_MS);
    reconnectTimer.unref();
  }

  try {
    await dropLeftoverSlots(options.dbUrl);
    await openSession();
  } catch (error) {
    stopped = true;
    await service?.destroy().catch(() => undefined);
    throw new Error(
      `realtime could not stream its replication slot (needs wal_level=logical, a free replication slot and the ${PUBLICATION} publication): ${(error as Error).message}`,
      { cause: error },
    );
  }

  return {
    get slotName() {
      return slotName;
    },
    stats,
    async close() {
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      // Ending the session drops its temporary slot.
      await service?.destroy().catch(() => undefined);
    },
  };
}
