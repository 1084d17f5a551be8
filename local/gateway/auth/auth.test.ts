// GoTrue conformance through @supabase/supabase-js: signup with autoconfirm (confirmations off), password and
// refresh grants, /user, logout, errors. The mail flows (confirmations on, as config.toml has it) are in
// email-flows.test.ts and pkce.test.ts; limits, enumeration and replay attacks in attacks.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AuthWeakPasswordError, isAuthApiError } from "@supabase/supabase-js";
import { startGatewayFixture, uniqueEmail, type GatewayFixture } from "../test-support.ts";
import { roomy } from "./test-harness.ts";

let f: GatewayFixture;
const password = "A-good-passw0rd";

function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c] = token.split(".");
  return { header: JSON.parse(Buffer.from(h, "base64url").toString()), claims: JSON.parse(Buffer.from(c, "base64url").toString()) };
}

before(async () => {
  f = await startGatewayFixture(undefined, { adjustAuthSettings: (s) => roomy({ ...s, email: { ...s.email, confirmations: false } }) });
});
after(async () => {
  await f.close();
});

describe("signup and sign-in", () => {
  test("signUp with autoconfirm returns a session, a GoTrue user and the auth rows", async () => {
    const c = f.client();
    const email = uniqueEmail("Signup").replace("signup", "SignUp");
    const { data, error } = await c.auth.signUp({ email, password, options: { data: { full_name: "Sam Owner" } } });
    assert.equal(error, null);
    const { session, user } = data;
    assert.ok(session && user);
    assert.equal(session.token_type, "bearer");
    assert.equal(session.expires_in, 3600);
    assert.ok(Math.abs(session.expires_at! - (Date.now() / 1000 + 3600)) < 10);
    assert.equal(user.email, email.toLowerCase());
    assert.equal(user.aud, "authenticated");
    assert.equal(user.role, "authenticated");
    assert.equal(user.phone, "");
    assert.ok(user.email_confirmed_at);
    assert.deepEqual(user.app_metadata, { provider: "email", providers: ["email"] });
    assert.deepEqual(user.user_metadata, { full_name: "Sam Owner", email_verified: true });
    assert.equal(user.identities?.length, 1);
    assert.equal(user.identities?.[0].provider, "email");
    assert.equal(user.identities?.[0].id, user.id);
    assert.equal(user.is_anonymous, false);

    const { header, claims } = decodeJwt(session.access_token);
    assert.deepEqual(header, { alg: "HS256", typ: "JWT" });
    assert.deepEqual(Object.keys(claims), [
      "iss", "sub", "aud", "exp", "iat", "email", "phone", "app_metadata", "user_metadata", "role", "aal", "amr", "session_id", "is_anonymous",
    ]);
    assert.equal(claims.iss, `${f.gateway.url}/auth/v1`);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.aud, "authenticated");
    assert.equal(claims.role, "authenticated");
    assert.equal(claims.aal, "aal1");
    assert.equal((claims.exp as number) - (claims.iat as number), 3600);
    assert.deepEqual((claims.amr as { method: string }[]).map((a) => a.method), ["password"]);

    const row = await f.sql("select encrypted_password, email_confirmed_at, raw_user_meta_data from auth.users where id = $1", [user.id]);
    assert.match(row.rows[0].encrypted_password, /^\$2a\$10\$/);
    const sessionRow = await f.sql("select user_id from auth.sessions where id = $1", [claims.session_id]);
    assert.equal(sessionRow.rows[0].user_id, user.id);
    const rt = await f.sql("select revoked from auth.refresh_tokens where token = $1", [session.refresh_token]);
    assert.equal(rt.rows[0].revoked, false);
  });

  test("signup errors: existing user, weak password, bad email, no password", async () => {
    const c = f.client();
    const email = uniqueEmail("dup");
    assert.equal((await c.auth.signUp({ email, password })).error, null);
    const dup = await c.auth.signUp({ email, password });
    assert.ok(isAuthApiError(dup.error));
    assert.equal(dup.error.status, 422);
    assert.equal(dup.error.code, "user_already_exists");
    assert.equal(dup.error.message, "User already registered");
    const weak = await c.auth.signUp({ email: uniqueEmail("weak"), password: "123" });
    assert.ok(weak.error instanceof AuthWeakPasswordError);
    assert.equal(weak.error.status, 422);
    assert.deepEqual(weak.error.reasons, ["length", "characters"]);
    assert.equal(
      weak.error.message,
      "Password should be at least 10 characters. Password should contain at least one character of each: abcdefghijklmnopqrstuvwxyz, ABCDEFGHIJKLMNOPQRSTUVWXYZ, 0123456789.",
    );
    const noUpper = await c.auth.signUp({ email: uniqueEmail("weak"), password: "lowercase-and-1" });
    assert.ok(noUpper.error instanceof AuthWeakPasswordError);
    assert.deepEqual(noUpper.error.reasons, ["characters"]);
    const tooLong = await c.auth.signUp({ email: uniqueEmail("long"), password: `Aa1${"x".repeat(70)}` });
    assert.equal(tooLong.error?.status, 400);
    assert.equal(tooLong.error?.message, "Password cannot be longer than 72 characters");
    const badEmail = await c.auth.signUp({ email: "not-an-email", password });
    assert.equal(badEmail.error?.status, 400);
    assert.equal(badEmail.error?.code, "validation_failed");
    const noPassword = await c.auth.signUp({ email: uniqueEmail("nopw"), password: "" });
    assert.equal(noPassword.error?.code, "validation_failed");
    const anon = await c.auth.signInAnonymously();
    assert.equal(anon.error?.code, "anonymous_provider_disabled");
  });

  test("password grant: good and bad credentials", async () => {
    const email = uniqueEmail("login");
    await f.client().auth.signUp({ email, password });
    const c = f.client();
    const wrong = await c.auth.signInWithPassword({ email, password: "not-the-password" });
    assert.equal(wrong.error?.status, 400);
    assert.equal(wrong.error?.code, "invalid_credentials");
    assert.equal(wrong.error?.message, "Invalid login credentials");
    const unknown = await c.auth.signInWithPassword({ email: uniqueEmail("nobody"), password });
    assert.equal(unknown.error?.code, "invalid_credentials");
    const ok = await c.auth.signInWithPassword({ email: email.toUpperCase(), password });
    assert.equal(ok.error, null);
    assert.equal(ok.data.user?.email, email);
    assert.ok(ok.data.user?.last_sign_in_at);
    const { data } = await c.auth.getSession();
    assert.equal(data.session?.access_token, ok.data.session?.access_token);
    // HS256 tokens are validated by getClaims through GET /user.
    const claims = await c.auth.getClaims();
    assert.equal(claims.error, null);
    assert.equal(claims.data?.claims.sub, ok.data.user?.id);
    assert.equal(claims.data?.claims.email, email);
  });
});

describe("refresh tokens", () => {
  test("rotation issues a new token; reuse inside 10 s is tolerated, after it revokes the family", async () => {
    const c = f.client();
    const { data } = await c.auth.signUp({ email: uniqueEmail("refresh"), password });
    const first = data.session!.refresh_token;
    const rotated = await c.auth.refreshSession();
    assert.equal(rotated.error, null);
    const second = rotated.data.session!.refresh_token;
    assert.notEqual(second, first);
    assert.equal(decodeJwt(rotated.data.session!.access_token).claims.session_id, decodeJwt(data.session!.access_token).claims.session_id);
    const old = await f.sql("select revoked from auth.refresh_tokens where token = $1", [first]);
    assert.equal(old.rows[0].revoked, true);
    const parent = await f.sql("select parent from auth.refresh_tokens where token = $1", [second]);
    assert.equal(parent.rows[0].parent, first);

    // A second tab refreshing with the just-revoked token inside the reuse interval gets the active token.
    const tab = f.client();
    const reuse = await tab.auth.refreshSession({ refresh_token: first });
    assert.equal(reuse.error, null);
    assert.equal(reuse.data.session?.refresh_token, second);

    // Outside the interval, reuse is treated as theft: error, and the whole family is revoked.
    await f.sql("update auth.refresh_tokens set updated_at = now() - interval '1 minute' where token = $1", [first]);
    const stolen = await f.client().auth.refreshSession({ refresh_token: first });
    assert.equal(stolen.error?.status, 400);
    assert.equal(stolen.error?.code, "refresh_token_already_used");
    assert.equal(stolen.error?.message, "Invalid Refresh Token: Already Used");
    const family = await f.sql("select bool_and(revoked) as all_revoked from auth.refresh_tokens where session_id = $1", [
      decodeJwt(data.session!.access_token).claims.session_id,
    ]);
    assert.equal(family.rows[0].all_revoked, true);
  });

  test("two tabs refreshing the same token at once both get the one new token", async () => {
    const { data } = await f.client().auth.signUp({ email: uniqueEmail("tabs"), password });
    const token = data.session!.refresh_token;
    const [one, two] = await Promise.all([f.client().auth.refreshSession({ refresh_token: token }), f.client().auth.refreshSession({ refresh_token: token })]);
    assert.equal(one.error, null);
    assert.equal(two.error, null);
    assert.equal(one.data.session?.refresh_token, two.data.session?.refresh_token);
    assert.notEqual(one.data.session?.refresh_token, token);
    const active = await f.sql("select count(*)::int as n from auth.refresh_tokens where parent = $1", [token]);
    assert.equal(active.rows[0].n, 1);
  });

  test("unknown refresh token", async () => {
    const { error } = await f.client().auth.refreshSession({ refresh_token: "nonexistent1" });
    assert.equal(error?.status, 400);
    assert.equal(error?.code, "refresh_token_not_found");
  });
});

describe("user and logout", () => {
  test("getUser, updateUser metadata merge, password change and same_password", async () => {
    const c = f.client();
    const email = uniqueEmail("update");
    await c.auth.signUp({ email, password, options: { data: { a: 1, b: 2 } } });
    const got = await c.auth.getUser();
    assert.equal(got.error, null);
    assert.equal(got.data.user?.email, email);
    const merged = await c.auth.updateUser({ data: { b: null, c: "three" } });
    assert.equal(merged.error, null);
    assert.deepEqual(merged.data.user?.user_metadata, { a: 1, c: "three", email_verified: true });
    const same = await c.auth.updateUser({ password });
    assert.equal(same.error?.status, 422);
    assert.equal(same.error?.code, "same_password");
    const changed = await c.auth.updateUser({ password: "Another-passw0rd" });
    assert.equal(changed.error, null);
    const login = await f.client().auth.signInWithPassword({ email, password: "Another-passw0rd" });
    assert.equal(login.error, null);
    const taken = uniqueEmail("taken");
    await f.client().auth.signUp({ email: taken, password });
    const clash = await c.auth.updateUser({ email: taken });
    assert.equal(clash.error?.code, "email_exists");
    // Even under autoconfirm, a permanent account confirms a new address by mail first (GoTrue's UserUpdate).
    const newEmail = uniqueEmail("moved");
    const moved = await c.auth.updateUser({ email: newEmail });
    assert.equal(moved.error, null);
    assert.equal(moved.data.user?.email, email);
    assert.equal(moved.data.user?.new_email, newEmail);
    assert.ok(moved.data.user?.email_change_sent_at);
  });

  test("the anon key and broken tokens are refused by /user", async () => {
    const c = f.client(f.config.keys.anonKey);
    const anon = await c.auth.getUser(f.config.keys.anonKey);
    assert.equal(anon.error?.status, 403);
    assert.equal(anon.error?.code, "bad_jwt");
    const broken = await c.auth.getUser("abc.def.ghi");
    assert.equal(broken.error?.status, 403);
    assert.equal(broken.error?.code, "bad_jwt");
  });

  test("signOut scopes: others keeps this session, local ends it, global ends all", async () => {
    const email = uniqueEmail("logout");
    const a = f.client();
    await a.auth.signUp({ email, password });
    const b = f.client();
    await b.auth.signInWithPassword({ email, password });
    const c = f.client();
    await c.auth.signInWithPassword({ email, password });
    const tokenB = (await b.auth.getSession()).data.session!.access_token;
    const tokenC = (await c.auth.getSession()).data.session!.access_token;

    assert.equal((await a.auth.signOut({ scope: "others" })).error, null);
    assert.equal((await a.auth.getUser()).error, null);
    // GoTrue answers 403 session_not_found, which auth-js turns into AuthSessionMissingError.
    const gone = await f.client().auth.getUser(tokenB);
    assert.equal(gone.error?.name, "AuthSessionMissingError");

    const d = f.client();
    await d.auth.signInWithPassword({ email, password });
    const tokenA = (await a.auth.getSession()).data.session!.access_token;
    assert.equal((await d.auth.signOut({ scope: "local" })).error, null);
    assert.equal((await d.auth.getSession()).data.session, null);
    assert.equal((await f.client().auth.getUser(tokenA)).error, null);

    await a.auth.signOut();
    assert.equal((await f.client().auth.getUser(tokenA)).error?.name, "AuthSessionMissingError");
    assert.equal((await f.client().auth.getUser(tokenC)).error?.name, "AuthSessionMissingError");
    // Issued access tokens stay valid for REST until they expire, as with GoTrue + PostgREST.
    const rest = await f.client().from("no_such_table_for_logout").select().setHeader("Authorization", `Bearer ${tokenA}`);
    assert.equal(rest.error?.code, "PGRST205");
  });
});

async function loggedOutToken(): Promise<string> {
  const c = f.client();
  const { data } = await c.auth.signUp({ email: uniqueEmail("gone"), password });
  await c.auth.signOut();
  return data.session!.access_token;
}

describe("admin API (service role)", () => {
  test("createUser, getUserById, listUsers, updateUserById, deleteUser; refused for non-admins", async () => {
    const admin = f.client(f.config.keys.secretKey).auth.admin;
    const email = uniqueEmail("admin");
    const created = await admin.createUser({ email, password, email_confirm: true, user_metadata: { name: "Seeded" }, app_metadata: { plan: "pro" } });
    assert.equal(created.error, null);
    const user = created.data.user!;
    assert.equal(user.email, email);
    assert.ok(user.email_confirmed_at);
    assert.deepEqual(user.app_metadata, { provider: "email", providers: ["email"], plan: "pro" });
    assert.equal(user.user_metadata.name, "Seeded");
    const login = await f.client().auth.signInWithPassword({ email, password });
    assert.equal(login.error, null);
    const unconfirmed = await admin.createUser({ email: uniqueEmail("unconfirmed"), password });
    assert.equal(unconfirmed.data.user?.email_confirmed_at, undefined);
    const refused = await f.client().auth.signInWithPassword({ email: unconfirmed.data.user!.email!, password });
    assert.equal(refused.error?.code, "email_not_confirmed");
    const dup = await admin.createUser({ email, password });
    assert.equal(dup.error?.code, "email_exists");

    assert.equal((await admin.getUserById(user.id)).data.user?.email, email);
    const list = await admin.listUsers({ page: 1, perPage: 50 });
    assert.equal(list.error, null);
    assert.ok(list.data.users.length <= 50);
    // Newest first, so the user just created is on the first page even in a long-lived database.
    assert.ok(list.data.users.some((u) => u.id === user.id));
    const updated = await admin.updateUserById(user.id, { user_metadata: { name: null, team: "blue" } });
    assert.deepEqual(updated.data.user?.user_metadata, { email_verified: true, team: "blue" });
    assert.equal((await admin.deleteUser(user.id)).error, null);
    assert.equal((await admin.getUserById(user.id)).error?.status, 404);

    const notAdmin = await f.client().auth.admin.createUser({ email: uniqueEmail("sneaky"), password });
    assert.equal(notAdmin.error?.status, 403);
    assert.equal(notAdmin.error?.code, "not_admin");
  });
});

describe("wire details the client cannot show", () => {
  test("error headers, settings and health", async () => {
    const res = await fetch(`${f.gateway.url}/auth/v1/token?grant_type=password`, {
      method: "POST",
      headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json", "X-Supabase-Api-Version": "2024-01-01" },
      body: JSON.stringify({ email: uniqueEmail("ghost"), password }),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("x-supabase-api-version"), "2024-01-01");
    assert.equal(res.headers.get("x-sb-error-code"), "invalid_credentials");
    assert.deepEqual(await res.json(), { code: "invalid_credentials", message: "Invalid login credentials" });

    const bad = await fetch(`${f.gateway.url}/auth/v1/signup`, {
      method: "POST",
      headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json" },
      body: "{not json",
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, "bad_json");

    const missing = await fetch(`${f.gateway.url}/auth/v1/token?grant_type=refresh_token`, {
      method: "POST",
      headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json" },
      body: "{}",
    });
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), { error: "invalid_request", error_description: "refresh_token required" });

    const grant = await fetch(`${f.gateway.url}/auth/v1/token?grant_type=magic`, {
      method: "POST",
      headers: { apikey: f.config.keys.publishableKey, "Content-Type": "application/json" },
      body: "{}",
    });
    assert.equal((await grant.json()).message, "unsupported_grant_type");

    const noAuth = await fetch(`${f.gateway.url}/auth/v1/user`);
    assert.equal(noAuth.status, 401);
    assert.equal((await noAuth.json()).code, "no_authorization");

    const settings = await (await fetch(`${f.gateway.url}/auth/v1/settings`, { headers: { apikey: f.config.keys.publishableKey } })).json();
    assert.equal(settings.mailer_autoconfirm, true);
    assert.equal(settings.external.email, true);
    const sessionGone = await fetch(`${f.gateway.url}/auth/v1/user`, {
      headers: { apikey: f.config.keys.publishableKey, Authorization: `Bearer ${await loggedOutToken()}` },
    });
    assert.equal(sessionGone.status, 403);
    assert.equal(sessionGone.headers.get("x-sb-error-code"), "session_not_found");
    const health = await fetch(`${f.gateway.url}/auth/v1/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).name, "GoTrue");
  });
});
