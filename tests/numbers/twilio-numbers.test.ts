// twilio-numbers through the gateway, as the dashboard calls it (supabase-js functions.invoke with the
// signed-in user's session), against the real database and the Twilio emulator: who is refused, and an
// owner searching, buying, listing the account's free numbers and connecting one, which then receives
// texts through twilio-inbound.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createClient, FunctionsHttpError, type SupabaseClient } from "@supabase/supabase-js";
import pg from "pg";
import ws from "ws";
import { emulatorTwilioClient, TwilioEmulatorControl } from "../../local/twilio/client.ts";
import { createBusiness, createOwnerAccount, deleteBusiness, randomPhone, type TestBusiness } from "../support/fixtures.ts";
import { loadStack } from "../support/stack.ts";

const stack = loadStack();
const twilio = emulatorTwilioClient(stack.twilioUrl, stack.twilio.accountSid, stack.twilio.authToken);
const emulator = new TwilioEmulatorControl(stack.twilioUrl.replace(/\/+$/, ""));
const realtime = { transport: ws as unknown as typeof WebSocket };
let db: pg.Pool;
let owner: SupabaseClient;
let staff: SupabaseClient;
let otherOwner: SupabaseClient;
let business: TestBusiness;
let otherBusiness: TestBusiness;

function client(): SupabaseClient {
  return createClient(stack.supabaseUrl, stack.anonKey, { auth: { persistSession: false, autoRefreshToken: false }, realtime });
}

async function signedIn(account: { email: string; password: string }): Promise<SupabaseClient> {
  const c = client();
  const { error } = await c.auth.signInWithPassword(account);
  if (error) throw error;
  return c;
}

type Answer = { status: number; body: Record<string, unknown> };

async function call(as: SupabaseClient, method: "GET" | "POST", input: Record<string, string>): Promise<Answer> {
  const { data, error, response } = await as.functions.invoke(
    method === "GET" ? `twilio-numbers?${new URLSearchParams(input)}` : "twilio-numbers",
    { method, ...(method === "POST" ? { body: input } : {}) },
  );
  if (error && !(error instanceof FunctionsHttpError)) throw error;
  const res = (error?.context as Response | undefined) ?? response!;
  return { status: res.status, body: (error ? await res.json() : data) as Record<string, unknown> };
}

before(async () => {
  db = new pg.Pool({ connectionString: stack.dbUrl, max: 2 });
  const ownerAccount = await createOwnerAccount(stack);
  const staffAccount = await createOwnerAccount(stack);
  const otherAccount = await createOwnerAccount(stack);
  business = await createBusiness(db, { owner: ownerAccount.userId, name: "Numbers Test Plumbing" });
  otherBusiness = await createBusiness(db, { owner: otherAccount.userId });
  await db.query("insert into public.business_members (business_id, user_id, role) values ($1, $2, 'staff')", [business.id, staffAccount.userId]);
  [owner, staff, otherOwner] = await Promise.all([signedIn(ownerAccount), signedIn(staffAccount), signedIn(otherAccount)]);
});

after(async () => {
  for (const b of [business, otherBusiness]) if (b) await deleteBusiness(db, b.id);
  await db?.end();
});

describe("twilio-numbers refuses", () => {
  test("anon (the widget's key, no session) with 401", async () => {
    for (const [method, input] of [["GET", { business_id: business.id, area_code: "415" }], ["GET", { business_id: business.id, owned: "true" }], ["POST", { business_id: business.id, phone_number: "+14155550100" }]] as const) {
      const answer = await call(client(), method, input);
      assert.equal(answer.status, 401, method);
      // The anon key is a valid JWT, so this is the function's own refusal, not the gateway's.
      assert.equal(answer.body.error, "unauthorized");
    }
  });

  test("staff of the business, another business's owner and a business that does not exist with 403", async () => {
    for (const [who, as, id] of [["staff", staff, business.id], ["other owner", otherOwner, business.id], ["missing business", owner, randomUUID()]] as const) {
      const search = await call(as, "GET", { business_id: id, area_code: "415" });
      assert.equal(search.status, 403, `${who} search`);
      assert.equal(search.body.error, "forbidden");
      const buy = await call(as, "POST", { business_id: id, phone_number: "+14155550100" });
      assert.equal(buy.status, 403, `${who} buy`);
      const owned = await call(as, "GET", { business_id: id, owned: "true" });
      assert.equal(owned.status, 403, `${who} list the account's numbers`);
      assert.equal(owned.body.numbers, undefined);
    }
    const { rows } = await db.query("select twilio_number from public.businesses where id = $1", [business.id]);
    assert.equal(rows[0].twilio_number, business.twilioNumber, "nothing changed");
  });
});

describe("an owner's sending number", () => {
  test("search, buy: the number is the business's, wired to twilio-inbound with the retry overrides and the fallback, and receives texts", async () => {
    const search = await call(owner, "GET", { business_id: business.id, area_code: "415" });
    assert.equal(search.status, 200);
    const numbers = search.body.numbers as { phone_number: string; locality: string; region: string }[];
    assert.ok(numbers.length > 0 && numbers.every((n) => n.phone_number.startsWith("+1415") && n.locality === "San Francisco" && n.region === "CA"));

    const picked = numbers[0].phone_number;
    const bought = await call(owner, "POST", { business_id: business.id, phone_number: picked });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    assert.equal(bought.body.phone_number, picked);
    assert.deepEqual(bought.body.replaced, { phone_number: business.twilioNumber, phone_number_sid: null });
    const sid = bought.body.phone_number_sid as string;

    const { rows } = await db.query("select twilio_number, twilio_number_sid from public.businesses where id = $1", [business.id]);
    assert.deepEqual(rows[0], { twilio_number: picked, twilio_number_sid: sid });
    const previous = await db.query("select phone_number from public.previous_sending_numbers where business_id = $1", [business.id]);
    assert.deepEqual(previous.rows, [{ phone_number: business.twilioNumber }]);

    const resource = await twilio.incomingPhoneNumbers(sid).fetch();
    assert.equal(resource.smsUrl, `${stack.functionsUrl}/twilio-inbound#rc=3&rp=5xx,ct,rt`);
    assert.equal(resource.smsFallbackUrl, `${stack.functionsUrl}/twilio-inbound?fallback=1#rc=3&rp=5xx,ct,rt`);
    assert.equal(resource.statusCallback, `${stack.functionsUrl}/twilio-status`);
    assert.equal(resource.friendlyName, "Numbers Test Plumbing");

    // A text to the new number reaches the business through twilio-inbound (its signature check included).
    const lead = randomPhone();
    const { sid: messageSid } = await emulator.inbound({ from: lead, to: picked, body: "Is this the plumber?" });
    const stored = await waitFor(async () => (await db.query("select business_id from public.messages where twilio_sid = $1", [messageSid])).rows[0]);
    assert.equal(stored.business_id, business.id);
    const [hook] = await emulator.webhooks(messageSid);
    assert.deepEqual([hook.ok, hook.httpStatus, hook.url], [true, 200, `${stack.functionsUrl}/twilio-inbound`]);

    // The same number for another business: refused, whether bought or connected.
    const again = await call(otherOwner, "POST", { business_id: otherBusiness.id, phone_number: picked });
    assert.equal(again.status, 409);
    const stolen = await call(otherOwner, "POST", { business_id: otherBusiness.id, phone_number_sid: sid });
    assert.equal(stolen.status, 409);
  });

  test("connect: a number the account already owns is configured and becomes the business's; another business's previous number cannot be", async () => {
    const hosted = await emulator.configureNumber({ phoneNumber: randomPhone(), smsUrl: null });
    const connected = await call(otherOwner, "POST", { business_id: otherBusiness.id, phone_number_sid: hosted.sid });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    assert.equal(connected.body.phone_number, hosted.phoneNumber);
    assert.equal((await twilio.incomingPhoneNumbers(hosted.sid).fetch()).smsUrl, `${stack.functionsUrl}/twilio-inbound#rc=3&rp=5xx,ct,rt`);
    const { rows } = await db.query("select twilio_number, twilio_number_sid from public.businesses where id = $1", [otherBusiness.id]);
    assert.deepEqual(rows[0], { twilio_number: hosted.phoneNumber, twilio_number_sid: hosted.sid });

    // The first business's replaced number is still its own: the other owner cannot connect it.
    const oldNumber = await emulator.configureNumber({ phoneNumber: business.twilioNumber, smsUrl: null });
    assert.equal((await call(otherOwner, "POST", { business_id: otherBusiness.id, phone_number_sid: oldNumber.sid })).status, 409);
    assert.equal((await call(otherOwner, "POST", { business_id: otherBusiness.id, phone_number_sid: "PN" + "0".repeat(32) })).status, 404);
  });
});

describe("the account's numbers an owner may connect", () => {
  test("lists free numbers with their SIDs, never another business's current or previous number, and one picked connects", async () => {
    const free = await emulator.configureNumber({ phoneNumber: randomPhone(), smsUrl: null });
    const current = async (id: string) => (await db.query("select twilio_number from public.businesses where id = $1", [id])).rows[0].twilio_number as string;
    // Every number the two businesses send or sent from is in the account too.
    const theirs = [await current(otherBusiness.id), ...(await db.query("select phone_number from public.previous_sending_numbers where business_id = $1", [otherBusiness.id])).rows.map((r) => r.phone_number as string)];
    const ours = await current(business.id);
    for (const phoneNumber of [...theirs, ours]) await emulator.configureNumber({ phoneNumber, smsUrl: null });

    const listed = await call(owner, "GET", { business_id: business.id, owned: "true" });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.complete, true);
    const numbers = listed.body.numbers as { phone_number: string; phone_number_sid: string; friendly_name: string }[];
    assert.deepEqual(numbers.find((n) => n.phone_number === free.phoneNumber), { phone_number: free.phoneNumber, phone_number_sid: free.sid, friendly_name: free.friendlyName });
    for (const taken of theirs) assert.ok(!numbers.some((n) => n.phone_number === taken), `another business's ${taken} is not listed`);
    assert.ok(!numbers.some((n) => n.phone_number === ours), "nor the business's own current number");
    // Nothing listed is any business's current number.
    const { rows } = await db.query("select count(*)::int as n from public.businesses where twilio_number = any($1)", [numbers.map((n) => n.phone_number)]);
    assert.equal(rows[0].n, 0);

    const otherView = await call(otherOwner, "GET", { business_id: otherBusiness.id, owned: "true" });
    assert.ok(!(otherView.body.numbers as { phone_number: string }[]).some((n) => n.phone_number === ours), "the other owner does not see this business's number");

    const connected = await call(owner, "POST", { business_id: business.id, phone_number_sid: free.sid });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const after = await call(otherOwner, "GET", { business_id: otherBusiness.id, owned: "true" });
    assert.ok(!(after.body.numbers as { phone_number: string }[]).some((n) => n.phone_number === free.phoneNumber), "once connected, it is gone from other owners' lists");
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}
