// Typed errors and the single place that maps them to HTTP responses. A caller gets a code and a safe
// message: for a 4xx what was wrong with the request, for a 5xx only what kind of failure it was. The
// details of a 5xx (the database's own words, which setting is missing) go to the function's log.
import { ZodError } from "zod";

export class HttpError extends Error {
  /** What the caller is told; `message` (logged for 5xx) may say more. */
  readonly publicMessage: string;
  constructor(readonly status: number, readonly code: string, message: string, publicMessage?: string) {
    super(message);
    this.name = new.target.name;
    this.publicMessage = publicMessage ?? message;
  }
}
export class BadRequestError extends HttpError {
  constructor(message: string) {
    super(400, "bad_request", message);
  }
}
/** No signed-in user: the caller must sign in (401), as opposed to a user without the right (403). */
export class UnauthorizedError extends HttpError {
  constructor(message: string) {
    super(401, "unauthorized", message);
  }
}
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, "forbidden", message);
  }
}
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, "not_found", message);
  }
}
/** The request is fine but the state does not allow it (taken, already subscribed); `code` names which. */
export class ConflictError extends HttpError {
  constructor(message: string, code = "conflict") {
    super(409, code, message);
  }
}
export class MethodNotAllowedError extends HttpError {
  constructor(readonly allowed: string[]) {
    super(405, "method_not_allowed", `use ${allowed.join(" or ")}`);
  }
}
export class UnsupportedMediaTypeError extends HttpError {
  constructor(message: string) {
    super(415, "unsupported_media_type", message);
  }
}
export class PayloadTooLargeError extends HttpError {
  constructor(message: string) {
    super(413, "payload_too_large", message);
  }
}
/** A service the function depends on (Stripe) failed or refused; the message is safe to show. */
export class UpstreamError extends HttpError {
  constructor(code: string, message: string) {
    super(502, code, message);
  }
}
/** Settings are missing or malformed: the deployment is broken, not the request. */
export class ConfigError extends HttpError {
  constructor(message: string) {
    super(500, "config", message, "the function is not configured correctly");
  }
}
/** A database RPC failed or answered something unexpected. */
export class RpcError extends HttpError {
  constructor(readonly rpc: string, message: string) {
    super(502, "rpc_failed", `${rpc}: ${message}`, "a database call failed; try again later");
  }
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export function emptyTwiml(): Response {
  return new Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', {
    status: 200,
    headers: { "Content-Type": "text/xml" },
  });
}

export function zodMessage(err: ZodError): string {
  return err.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
}

export type Handler = (req: Request) => Promise<Response>;

/** Wraps a handler so every failure becomes one well-formed response. */
export function withErrors(name: string, handler: Handler): Handler {
  return async (req) => {
    try {
      return await handler(req);
    } catch (err) {
      if (err instanceof HttpError) {
        if (err.status >= 500) console.error(`[${name}] ${err.code}: ${err.message}`);
        const headers: Record<string, string> = { "Content-Type": "application/json" };
        if (err instanceof MethodNotAllowedError) headers.Allow = err.allowed.join(", ");
        if (err instanceof UnauthorizedError) headers["WWW-Authenticate"] = 'Bearer realm="leadloop"';
        const message = err.status >= 500 ? err.publicMessage : err.message;
        return new Response(JSON.stringify({ error: err.code, message }), { status: err.status, headers });
      }
      if (err instanceof ZodError) return json({ error: "bad_request", message: zodMessage(err) }, 400);
      console.error(`[${name}] unexpected error`, err);
      return json({ error: "internal", message: "internal error" }, 500);
    }
  };
}

/** The request body as text, refused past `maxBytes` (declared or counted) before it is all read. */
export async function readText(req: Request, maxBytes: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new PayloadTooLargeError(`the body must be at most ${maxBytes} bytes`);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    size += r.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new PayloadTooLargeError(`the body must be at most ${maxBytes} bytes`);
    }
    chunks.push(r.value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(body);
}

/** A JSON request body (Content-Type application/json), at most `maxBytes`. */
export async function readJson(req: Request, maxBytes = 16_384): Promise<unknown> {
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  if (!type.startsWith("application/json")) throw new UnsupportedMediaTypeError("send the body as application/json");
  const text = await readText(req, maxBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError("the body is not valid JSON");
  }
}

export function requireMethod(req: Request, ...allowed: string[]): void {
  if (!allowed.includes(req.method)) throw new MethodNotAllowedError(allowed);
}
