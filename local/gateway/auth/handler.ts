// GoTrue's email subset (docs/supabase-standin-spec.md §2, §8): routes /auth/v1 to signup.ts, sessions.ts (token
// grants, logout), verify.ts, email-flows.ts (/recover, /otp, /resend, /reauthenticate), profile.ts (/user) and
// admin.ts (/admin/users), with config.toml's [auth] settings (settings.ts), and answers errors as GoTrue does.
import type { IncomingMessage, ServerResponse } from "node:http";
import pg from "pg";
import type { InstanceConfig } from "../../config.ts";
import { BodyTooLargeError, readBody, RequestAbortedError, send } from "../http.ts";
import { admin } from "./admin.ts";
import { otp, reauthenticate, recover, resend } from "./email-flows.ts";
import { AddressThrottle, Buckets } from "./limits.ts";
import { createMailer } from "./mailer.ts";
import { getUser, updateUser } from "./profile.ts";
import { logout, tokenGrant } from "./sessions.ts";
import { loadAuthSettings, type AuthSettings } from "./settings.ts";
import { signup } from "./signup.ts";
import { API_VERSION, AuthError, OAuthError, parseBody, type AuthContext } from "./users.ts";
import { verifyGet, verifyPost } from "./verify.ts";

export interface AuthService {
  handle(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void>;
  /** Resolves once mail and work queued after responses are done (tests read the inbox after it). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export function createAuthService({
  config,
  bodyLimit,
  publicUrl,
  adjustSettings = (s) => s,
}: {
  config: InstanceConfig;
  bodyLimit: number;
  /** The gateway's own base URL once it listens (differs from config.supabaseUrl for port-0 test gateways). */
  publicUrl: () => string;
  /** Changes config.toml's settings for this gateway only (tests with low limits or other flows). */
  adjustSettings?: (settings: AuthSettings) => AuthSettings;
}): AuthService {
  const settings = adjustSettings(loadAuthSettings(config));
  // GoTrue connects as its own admin role; the superuser URL stands in for supabase_auth_admin locally.
  const pool = new pg.Pool({ connectionString: config.dbUrl, max: 4, application_name: "leadloop-gateway-auth" });
  pool.on("error", (err) => console.error("[gateway] idle auth connection failed:", err.message));
  const mailer = createMailer(settings);
  const rate = settings.rateLimit;
  const ctx: AuthContext = {
    pool,
    secret: config.keys.jwtSecret,
    publicUrl,
    settings,
    mailer,
    limits: {
      signInSignUps: new Buckets(rate.signInSignUps),
      token: new Buckets(rate.tokenRefresh),
      verify: new Buckets(rate.tokenVerifications),
      emailBudget: new Buckets(rate.emailSentPerHour, 3600),
      addresses: new AddressThrottle(settings.email.maxFrequencySeconds),
    },
  };

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
              disable_signup: !settings.enableSignup,
              mailer_autoconfirm: !settings.email.confirmations,
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
        if (path === "/signup" && method === "POST") return ok(await signup(ctx, req, url, body));
        if (path === "/token" && method === "POST") return ok(await tokenGrant(ctx, req, url.searchParams.get("grant_type"), body));
        if (path === "/verify" && method === "GET") return await verifyGet(ctx, req, res, url);
        if (path === "/verify" && method === "POST") return ok(await verifyPost(ctx, req, body));
        if (path === "/recover" && method === "POST") return ok(await recover(ctx, req, url, body));
        if (path === "/otp" && method === "POST") return ok(await otp(ctx, req, url, body));
        if (path === "/magiclink" && method === "POST") return ok(await otp(ctx, req, url, { ...body, create_user: body.create_user ?? true }));
        if (path === "/resend" && method === "POST") return ok(await resend(ctx, req, url, body));
        if (path === "/reauthenticate" && method === "GET") return ok(await reauthenticate(ctx, req));
        if (path === "/user" && method === "GET") return ok(await getUser(ctx, req));
        if (path === "/user" && method === "PUT") return ok(await updateUser(ctx, req, url, body));
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
    drain: () => mailer.drain(),
    async close() {
      await mailer.close();
      await pool.end();
    },
  };
}
