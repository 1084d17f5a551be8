// PostgREST's error body and SQLSTATE -> HTTP status mapping (docs/supabase-standin-spec.md §1.8).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): string {
    return JSON.stringify({ code: this.code, details: this.details, hint: this.hint, message: this.message });
  }
}

/** What a caller gets when the gateway itself fails: a code and a safe message, no stack, no SQL. */
export function internalError(): ApiError {
  return new ApiError(500, "internal_error", "Internal server error");
}

export function parseError(message: string, details: string | null = null): ApiError {
  return new ApiError(400, "PGRST100", message, details);
}

/** HTTP status for a Postgres error, given whether the request ran as the anon role. */
export function statusForSqlState(code: string, message: string, isAnon: boolean): number {
  if (/^PT\d{3}$/.test(code)) return Number(code.slice(2));
  if (code.startsWith("08")) return 503;
  if (code.startsWith("09")) return 500;
  if (code.startsWith("0L") || code.startsWith("0P")) return 403;
  if (code === "23503" || code === "23505") return 409;
  if (code === "25006") return 405;
  if (code === "21000") return /requires a WHERE clause$/.test(message) ? 400 : 500;
  if (code === "22023") return /^role ".*" does not exist$/.test(message) ? 401 : 400;
  if (code === "57P01") return 503;
  if (code === "42501") return isAnon ? 401 : 403;
  if (code === "42883") return 404;
  if (code === "42P01") return 404;
  if (code === "42P17") return 500;
  if (code === "P0001") return 400;
  if (code.startsWith("P0")) return 500;
  if (code.startsWith("XX")) return 500;
  if (code.startsWith("53")) return code === "53400" ? 500 : 503;
  if (code.startsWith("28")) return 403;
  if (/^(25|2D|38|39|3B|40|54|55|57|58|F0|HV)/.test(code)) return 500;
  return 400;
}

interface PgErrorLike {
  code?: string;
  message: string;
  detail?: string;
  hint?: string;
}

export function fromPgError(err: PgErrorLike, isAnon: boolean): ApiError {
  const code = err.code ?? "XX000";
  if (code === "PGRST") {
    // RAISE SQLSTATE 'PGRST' with a JSON message and a JSON detail gives full control of the response.
    try {
      const body = JSON.parse(err.message);
      const meta = err.detail ? JSON.parse(err.detail) : {};
      const status = typeof meta.status === "number" ? meta.status : 400;
      const headers: Record<string, string> = {};
      if (meta.headers && typeof meta.headers === "object") {
        for (const [k, v] of Object.entries(meta.headers)) headers[k] = String(v);
      }
      return new ApiError(status, String(body.code ?? "PGRST"), String(body.message ?? ""), body.details ?? null, body.hint ?? null, headers);
    } catch {
      return new ApiError(500, "PGRST121", "Could not parse JSON in the RAISE SQLSTATE 'PGRST' error", err.message);
    }
  }
  const status = statusForSqlState(code, err.message, isAnon);
  const headers: Record<string, string> = status === 401 ? { "WWW-Authenticate": "Bearer" } : {};
  return new ApiError(status, code, err.message, err.detail ?? null, err.hint ?? null, headers);
}
