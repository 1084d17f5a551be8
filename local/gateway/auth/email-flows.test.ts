// Auth's mail flows through @supabase/supabase-js (implicit flow, its default), with config.toml's settings
// (confirmations, double-confirmed email changes, secure password change, leadloop's templates), reading the
// mail from the instance's mail catcher (maildev's REST API) and opening the links as a browser would.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { firstLink, oneTimeCode } from "../../mail/inbox.ts";
import { uniqueEmail } from "../test-support.ts";
import { authFixture, confirmedAccount, follow, followMail, mailTo, PASSWORD } from "./test-harness.ts";

let f: Awaited<ReturnType<typeof authFixture>>;
let site: string;

before(async () => {
  f = await authFixture();
  site = `http://127.0.0.1:${f.config.ports.dashboard}`;
});
after(async () => {
  await f.close();
});

/** The session a verify redirect put in its fragment, as supabase-js reads it from the URL. */
function fragmentSession(fragment: URLSearchParams) {
  const access_token = fragment.get("access_token");
  const refresh_token = fragment.get("refresh_token");
  assert.ok(access_token && refresh_token, `no session in the redirect: ${fragment}`);
  return { access_token, refresh_token };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

describe("signup with email confirmation", () => {
  test("signUp answers the user without a session; the mail's link confirms and signs in", async () => {
    const c = f.client();
    const email = uniqueEmail("confirm");
    const { data, error } = await c.auth.signUp({ email, password: PASSWORD, options: { emailRedirectTo: `${site}/welcome`, data: { full_name: "Sam" } } });
    assert.equal(error, null);
    assert.equal(data.session, null);
    assert.equal(data.user?.email, email);
    assert.equal(data.user?.email_confirmed_at, undefined);
    assert.ok(data.user?.confirmation_sent_at);
    assert.equal(data.user?.identities?.length, 1);
    assert.deepEqual(data.user?.user_metadata, { full_name: "Sam" });

    const early = await f.client().auth.signInWithPassword({ email, password: PASSWORD });
    assert.equal(early.error?.code, "email_not_confirmed");

    const mail = await mailTo(f, email);
    assert.equal(mail.subject, "Confirm your email address");
    assert.equal(mail.from[0].address, "admin@email.com");
    assert.match(mail.html, /<strong>\d{6}<\/strong>/, "leadloop's template carries the code");
    const link = firstLink(mail);
    assert.ok(link.startsWith(`${f.gateway.url}/auth/v1/verify?token=`), link);
    assert.match(link, /&type=signup&redirect_to=http:\/\/127\.0\.0\.1:\d+\/welcome$/);

    const opened = await follow(link);
    assert.equal(opened.status, 303);
    assert.ok(opened.location.startsWith(`${site}/welcome#`), opened.location);
    assert.equal(opened.fragment.get("type"), "signup");
    assert.equal(opened.fragment.get("token_type"), "bearer");
    assert.equal(opened.fragment.get("expires_in"), "3600");
    assert.equal(opened.fragment.get("sb"), "");
    const browser = f.client();
    const session = await browser.auth.setSession(fragmentSession(opened.fragment));
    assert.equal(session.error, null);
    assert.equal(session.data.user?.email, email);
    assert.ok(session.data.user?.email_confirmed_at);
    assert.equal(session.data.user?.user_metadata.email_verified, true);
    assert.equal(session.data.user?.identities?.[0].identity_data?.email_verified, true);
    assert.equal((await f.client().auth.signInWithPassword({ email, password: PASSWORD })).error, null);

    // The link works once: a second click lands on the site with GoTrue's error in the fragment.
    const again = await follow(link);
    assert.equal(again.status, 303);
    assert.equal(again.fragment.get("error"), "access_denied");
    assert.equal(again.fragment.get("error_code"), "otp_expired");
    assert.equal(again.fragment.get("error_description"), "Email link is invalid or has expired");
    assert.equal(again.fragment.get("access_token"), null);
  });

  test("verifyOtp takes the mailed 6-digit code (type email) or the link's token_hash (type signup)", async () => {
    const byCode = uniqueEmail("code");
    await f.client().auth.signUp({ email: byCode, password: PASSWORD });
    const code = oneTimeCode(await mailTo(f, byCode));
    const wrong = await f.client().auth.verifyOtp({ email: byCode, token: code === "000000" ? "111111" : "000000", type: "email" });
    assert.equal(wrong.error?.status, 403);
    assert.equal(wrong.error?.code, "otp_expired");
    assert.equal(wrong.error?.message, "Token has expired or is invalid");
    const c = f.client();
    const ok = await c.auth.verifyOtp({ email: byCode, token: code, type: "email" });
    assert.equal(ok.error, null);
    assert.ok(ok.data.session?.access_token);
    assert.ok(ok.data.user?.email_confirmed_at);
    assert.deepEqual((ok.data.user?.app_metadata as { provider: string }).provider, "email");

    const byHash = uniqueEmail("hash");
    await f.client().auth.signUp({ email: byHash, password: PASSWORD });
    const tokenHash = new URL(firstLink(await mailTo(f, byHash))).searchParams.get("token")!;
    const hashed = await f.client().auth.verifyOtp({ token_hash: tokenHash, type: "signup" });
    assert.equal(hashed.error, null);
    assert.equal(hashed.data.user?.email, byHash);
    const replay = await f.client().auth.verifyOtp({ token_hash: tokenHash, type: "signup" });
    assert.equal(replay.error?.code, "otp_expired");
    assert.equal(replay.error?.message, "Email link is invalid or has expired");
  });

  test("a repeated signup resends to an unconfirmed address; for a confirmed one it sends nothing and reveals nothing", async () => {
    const email = uniqueEmail("repeat");
    const first = await f.client().auth.signUp({ email, password: PASSWORD });
    const firstLinkUrl = firstLink(await mailTo(f, email, 1));
    const second = await f.client().auth.signUp({ email, password: PASSWORD });
    assert.equal(second.error, null);
    assert.equal(second.data.user?.id, first.data.user?.id);
    const secondLinkUrl = firstLink(await mailTo(f, email, 2));
    assert.equal((await follow(firstLinkUrl)).fragment.get("error_code"), "otp_expired", "the resend replaced the first token");
    assert.ok((await follow(secondLinkUrl)).fragment.get("access_token"));

    const repeat = await f.client().auth.signUp({ email, password: "Another-passw0rd" });
    assert.equal(repeat.error, null);
    assert.equal(repeat.data.session, null);
    assert.notEqual(repeat.data.user?.id, first.data.user?.id);
    assert.deepEqual(repeat.data.user?.identities, []);
    assert.equal(repeat.data.user?.role, "");
    await settle();
    assert.equal((await f.inbox.to(email)).length, 2, "no mail for a confirmed address");
    assert.equal((await f.client().auth.signInWithPassword({ email, password: "Another-passw0rd" })).error?.code, "invalid_credentials");
    assert.equal((await f.client().auth.signInWithPassword({ email, password: PASSWORD })).error, null);
  });

  test("resend({type: 'signup'}) mails a new confirmation, and nothing once confirmed", async () => {
    const email = uniqueEmail("resend");
    await f.client().auth.signUp({ email, password: PASSWORD });
    await mailTo(f, email, 1);
    const { error } = await f.client().auth.resend({ type: "signup", email, options: { emailRedirectTo: `${site}/again` } });
    assert.equal(error, null);
    const opened = await followMail(f, email, 2);
    assert.ok(opened.location.startsWith(`${site}/again#`));
    assert.ok(opened.fragment.get("access_token"));
    assert.equal((await f.client().auth.resend({ type: "signup", email })).error, null);
    await settle();
    assert.equal((await f.inbox.to(email)).length, 2);
  });
});

describe("password recovery", () => {
  test("resetPasswordForEmail mails a link that signs in for a password change, which ends the other sessions", async () => {
    const account = await confirmedAccount(f, "reset");
    const elsewhere = f.client();
    await elsewhere.auth.signInWithPassword({ email: account.email, password: PASSWORD });
    const elsewhereRefresh = (await elsewhere.auth.getSession()).data.session!.refresh_token;

    const { data, error } = await f.client().auth.resetPasswordForEmail(account.email, { redirectTo: `${site}/reset` });
    assert.equal(error, null);
    assert.deepEqual(data, {});
    const mail = await mailTo(f, account.email);
    assert.equal(mail.subject, "Reset your password");
    const opened = await follow(firstLink(mail));
    assert.ok(opened.location.startsWith(`${site}/reset#`));
    assert.equal(opened.fragment.get("type"), "recovery");
    const browser = f.client();
    await browser.auth.setSession(fragmentSession(opened.fragment));
    const changed = await browser.auth.updateUser({ password: "Brand-new-passw0rd" });
    assert.equal(changed.error, null);

    const refused = await f.client().auth.refreshSession({ refresh_token: elsewhereRefresh });
    assert.equal(refused.error?.code, "refresh_token_not_found", "the other session's refresh token is gone");
    assert.equal((await browser.auth.getUser()).error, null, "the session that changed it stays");
    assert.equal((await f.client().auth.signInWithPassword({ email: account.email, password: PASSWORD })).error?.code, "invalid_credentials");
    assert.equal((await f.client().auth.signInWithPassword({ email: account.email, password: "Brand-new-passw0rd" })).error, null);
  });

  test("the recovery code works with verifyOtp({type: 'recovery'}); an unknown address gets the same answer and no mail", async () => {
    const account = await confirmedAccount(f, "recode");
    await f.client().auth.resetPasswordForEmail(account.email);
    const code = oneTimeCode(await mailTo(f, account.email));
    const ok = await f.client().auth.verifyOtp({ email: account.email, token: code, type: "recovery" });
    assert.equal(ok.error, null);
    assert.equal(ok.data.user?.id, account.id);

    const nobody = uniqueEmail("nobody");
    const res = await f.client().auth.resetPasswordForEmail(nobody);
    assert.equal(res.error, null);
    assert.deepEqual(res.data, {});
    await settle();
    assert.equal((await f.inbox.to(nobody)).length, 0);
  });
});

describe("magic links and email codes", () => {
  test("signInWithOtp mails a sign-in link to an account, and its code signs in too", async () => {
    const account = await confirmedAccount(f, "magic");
    const c = f.client();
    assert.equal((await c.auth.signInWithOtp({ email: account.email, options: { emailRedirectTo: `${site}/in` } })).error, null);
    const mail = await mailTo(f, account.email, 1);
    assert.equal(mail.subject, "Your sign-in link");
    const opened = await follow(firstLink(mail));
    assert.equal(opened.fragment.get("type"), "magiclink");
    assert.ok(opened.location.startsWith(`${site}/in#`));
    const claims = JSON.parse(Buffer.from(fragmentSession(opened.fragment).access_token.split(".")[1], "base64url").toString());
    assert.deepEqual(claims.amr.map((a: { method: string }) => a.method), ["otp"]);

    await c.auth.signInWithOtp({ email: account.email });
    const code = oneTimeCode(await mailTo(f, account.email, 2));
    const signedIn = await c.auth.verifyOtp({ email: account.email, token: code, type: "email" });
    assert.equal(signedIn.error, null);
    assert.equal(signedIn.data.session?.user.id, account.id);
  });

  test("an unknown address becomes an unconfirmed account with a confirmation mail; shouldCreateUser false makes none", async () => {
    const email = uniqueEmail("newotp");
    assert.equal((await f.client().auth.signInWithOtp({ email, options: { data: { plan: "trial" } } })).error, null);
    const mail = await mailTo(f, email);
    assert.equal(mail.subject, "Confirm your email address");
    const opened = await follow(firstLink(mail));
    assert.equal(opened.fragment.get("type"), "signup");
    const browser = f.client();
    const { data } = await browser.auth.setSession(fragmentSession(opened.fragment));
    assert.equal(data.user?.user_metadata.plan, "trial");
    assert.ok(data.user?.email_confirmed_at);

    const stranger = uniqueEmail("nocreate");
    const res = await f.client().auth.signInWithOtp({ email: stranger, options: { shouldCreateUser: false } });
    assert.equal(res.error, null, "no oracle: the same answer as for an account");
    await settle();
    assert.equal((await f.inbox.to(stranger)).length, 0);
    assert.equal((await f.sql("select count(*)::int as n from auth.users where email = $1", [stranger])).rows[0].n, 0);
  });
});

describe("email change", () => {
  test("updateUser({email}) mails both addresses; the first link asks for the other, the second applies the change", async () => {
    const account = await confirmedAccount(f, "old");
    const c = f.client();
    await c.auth.signInWithPassword({ email: account.email, password: PASSWORD });
    const newEmail = uniqueEmail("new");
    const { data, error } = await c.auth.updateUser({ email: newEmail }, { emailRedirectTo: `${site}/moved` });
    assert.equal(error, null);
    assert.equal(data.user?.email, account.email);
    assert.equal(data.user?.new_email, newEmail);

    const toNew = await mailTo(f, newEmail);
    const toOld = await mailTo(f, account.email);
    assert.equal(toNew.subject, "Confirm your new email address");
    assert.ok(toNew.html.includes(newEmail) && toOld.html.includes(newEmail));
    const firstClick = await follow(firstLink(toNew));
    assert.equal(firstClick.fragment.get("message"), "Confirmation link accepted. Please proceed to confirm link sent to the other email");
    assert.equal(firstClick.fragment.get("access_token"), null);
    assert.equal((await c.auth.getUser()).data.user?.email, account.email, "one link is not enough");
    const secondClick = await follow(firstLink(toOld));
    assert.equal(secondClick.fragment.get("type"), "email_change");
    assert.ok(secondClick.fragment.get("access_token"));
    const after = await c.auth.getUser();
    assert.equal(after.data.user?.email, newEmail);
    assert.equal(after.data.user?.new_email, undefined);
    assert.equal(after.data.user?.identities?.[0].identity_data?.email, newEmail);
    assert.equal((await f.client().auth.signInWithPassword({ email: newEmail, password: PASSWORD })).error, null);
  });

  test("the codes work with verifyOtp({type: 'email_change'}) from each address, and resend mails both again", async () => {
    const account = await confirmedAccount(f, "codeold");
    const c = f.client();
    await c.auth.signInWithPassword({ email: account.email, password: PASSWORD });
    const newEmail = uniqueEmail("codenew");
    await c.auth.updateUser({ email: newEmail });
    // Both first mails are in before the resend, so "the second mail" means the resent one.
    await mailTo(f, newEmail, 1);
    await mailTo(f, account.email, 1);
    assert.equal((await c.auth.resend({ type: "email_change", email: account.email })).error, null);
    const newCode = oneTimeCode(await mailTo(f, newEmail, 2));
    const oldCode = oneTimeCode(await mailTo(f, account.email, 2));
    const half = await f.client().auth.verifyOtp({ email: newEmail, token: newCode, type: "email_change" });
    assert.equal(half.error, null);
    assert.equal(half.data.session, null);
    const done = await f.client().auth.verifyOtp({ email: account.email, token: oldCode, type: "email_change" });
    assert.equal(done.error, null);
    assert.equal(done.data.user?.email, newEmail);
  });
});

describe("secure password change", () => {
  test("a session older than 24 h changes the password only with the nonce from reauthenticate()", async () => {
    const account = await confirmedAccount(f, "reauth");
    const c = f.client();
    const { data } = await c.auth.signInWithPassword({ email: account.email, password: PASSWORD });
    const sessionId = JSON.parse(Buffer.from(data.session!.access_token.split(".")[1], "base64url").toString()).session_id;
    await f.sql("update auth.sessions set created_at = now() - interval '25 hours' where id = $1", [sessionId]);

    const needed = await c.auth.updateUser({ password: "Changed-passw0rd" });
    assert.equal(needed.error?.status, 400);
    assert.equal(needed.error?.code, "reauthentication_needed");
    assert.equal(needed.error?.message, "Password update requires reauthentication");

    assert.equal((await c.auth.reauthenticate()).error, null);
    const mail = await mailTo(f, account.email);
    const nonce = oneTimeCode(mail);
    assert.equal(mail.subject, `${nonce} is your verification code`);
    const wrong = await c.auth.updateUser({ password: "Changed-passw0rd", nonce: nonce === "123456" ? "654321" : "123456" });
    assert.equal(wrong.error?.status, 422);
    assert.equal(wrong.error?.code, "reauthentication_not_valid");
    assert.equal(wrong.error?.message, "Nonce has expired or is invalid");
    assert.equal((await c.auth.updateUser({ password: "Changed-passw0rd", nonce })).error, null);
    const reused = await c.auth.updateUser({ password: "Changed-again-passw0rd", nonce });
    assert.equal(reused.error?.code, "reauthentication_not_valid", "a nonce works once");

    // A fresh sign-in is recent enough: no nonce, as in GoTrue.
    const fresh = f.client();
    await fresh.auth.signInWithPassword({ email: account.email, password: "Changed-passw0rd" });
    assert.equal((await fresh.auth.updateUser({ password: "Changed-again-passw0rd" })).error, null);
  });
});
