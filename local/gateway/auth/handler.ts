// GoTrue's email+password subset (docs/supabase-standin-spec.md §2): routes /auth/v1 to sessions.ts
// (signup, token grants, logout), profile.ts (/user), admin.ts (/admin/users) and answers errors as GoTrue does.
import type { IncomingMessage, ServerResponse } from "node:http";
import pg from "pg";
import type { InstanceConfig } from "../../config.ts";
import { BodyTooLargeError, readBody, RequestAbortedError, send } from "../http.ts";
import { admin } from "./admin.ts";
import { getUser, updateUser } from "./profile.ts";
import { logout, passwordGrant, refreshGrant, signup } from "./sessions.ts";
import { API_VERSION, AuthError, OAuthError, parseBody, type AuthContext } from "./users.ts";

export interface AuthService {
  handle(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void>;
  close(): Promise<void>;
}

export function createAuthService({
  config,
  bodyLimit,
  publicUrl,
}: {
  config: InstanceConfig;
  bodyLimit: number;
  /** The gateway's own base URL once it listens (differs from config.supabaseUrl for port-0 test gateways). */
  publicUrl: () => string;
}): AuthService {
  // GoTrue connects as its own admin role; the superuser URL stands in for supabase_auth_admin locally.
  const pool = new pg.Pool({ connectionString: config.dbUrl, max: 4, application_name: "leadloop-gateway-auth" });
  pool.on("error", (err) => console.error("[gateway] idle auth connection failed:", err.message));
  const ctx: AuthContext = { pool, secret: config.keys.jwtSecret, publicUrl };

  function respondError(res: ServerResponse, err: unknown): void {
    if (err instanceof RequestAbortedError) {
      res.destroy();
      return;
    }
    const base = { "Content-Type": "application/json", "X-Supabase-Api-Version": API_VERSION };
    if (err instanceof AuthError) {
      send(res, err.status, { ...base, "x-sb-error-code": err.code }, JSON.stringify({ code: err.code, message: err.message, ...err.extra }));
    } else if (err instanceof OAuthError) {
      send(res, err.status, base, JSON.stringify({ error: err.error, error_description: err.description }));
    } else if ((err as { code?: string }).code === "23505") {
      // Two concurrent signups for one address: the unique index decides, as in GoTrue.
      send(res, 422, { ...base, "x-sb-error-code": "user_already_exists" }, JSON.stringify({ code: "user_already_exists", message: "User already registered" }));
    } else if (err instanceof BodyTooLargeError) {
      const body = { code: "request_too_large", message: `Request body exceeds the limit of ${err.limit} bytes` };
      send(res, 413, { ...base, "x-sb-error-code": "request_too_large" }, JSON.stringify(body));
    } else {
      console.error("[gateway] auth request failed:", err);
      send(res, 500, { ...base, "x-sb-error-code": "unexpected_failure" }, JSON.stringify({ code: "unexpected_failure", message: "Unexpected failure, please check server logs for more information" }));
    }
  }

  return {
    async handle(req, res, rest) {
      let url: URL;
      try {
        url = new URL(`http://localhost${rest}`);
      } catch {
        return respondError(res, new AuthError(404, "not_found", "Not Found"));
      }
      const method = (req.method ?? "GET").toUpperCase();
      const path = url.pathname.replace(/\/+$/, "") || "/";
      const ok = (result: { body: unknown; headers: Record<string, string> }, status = 200) =>
        send(res, status, { "Content-Type": "application/json", "X-Supabase-Api-Version": API_VERSION, ...result.headers }, JSON.stringify(result.body));
      try {
        const body = method === "POST" || method === "PUT" || method === "DELETE" ? parseBody(await readBody(req, bodyLimit)) : {};
        if (path === "/health" && method === "GET") {
          return ok({ body: { version: "v2.196.0-leadloop", name: "GoTrue", description: "GoTrue is a user registration and authentication API" }, headers: {} });
        }
        if (path === "/settings" && method === "GET") {
          return ok({
            body: {
              external: { anonymous_users: false, email: true, phone: false },
              disable_signup: false,
              mailer_autoconfirm: true,
              phone_autoconfirm: false,
              sms_provider: "",
              saml_enabled: false,
            },
            headers: {},
          });
        }
        if (path === "/.well-known/jwks.json" && method === "GET") {
          // Only the symmetric HS256 secret signs tokens here, and GoTrue never publishes symmetric keys.
          return ok({ body: { keys: [] }, headers: {} });
        }
        if (path === "/signup" && method === "POST") return ok(await signup(ctx, req, body));
        if (path === "/token" && method === "POST") {
          const grant = url.searchParams.get("grant_type");
          if (grant === "password") return ok(await passwordGrant(ctx, req, body));
          if (grant === "refresh_token") return ok(await refreshGrant(ctx, body));
          throw new AuthError(400, "invalid_credentials", "unsupported_grant_type");
        }
        if (path === "/user" && method === "GET") return ok(await getUser(ctx, req));
        if (path === "/user" && method === "PUT") return ok(await updateUser(ctx, req, body));
        if (path.startsWith("/admin/")) return await admin(ctx, req, res, method, path, url, body);
        if (path === "/logout" && method === "POST") {
          await logout(ctx, req, url.searchParams.get("scope") ?? "global");
          send(res, 204, { "X-Supabase-Api-Version": API_VERSION });
          return;
        }
        throw new AuthError(404, "not_found", "Not Found");
      } catch (err) {
        respondError(res, err);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
