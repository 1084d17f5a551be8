// Member alert phones through the real stack: a staff member sets their alert phone from the dashboard's
// client, reads the code on that phone (the Twilio emulator) and confirms it; a new lead then reaches the
// owner's phone and the member's, the owner's first; the member answers "<code> called" from their phone
// and the lead is updated in their name. Removed from the team, their phone gets nothing more.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createClient } from "@supabase/supabase-js";
import ws from "ws";
import type { Database } from "../../functions/_shared/database.types.ts";
import { createOwnerAccount } from "../support/fixtures.ts";
import {
  closeDb, db, deleteBusiness, inboundWebhooks, randomPhone, received, sleep, stack, submitLead, textFrom, waitFor, waitForOutboxIdle,
  waitForReceived,
} from "../loop/loop-support.ts";
import { type OwnedBusiness, ownedBusiness } from "./leadwork-support.ts";

const businesses: OwnedBusiness[] = [];
after(async () => {
  for (const b of businesses) await deleteBusiness(b);
  await closeDb();
});

async function signedIn(email: string, password: string) {
  const client = createClient<Database>(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
  const { error } = await client.auth.signInWithPassword({ email, password });
  if (error) throw new Error(`sign-in failed: ${error.message}`);
  return client;
}

test("a staff member's confirmed alert phone gets the lead alert after the owner's, and works the lead by text", async () => {
  const b = await ownedBusiness();
  businesses.push(b);
  const account = await createOwnerAccount(stack);
  await db().query("insert into public.business_members (business_id, user_id, role) values ($1, $2, 'staff')", [b.id, account.userId]);
  const staff = await signedIn(account.email, account.password);
  const memberPhone = randomPhone();

  // Staff may not touch the owner's alert phone, only their own.
  const refused = await staff.rpc("set_member_alert_phone", { p_business_id: b.id, p_user_id: b.ownerId, p_phone: randomPhone() });
  assert.equal(refused.error?.code, "42501");

  const set = await staff.rpc("set_member_alert_phone", { p_business_id: b.id, p_user_id: account.userId, p_phone: memberPhone });
  assert.equal(set.error, null);
  assert.equal((set.data as { state: string }).state, "unverified");
  const [codeText] = await waitForReceived(memberPhone, 1);
  const code = /^(\d{6}) is your leadloop code/.exec(codeText.body)?.[1];
  assert.ok(code, `the phone gets a code: ${codeText.body}`);
  const wrong = await staff.rpc("confirm_member_alert_phone", { p_business_id: b.id, p_user_id: account.userId, p_code: code === "000000" ? "111111" : "000000" });
  assert.equal(wrong.data, false, "a wrong code is refused");
  const confirmed = await staff.rpc("confirm_member_alert_phone", { p_business_id: b.id, p_user_id: account.userId, p_code: code });
  assert.equal(confirmed.error, null);
  assert.equal(confirmed.data, true);

  const leadPhone = randomPhone();
  await submitLead(b, { name: "Dana Whitfield", phone: leadPhone, message: "Furnace will not start" });
  const [ownerAlert] = await waitForReceived(b.ownerPhone, 1);
  const [, memberAlert] = await waitForReceived(memberPhone, 2);
  assert.match(ownerAlert.body, /^New lead for .*: Dana Whitfield/);
  assert.equal(memberAlert.body, ownerAlert.body, "the member gets the same alert");
  assert.equal(memberAlert.from, b.twilioNumber, "...from the business number");
  const order = await db().query<{ owner_sent: Date; member_created: Date }>(
    `select o.sent_at as owner_sent, m.created_at as member_created
       from public.messages o join public.messages m on m.lead_id = o.lead_id and m.kind = 'member_alert'
      where o.business_id = $1 and o.kind = 'owner_alert'`, [b.id]);
  assert.equal(order.rows.length, 1, "one copy for the one member phone");
  assert.ok(order.rows[0].member_created >= order.rows[0].owner_sent, "the member's copy is written only once the owner's alert has gone");

  const shortCode = /text (\d{4}) and your message/.exec(memberAlert.body)?.[1];
  assert.ok(shortCode, "the alert carries the lead's code");
  await inboundWebhooks(await textFrom(memberPhone, b.twilioNumber, `${shortCode} called`));
  await waitFor("the lead to be contacted", async () => {
    const { rows } = await db().query("select status from public.leads where business_id = $1 and phone = $2", [b.id, leadPhone]);
    return rows[0]?.status === "contacted";
  });
  const history = await db().query("select actor_id from public.lead_events e join public.leads l on l.id = e.lead_id where l.phone = $1 and e.field = 'status'", [leadPhone]);
  assert.equal(history.rows[0]?.actor_id, account.userId, "the change is in the member's name");
  const answers = await waitForReceived(memberPhone, 3);
  assert.match(answers[2].body, new RegExp(`^Dana Whitfield \\(${shortCode}\\) is now Contacted\\.$`), "the answer goes back to the member's phone");

  // Removed from the team: nothing more to that phone, and its commands are ordinary texts.
  const removed = await b.owner.from("business_members").delete({ count: "exact" }).eq("business_id", b.id).eq("user_id", account.userId);
  assert.equal(removed.count, 1);
  const secondLead = randomPhone();
  await submitLead(b, { name: "Sam Ortiz", phone: secondLead, message: "Leaking roof" });
  await waitForReceived(b.ownerPhone, 2);
  await waitForOutboxIdle();
  await sleep(200);
  assert.equal((await received(memberPhone)).length, 3, "a removed member's phone gets no alert");
  await inboundWebhooks(await textFrom(memberPhone, b.twilioNumber, `${shortCode} won`));
  await waitForOutboxIdle();
  const after = await db().query("select status from public.leads where business_id = $1 and phone = $2", [b.id, leadPhone]);
  assert.equal(after.rows[0].status, "contacted", "...and its commands no longer work");
});
