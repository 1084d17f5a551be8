// Plays pg_net's background worker for the SQL-only `net` schema of local/db/platform/30-pg-net.sql
// (docs/supabase-standin-spec.md §4.1): requests queued by net.http_get/http_post/http_delete are sent only after the calling
// transaction commits (we only ever see committed rows), each with its own timeout, and every outcome
// lands in net._http_response with id = request id. Like pg_net, nothing is retried here.
import http from "node:http";
import https from "node:https";
import pg from "pg";
import type { InstanceConfig } from "../../config.ts";

const BATCH_SIZE = 200; // pg_net.batch_size default
const MAX_IN_FLIGHT = 200; // requests sent side by side, at most
const FALLBACK_POLL_MS = 2000; // NOTIFY is the fast path; this only covers a missed notification
const WAKE_CHANNEL = "pg_net_wake";

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, unknown> | null;
  body: Buffer | null;
  timeout_milliseconds: number;
}

interface RequestOutcome {
  id: string;
  statusCode: number | null;
  contentType: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timedOut: boolean;
  errorMessage: string | null;
}

export interface PgNetWorker {
  stop(): Promise<void>;
}

export async function startPgNetWorker({ config }: { config: InstanceConfig }): Promise<PgNetWorker> {
  const pool = new pg.Pool({ connectionString: config.dbUrl, max: 2, application_name: "leadloop pg_net worker" });
  pool.on("error", (error) => console.error("[pg_net] idle connection error:", error.message));

  let stopped = false;
  let running: Promise<void> | null = null;
  let wakeAgain = false;
  let starved = false;
  const inFlight = new Set<Promise<unknown>>();
  let pendingOutcomes: RequestOutcome[] = [];
  let flushing: Promise<void> | null = null;

  // Like pg_net's curl multi handle, requests are sent side by side and a slow one never holds back
  // the ones queued after it: the queue is claimed again whenever there is room, while others are in
  // flight. Outcomes are written as they come, those finishing together in one statement.
  async function drainQueue(): Promise<void> {
    while (!stopped) {
      const room = Math.min(BATCH_SIZE, MAX_IN_FLIGHT - inFlight.size);
      if (room <= 0) {
        starved = true; // the next request to finish wakes the worker again
        return;
      }
      // Claim-and-delete in one statement (pg_net does the same): a second worker on the same
      // database skips locked rows, so a request is never sent twice.
      const { rows } = await pool.query<QueuedRequest>(
        `delete from net.http_request_queue
          where id in (select id from net.http_request_queue order by id limit $1 for update skip locked)
          returning id::text, method::text, url, headers, body, timeout_milliseconds`,
        [room],
      );
      if (rows.length === 0) return;
      rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      for (const row of rows) {
        const request: Promise<void> = sendRequest(row).then((outcome) => {
          pendingOutcomes.push(outcome);
          scheduleFlush();
        });
        inFlight.add(request);
        void request.finally(() => {
          inFlight.delete(request);
          if (starved && !stopped) {
            starved = false;
            wake();
          }
        });
      }
      if (rows.length < room) return;
    }
  }

  function scheduleFlush(): void {
    if (flushing) return;
    flushing = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (pendingOutcomes.length > 0) {
        const outcomes = pendingOutcomes;
        pendingOutcomes = [];
        try {
          await recordOutcomes(outcomes);
        } catch (error) {
          console.error("[pg_net] could not record responses:", (error as Error).message);
        }
      }
    })().finally(() => {
      flushing = null;
    });
  }

  async function recordOutcomes(outcomes: RequestOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await pool.query(
      `insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
       select r.id, r.status_code, r.content_type, r.headers, r.content, r.timed_out, r.error_msg
         from jsonb_to_recordset($1::jsonb) as r(id bigint, status_code int, content_type text, headers jsonb,
                                                 content text, timed_out boolean, error_msg text)`,
      [
        JSON.stringify(
          outcomes.map((o) => ({
            id: o.id,
            status_code: o.statusCode,
            content_type: o.contentType,
            headers: o.headers,
            content: o.content,
            timed_out: o.timedOut,
            error_msg: o.errorMessage,
          })),
        ),
      ],
    );
  }

  function wake(): void {
    if (stopped) return;
    if (running) {
      wakeAgain = true;
      return;
    }
    running = (async () => {
      do {
        wakeAgain = false;
        try {
          await drainQueue();
        } catch (error) {
          if (!stopped) console.error("[pg_net] worker error:", (error as Error).message);
        }
      } while (wakeAgain && !stopped);
    })().finally(() => {
      running = null;
    });
  }

  // LISTEN is the fast path; if its connection drops it is re-opened, and the poll covers the gap.
  let listener: pg.Client | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  async function listen(): Promise<void> {
    const client = new pg.Client({ connectionString: config.dbUrl, application_name: "leadloop pg_net listener" });
    client.on("notification", (message) => {
      if (message.channel === WAKE_CHANNEL) wake();
    });
    client.on("error", (error) => {
      if (!stopped) console.error("[pg_net] listener connection error:", error.message);
    });
    client.on("end", () => {
      if (listener === client) {
        listener = undefined;
        scheduleListen();
      }
    });
    await client.connect();
    await client.query(`listen ${WAKE_CHANNEL}`);
    listener = client;
    wake(); // whatever was queued while nobody listened
  }
  function scheduleListen(): void {
    if (stopped || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      listen().catch(() => scheduleListen());
    }, 1000);
    reconnectTimer.unref();
  }
  await listen();
  const fallbackTimer = setInterval(wake, FALLBACK_POLL_MS);
  fallbackTimer.unref();

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(fallbackTimer);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      await running;
      await Promise.allSettled([...inFlight]);
      await flushing;
      await listener?.end().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const MAX_REDIRECTS = 20;

class TransportError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * One HTTP exchange with node:http(s), not fetch: fetch refuses "bad ports" and some headers that
 * pg_net (libcurl) sends without complaint.
 */
function exchange(url: URL, method: string, headers: Record<string, string>, body: Buffer | null, signal: AbortSignal): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
    if (!transport) {
      reject(new TransportError(`unsupported protocol ${url.protocol}`, "ERR_UNSUPPORTED_PROTOCOL"));
      return;
    }
    const outgoing = { ...headers };
    if (body && !Object.keys(outgoing).some((h) => h.toLowerCase() === "content-length")) outgoing["Content-Length"] = String(body.length);
    const req = transport.request(url, { method, headers: outgoing, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const responseHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
        }
        resolve({ status: res.statusCode ?? 0, headers: responseHeaders, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body ?? undefined);
  });
}

async function sendRequest(request: QueuedRequest): Promise<RequestOutcome> {
  const started = performance.now();
  const timeoutMs = Math.max(1, request.timeout_milliseconds);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const outcome: RequestOutcome = {
    id: request.id,
    statusCode: null,
    contentType: null,
    headers: null,
    content: null,
    timedOut: false,
    errorMessage: null,
  };
  try {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (value === null || value === undefined) continue;
      headers[name] = typeof value === "string" ? value : JSON.stringify(value);
    }
    let method = request.method.toUpperCase();
    let body = request.body && method !== "GET" ? request.body : null;
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw new TransportError("invalid URL", "ERR_INVALID_URL");
    }
    let response = await exchange(url, method, headers, body, controller.signal);
    // pg_net sets CURLOPT_FOLLOWLOCATION; like libcurl, 301/302/303 turn a POST into a GET.
    for (let hops = 0; response.status >= 300 && response.status < 400 && response.headers.location; hops++) {
      if (hops >= MAX_REDIRECTS) throw new TransportError("Number of redirects hit maximum amount", "TOO_MANY_REDIRECTS");
      url = new URL(response.headers.location, url);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
        method = "GET";
        body = null;
        for (const name of Object.keys(headers)) if (/^content-(type|length)$/i.test(name)) delete headers[name];
      }
      response = await exchange(url, method, headers, body, controller.signal);
    }
    const content = response.body.toString("utf8");
    outcome.statusCode = response.status;
    outcome.contentType = response.headers["content-type"] ?? null;
    outcome.headers = response.headers;
    outcome.content = content === "" ? null : content; // pg_net stores no content for an empty body
  } catch (error) {
    const elapsed = (performance.now() - started).toFixed(1);
    if (controller.signal.aborted) {
      outcome.timedOut = true;
      outcome.errorMessage = `Timeout of ${timeoutMs} ms reached. Total time: ${elapsed} ms`;
    } else {
      outcome.errorMessage = transportErrorMessage(error);
    }
  } finally {
    clearTimeout(timer);
  }
  return outcome;
}

/** libcurl's wording (curl_easy_strerror, which pg_net records) for the failures Node reports by code. */
const curlMessages: Record<string, string> = {
  ECONNREFUSED: "Couldn't connect to server",
  EHOSTUNREACH: "Couldn't connect to server",
  ENETUNREACH: "Couldn't connect to server",
  ENOTFOUND: "Couldn't resolve host name",
  EAI_AGAIN: "Couldn't resolve host name",
  ECONNRESET: "Failure when receiving data from the peer",
  UND_ERR_SOCKET: "Failure when receiving data from the peer",
  ERR_INVALID_URL: "URL using bad/illegal format or missing URL",
  ERR_UNSUPPORTED_PROTOCOL: "Unsupported protocol",
  TOO_MANY_REDIRECTS: "Number of redirects hit maximum amount",
  ECONNABORTED: "Failure when receiving data from the peer",
  EPIPE: "Failed sending data to the peer",
  CERT_HAS_EXPIRED: "SSL peer certificate or SSH remote key was not OK",
  DEPTH_ZERO_SELF_SIGNED_CERT: "SSL peer certificate or SSH remote key was not OK",
  SELF_SIGNED_CERT_IN_CHAIN: "SSL peer certificate or SSH remote key was not OK",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "SSL peer certificate or SSH remote key was not OK",
};

function transportErrorMessage(error: unknown): string {
  const err = error as { message?: string; code?: string };
  if (err.code && curlMessages[err.code]) return curlMessages[err.code];
  return err.message ?? String(error);
}
