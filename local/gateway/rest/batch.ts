// Several statements in one round trip to Postgres: every Parse/Bind/Execute of a request is written at
// once and closed by a single Sync, so Postgres answers with one flush and the gateway wakes once. (pg's
// own pipeline mode ends every query with a Sync, which costs Postgres a flush and the gateway a wake-up
// per statement; on a loaded machine those wake-ups cost more than the statements.) Used through
// `client.query(batch)`, pg's interface for custom submittables, on a connection that runs nothing else
// meanwhile (a pooled connection held by one request).
//
// Statements are named prepared statements, parsed once per connection (PreparedStatements). As in the
// extended protocol, an error skips everything up to the Sync; the caller sees the first error only.
import pg from "pg";

/** pg's own conversion of JS values to parameters (arrays, JSON, dates), as its queries use it. */
const prepareValue = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils.prepareValue;

export interface BatchStatement {
  text: string;
  values?: unknown[];
  /** Describe and collect this statement's rows (the others' rows are dropped). */
  rows?: boolean;
}

export type Row = Record<string, string | null>;

interface Connection {
  stream: { cork(): void; uncork(): void };
  parse(msg: { name: string; text: string; types?: number[] }): void;
  bind(msg: { portal: string; statement: string; values: unknown[]; valueMapper: (v: unknown) => unknown }): void;
  describe(msg: { type: "P" | "S"; name: string }): void;
  execute(msg: { portal: string; rows?: number }): void;
  close(msg: { type: "P" | "S"; name: string }): void;
  sync(): void;
}

interface FieldDescription {
  name: string;
}

/**
 * The named statements of one connection: what was parsed there, the most recently used first. Past the
 * bound the least recently used one is closed, so odd request shapes cannot grow a connection forever.
 */
export class PreparedStatements {
  private readonly names = new Map<string, string>(); // text -> name, least recently used first
  private readonly parsed = new Set<string>();
  private readonly toClose: string[] = [];
  private counter = 0;

  constructor(private readonly max: number) {}

  /** The statement's name, and whether it must be parsed in this batch. */
  use(text: string): { name: string; parse: boolean } {
    let name = this.names.get(text);
    if (name !== undefined) {
      this.names.delete(text);
      this.names.set(text, name);
      return { name, parse: !this.parsed.has(name) };
    }
    name = `pgrst_${++this.counter}`;
    this.names.set(text, name);
    if (this.names.size > this.max) {
      const [oldText, oldName] = this.names.entries().next().value as [string, string];
      this.forget(oldText, oldName);
    }
    return { name, parse: true };
  }

  /** Names to close before anything else is sent (evicted, or left uncertain by a failed batch). */
  takeClosures(): string[] {
    return this.toClose.splice(0);
  }

  /** The batch succeeded: everything it parsed exists now. */
  confirm(names: string[]): void {
    for (const n of names) this.parsed.add(n);
  }

  /**
   * The batch failed: a statement parsed in it may or may not exist (the error may have been its parse).
   * Closing a statement that does not exist is no error, so such names are closed and never reused.
   */
  abandon(texts: string[]): void {
    for (const text of texts) {
      const name = this.names.get(text);
      if (name !== undefined && !this.parsed.has(name)) this.forget(text, name);
    }
  }

  private forget(text: string, name: string): void {
    this.names.delete(text);
    this.parsed.delete(name);
    this.toClose.push(name);
  }
}

/** One batch on the wire: built by runBatch, fed by pg's client as the backend answers. */
class Batch {
  private readonly parsedNames: string[] = [];
  private current = 0;
  private fields: FieldDescription[] | undefined;
  readonly rows: Row[][];
  private settled = false;

  constructor(
    private readonly statements: BatchStatement[],
    private readonly prepared: PreparedStatements,
    private readonly done: (err: Error | null, batch: Batch) => void,
  ) {
    this.rows = statements.map(() => []);
  }

  /** Called by pg's client when the connection is free: writes every message, then one Sync. */
  submit(connection: Connection): Error | null {
    connection.stream.cork();
    try {
      for (const name of this.prepared.takeClosures()) connection.close({ type: "S", name });
      for (const s of this.statements) {
        const { name, parse } = this.prepared.use(s.text);
        if (parse) {
          connection.parse({ name, text: s.text });
          this.parsedNames.push(name);
        }
        connection.bind({ portal: "", statement: name, values: s.values ?? [], valueMapper: prepareValue });
        if (s.rows) connection.describe({ type: "P", name: "" });
        connection.execute({ portal: "" });
      }
      connection.sync();
    } finally {
      connection.stream.uncork();
    }
    return null;
  }

  handleRowDescription(msg: { fields: FieldDescription[] }): void {
    this.fields = msg.fields;
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    if (!this.statements[this.current]?.rows || !this.fields) return;
    const row: Row = {};
    this.fields.forEach((f, i) => (row[f.name] = msg.fields[i]));
    this.rows[this.current].push(row);
  }

  handleCommandComplete(): void {
    this.current++;
    this.fields = undefined;
  }

  handleEmptyQuery(): void {
    this.handleCommandComplete();
  }

  handlePortalSuspended(): void {
    // Never asked for (no row limits): nothing to resume.
  }

  handleCopyInResponse(): void {
    // COPY FROM STDIN cannot run through here (the statements are the gateway's own).
  }

  handleCopyData(): void {}

  /** The backend reported an error: it skips to the Sync and pg's client forgets this batch. */
  handleError(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.prepared.abandon(this.statements.map((s) => s.text));
    this.done(err, this);
  }

  handleReadyForQuery(): void {
    if (this.settled) return;
    this.settled = true;
    this.prepared.confirm(this.parsedNames);
    this.done(null, this);
  }
}

/** Sends `statements` in one round trip; resolves with each statement's rows (those that asked for them). */
export function runBatch(client: pg.ClientBase, prepared: PreparedStatements, statements: BatchStatement[]): Promise<Row[][]> {
  return new Promise((resolve, reject) => {
    const batch = new Batch(statements, prepared, (err, b) => (err ? reject(err) : resolve(b.rows)));
    client.query(batch as unknown as pg.Submittable);
  });
}
