// Issue 15 item 2 on the emulator: texts to a lead wait for the lead's own morning (its browser's zone,
// a ZIP in the form, its area code), owner alerts never wait, a retry that comes due after the lead's
// evening goes back to deferred instead of out, and an owner cannot widen the legal window.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createClient } from "@supabase/supabase-js";
import ws from "ws";
import {
  closeDb,
  createBusiness,
  db,
  deleteBusiness,
  randomPhone,
  received,
  sleep,
  stack,
  submitLead,
  type TestBusiness,
  twilio,
  waitFor,
  waitForOutboxIdle,
  waitForReceived,
  zoneWhereItIs,
} from "../loop/loop-support.ts";
import { createBusiness as createFixtureBusiness, createOwnerAccount } from "../support/fixtures.ts";

const businesses: string[] = [];
async function business(): Promise<TestBusiness> {
  const b = await createBusiness();
  businesses.push(b.id);
  return b;
}
after(async () => {
  for (const id of businesses) await deleteBusiness({ id } as TestBusiness);
  await closeDb();
});

async function lead(b: TestBusiness, phone: string) {
  const { rows } = await db().query(
    "select timezones, timezone_source, region, zip, followup_status from public.leads where business_id = $1 and phone = $2 order by created_at desc limit 1",
    [b.id, phone],
  );
  return rows[0];
}

test("a lead for whom it is 03:00 gets its text-back at 08:00 its time; the owner is alerted at once", async () => {
  const b = await business();
  const phone = randomPhone();
  const night = await zoneWhereItIs("03:00");
  await submitLead(b, { name: "Night Owl", phone, message: "Basement flooding", reported_timezone: night });
  await waitForReceived(b.ownerPhone, 1);
  const stored = await lead(b, phone);
  assert.deepEqual([stored.timezones, stored.timezone_source, stored.followup_status], [[night], "device", "deferred"]);
  const { rows: [textBack] } = await db().query(
    `select status, status_reason, send_after = private.next_allowed_send_time(now(), $3, '08:00', '21:00') as at_eight
       from public.messages where business_id = $1 and to_phone = $2 and kind = 'text_back'`,
    [b.id, phone, night],
  );
  assert.deepEqual(textBack, { status: "deferred", status_reason: "quiet_hours", at_eight: true });
  await sleep(1500);
  assert.equal((await received(phone)).length, 0, "nothing reaches the lead at night");
});

test("where the lead is: a browser that says UTC tells nothing, a ZIP in the form beats the area code", async () => {
  const b = await business();
  const hawaii = "+1808" + String(2000000 + Math.floor(Math.random() * 7999999)).slice(0, 7);
  await submitLead(b, { phone: hawaii, message: "Lanai door sticks", reported_timezone: "UTC" });
  const inHawaii = await lead(b, hawaii);
  assert.deepEqual([inHawaii.timezones, inHawaii.timezone_source, inHawaii.region, inHawaii.zip], [["Pacific/Honolulu"], "area_code", "HI", null]);
  const newYorker = randomPhone().replace(/^\+1\d{3}/, "+1212");
  await submitLead(b, { phone: newYorker, message: "Gutters at the Austin rental, 78704", reported_timezone: null });
  const stored = await lead(b, newYorker);
  assert.deepEqual([stored.timezones, stored.timezone_source, stored.region, stored.zip], [["America/Chicago"], "zip", "TX", "78704"]);
});

test("a retry that comes due after the lead's evening goes back to deferred instead of out", async () => {
  const b = await business();
  const phone = randomPhone();
  // The first two sends fail (the owner alert and the text-back, alerts first); each is retried within seconds.
  await waitForOutboxIdle();
  await twilio.fault({ mode: "http500", count: 2 });
  try {
    await submitLead(b, { name: "Late Retry", phone, message: "Dishwasher leaking" });
    await waitFor("the text-back's first failure", async () => {
      const { rows } = await db().query(
        "select 1 from public.messages where business_id = $1 and to_phone = $2 and kind = 'text_back' and status = 'queued' and error_code is not null",
        [b.id, phone],
      );
      return rows.length > 0;
    }, 10_000);
  } finally {
    await twilio.clearFaults();
  }
  // Meanwhile it has become night where the lead is.
  await db().query("update public.leads set timezones = array[$3], timezone_source = 'device' where business_id = $1 and phone = $2", [
    b.id,
    phone,
    await zoneWhereItIs("23:00"),
  ]);
  const textBack = await waitFor("the retry to be checked at claim time", async () => {
    const { rows } = await db().query(
      "select status, status_reason, attempts from public.messages where business_id = $1 and to_phone = $2 and kind = 'text_back'",
      [b.id, phone],
    );
    return rows[0]?.status === "deferred" ? rows[0] : null;
  }, 15_000);
  assert.equal(textBack.status_reason, "quiet_hours");
  await waitForReceived(b.ownerPhone, 1); // the owner's alert, retried too, is not held
  assert.equal((await received(phone)).length, 0);
});

test("an owner may narrow the texting window but not widen it, and is told why", async () => {
  const account = await createOwnerAccount(stack);
  const own = await createFixtureBusiness(db(), { owner: account.userId });
  businesses.push(own.id);
  const owner = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
  const { error: signInError } = await owner.auth.signInWithPassword({ email: account.email, password: account.password });
  assert.equal(signInError, null);
  const late = await owner.from("businesses").update({ quiet_hours_end: "22:00" }).eq("id", own.id);
  assert.equal(late.error?.message, "Texts to leads must end by 21:00 at the latest (the federal rule): choose 21:00 or earlier.");
  const early = await owner.from("businesses").update({ quiet_hours_start: "07:30" }).eq("id", own.id);
  assert.match(early.error?.message ?? "", /may start at 08:00 at the earliest/);
  const narrower = await owner.from("businesses").update({ quiet_hours_start: "09:00", quiet_hours_end: "18:00" }).eq("id", own.id);
  assert.equal(narrower.error, null);
  const { rows } = await db().query("select quiet_hours_start::text, quiet_hours_end::text from public.businesses where id = $1", [own.id]);
  assert.deepEqual(rows[0], { quiet_hours_start: "09:00:00", quiet_hours_end: "18:00:00" });
  await owner.auth.signOut();
});
