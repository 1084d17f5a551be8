// What the billing tests share: a business with a signed-in owner (and staff), calls to the billing
// functions as a browser makes them, the Stripe emulator of the running stack, and the business's
// subscription as the database holds it.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import ws from "ws";
import { emulatorStripeClient, StripeEmulatorControl } from "../../local/stripe/client.ts";
import { createOwnerAccount } from "../support/fixtures.ts";
import { createBusiness, db, stack, type TestBusiness, waitFor } from "../loop/loop-support.ts";

export const stripeControl = new StripeEmulatorControl(stack.stripe.apiUrl);
export const stripe = emulatorStripeClient(stack.stripe.apiUrl, stack.stripe.secretKey);

export interface Member {
  userId: string;
  token: string;
  client: SupabaseClient;
}

/** A new account signed in through Auth, added to the business with `role`. */
export async function memberOf(business: TestBusiness, role: "owner" | "staff"): Promise<Member> {
  const account = await createOwnerAccount(stack);
  await db().query("insert into public.business_members (business_id, user_id, role) values ($1, $2, $3)", [business.id, account.userId, role]);
  const client = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
  const { data, error } = await client.auth.signInWithPassword({ email: account.email, password: account.password });
  if (error || !data.session) throw new Error(`sign-in failed: ${error?.message}`);
  return { userId: account.userId, token: data.session.access_token, client };
}

/** A business on the 14-day trial (as create_business starts it), with an owner signed in. */
export async function trialBusiness(): Promise<{ business: TestBusiness; owner: Member }> {
  const business = await createBusiness();
  await db().query("delete from public.subscriptions where business_id = $1", [business.id]);
  await db().query("select private.start_trial($1)", [business.id]);
  return { business, owner: await memberOf(business, "owner") };
}

/** POSTs to a billing function with a bearer token, as supabase-js functions.invoke does; status and JSON back. */
export async function callFunction(name: "billing-checkout" | "billing-portal", token: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.functionsUrl}/${name}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, apikey: stack.anonKey, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

export interface HeldSubscription {
  plan_id: string | null;
  status: string;
  conversation_quota: number;
  conversations_used: number;
  stripe_subscription_id: string | null;
  cancel_at_period_end: boolean;
  past_due_since: Date | null;
  grace_ends_at: Date | null;
  current_period_start: Date;
  current_period_end: Date;
}

export async function subscriptionOf(businessId: string): Promise<HeldSubscription | undefined> {
  const { rows } = await db().query<HeldSubscription>(
    `select plan_id, status, conversation_quota, conversations_used, stripe_subscription_id, cancel_at_period_end, past_due_since,
            grace_ends_at, current_period_start, current_period_end
       from public.subscriptions where business_id = $1`, [businessId]);
  return rows[0];
}

export function waitForSubscription(businessId: string, what: string, ok: (s: HeldSubscription) => boolean): Promise<HeldSubscription> {
  return waitFor(`the subscription to be ${what}`, async () => {
    const s = await subscriptionOf(businessId);
    return s && ok(s) ? s : null;
  });
}

export async function notificationsOf(businessId: string, kindPrefix = "billing."): Promise<{ kind: string; title: string; body: string }[]> {
  const { rows } = await db().query(
    "select kind, title, body from public.owner_notifications where business_id = $1 and kind like $2 || '%' order by created_at, kind",
    [businessId, kindPrefix]);
  return rows;
}

export async function storedCustomer(businessId: string): Promise<string | undefined> {
  const { rows } = await db().query("select stripe_customer_id from private.billing_customers where business_id = $1", [businessId]);
  return rows[0]?.stripe_customer_id;
}

/** The owner checks out `plan` and pays on the hosted page's behalf with `card`; resolves with the session. */
export async function checkoutAndPay(business: TestBusiness, owner: Member, plan: string, card = "4242424242424242") {
  const { status, body } = await callFunction("billing-checkout", owner.token, { business_id: business.id, plan });
  if (status !== 200) throw new Error(`checkout: ${status} ${JSON.stringify(body)}`);
  const sessionId = String(body.session_id);
  const paid = await stripeControl.payCheckout(sessionId, { card, email: "owner@fixtures.leadloop.test", name: "Test Owner" });
  return { sessionId, url: String(body.url), paid };
}
