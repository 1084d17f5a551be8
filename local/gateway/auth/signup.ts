// POST /signup as GoTrue answers it. With confirmations on: 200 with the user and no session, and the
// confirmation mail; a repeat for an unconfirmed address sends it again (after max_frequency); a repeat for a
// confirmed address sends nothing and answers with a made-up user, so the response does not say the address
// is taken. With confirmations off (autoconfirm): a session at once.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { checkSentWithin, requireToken } from "./limits.ts";
import type { OutgoingMail } from "./mailer.ts";
import { confirmationMail } from "./mails.ts";
import { referrer } from "./redirect.ts";
import { issueSession } from "./sessions.ts";
import { pkceParams } from "./tokens.ts";
import {
  AuthError,
  checkPassword,
  clientAddress,
  findUserByEmail,
  hashPassword,
  insertUser,
  loadUser,
  normalizeEmail,
  objectOrEmpty,
  transaction,
  userJson,
  type AuthContext,
  type UserRow,
} from "./users.ts";

/** GoTrue's sanitizeUser: what a repeated signup of a confirmed address gets instead of the real account. */
function madeUpUser(email: string, data: Record<string, unknown>): Record<string, unknown> {
  const now = new Date();
  const row = {
    id: randomUUID(),
    aud: "authenticated",
    role: "",
    email,
    phone: "",
    confirmation_sent_at: now,
    raw_app_meta_data: { provider: "email", providers: ["email"] },
    raw_user_meta_data: data,
    created_at: now,
    updated_at: now,
    is_anonymous: false,
  } as unknown as UserRow;
  return userJson(row, []);
}

export async function signup(ctx: AuthContext, req: IncomingMessage, url: URL, body: Record<string, unknown>) {
  const { settings } = ctx;
  if (!settings.enableSignup) throw new AuthError(422, "signup_disabled", "Signups not allowed for this instance");
  if (body.email === undefined && body.phone === undefined) {
    throw new AuthError(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled");
  }
  requireToken(ctx.limits.signInSignUps, clientAddress(req));
  const password = checkPassword(settings, body.password);
  if (body.email !== undefined && body.phone !== undefined) {
    throw new AuthError(400, "validation_failed", "Only an email address or phone number should be provided on signup.");
  }
  if (body.email === undefined) throw new AuthError(400, "phone_provider_disabled", "Phone signups are disabled");
  const pkce = pkceParams(body);
  if (!settings.email.enableSignup) throw new AuthError(400, "email_provider_disabled", "Email signups are disabled");
  const email = normalizeEmail(body.email);
  const data = objectOrEmpty(body.data);
  const autoconfirm = !settings.email.confirmations;
  const redirectTo = referrer(settings, req, url);
  // Hashed before the lookup, for every request, as GoTrue does outside its transaction.
  const hash = await hashPassword(password);

  const outcome = await transaction(ctx.pool, async (c) => {
    const existing = await findUserByEmail(c, email, true);
    let mails: OutgoingMail[] = [];
    if (existing?.email_confirmed_at) return { kind: "taken" as const };
    if (existing) {
      // GoTrue confirms such an account outright under autoconfirm; here it stays the admin's to confirm.
      if (autoconfirm) return { kind: "taken" as const };
      checkSentWithin(existing.confirmation_sent_at, settings.email.maxFrequencySeconds);
      mails = [await confirmationMail(ctx, c, existing, { redirectTo, pkce })];
      return { kind: "user" as const, id: existing.id, mails };
    }
    const id = await insertUser(c, { email, hash, userMeta: data, appMeta: {}, confirm: autoconfirm, signIn: false });
    if (autoconfirm) return { kind: "session" as const, session: await issueSession(ctx, c, id, req, "password") };
    const created = (await loadUser(c, id))!.user;
    mails = [await confirmationMail(ctx, c, created, { redirectTo, pkce })];
    return { kind: "user" as const, id, mails };
  });

  if (outcome.kind === "session") return outcome.session;
  if (outcome.kind === "taken") {
    if (autoconfirm) throw new AuthError(422, "user_already_exists", "User already registered");
    return { body: madeUpUser(email, data), headers: {} };
  }
  ctx.limits.addresses.mark(`confirmation:${email}`);
  ctx.mailer.deliver(outcome.mails);
  const loaded = await loadUser(ctx.pool, outcome.id);
  return { body: userJson(loaded!.user, loaded!.identities), headers: {} };
}
