// Small HTTP helpers shared by the gateway's services: bounded bodies and answers.
import type { IncomingMessage, ServerResponse } from "node:http";

/** The client went away mid-body; there is nobody left to answer. */
export class RequestAbortedError extends Error {
  constructor() {
    super("request aborted");
  }
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes`);
  }
}

/** Reads the whole body, refusing more than `limit` bytes (checked on Content-Length first, then while streaming). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on("error", (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
    req.on("aborted", () => {
      if (!failed) {
        failed = true;
        reject(new RequestAbortedError());
      }
    });
  });
}

export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | string[]>,
  body?: string | Buffer,
): void {
  if (res.headersSent || res.destroyed) return;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  // A refused body is not read any further: the connection closes once the answer is out, and a
  // well-behaved client (fetch included) stops sending as soon as it sees it.
  if (status === 413) res.setHeader("Connection", "close");
  res.statusCode = status;
  res.end(body);
}

/**
 * After an answer that did not read the whole request body (a 401, a 404, a GET with a body), Node keeps
 * the connection alive by reading and discarding the rest, for as long as the client sends. Instead,
 * such an answer closes the connection: keep-alive comes back only once the body was read to its end.
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
  if (!hasBody || req.complete) return;
  const keepAlive = res.shouldKeepAlive;
  res.shouldKeepAlive = false;
  req.once("end", () => {
    if (!res.headersSent) res.shouldKeepAlive = keepAlive;
  });
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(", ") : v;
}
