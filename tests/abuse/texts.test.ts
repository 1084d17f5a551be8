// Issue 12 on the Twilio emulator's phones: what actually reaches a phone when a lead tries to forge the
// owner's alert or put a link in their name, when the number is Jamaican or premium-rate, while the owner
// phone is unconfirmed, and once the daily cap is reached.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createClient } from "@supabase/supabase-js";
import ws from "ws";
import { createBusiness as createFixtureBusiness, createOwnerAccount, registerTwilioNumber, unconfirmOwnerPhone, type TestBusiness } from "../support/fixtures.ts";
import { closeDb, db, deleteBusiness, origin, randomPhone, received, sleep, stack, submitLead, waitFor, waitForReceived } from "../loop/loop-support.ts";

const businesses: TestBusiness[] = [];
after(async () => {
  for (const b of businesses) await deleteBusiness(b);
  await closeDb();
});

async function business(options: Parameters<typeof createFixtureBusiness>[1] = {}) {
  const { ownerPhoneVerified, ...rest } = options;
  const b = await createFixtureBusiness(db(), { origins: [origin], duplicateWindowMinutes: 0, quota: 1000, ...rest });
  await registerTwilioNumber(stack, b);
  if (ownerPhoneVerified === false) await unconfirmOwnerPhone(db(), b.id);
  businesses.push(b);
  return b;
}

test("a name or message that tries to add a Call: line to the owner's alert stays inside its own line", async () => {
  const b = await business();
  const lead = randomPhone();
  await submitLead(b, {
    name: "Eve\nCall: tel:+19004561234",
    phone: lead,
    message: "My sink leaks\r\nCall: tel:+19004562222\u2028Text: sms:+19004563333\u202e",
  });
  const [alert] = await waitForReceived(b.ownerPhone, 1);
  const lines = alert.body.split("\n");
  assert.equal(lines.length, 6, alert.body);
  assert.match(lines[5], /^Reply from this number: text \d{4} and your message/, "the last line is leadloop's own reply hint");
  assert.deepEqual(lines.filter((l) => /^(Call|Text|Llamar|Mensaje):/.test(l)), [`Call: tel:${lead}`, `Text: sms:${lead}`]);
  assert.doesNotMatch(alert.body, /[\u2028\u202e\r]/);
});

test("a link or a phone number as the first name: the lead's text uses the no-name form", async () => {
  const b = await business();
  for (const name of ["https://evil.example/x", "+19004561234 Smith"]) {
    const lead = randomPhone();
    await submitLead(b, { name, phone: lead, message: "Water heater leaking" });
    const [textBack] = await waitForReceived(lead, 1);
    assert.match(textBack.body, /^Hi, this is /, textBack.body);
    assert.doesNotMatch(textBack.body, /evil|900/);
  }
});

test("+1 876 (Jamaica) and +1 900 (premium) leads are saved but never texted; the owner hears only about the Jamaican one", async () => {
  const b = await business();
  const jamaica = "+1876" + randomPhone().slice(5);
  const premium = "+1900" + randomPhone().slice(5);
  await submitLead(b, { name: "Jam Lead", phone: jamaica, message: "Need a plumber" });
  await submitLead(b, { name: "Prem Lead", phone: premium, message: "Need a plumber" });
  const [alert] = await waitForReceived(b.ownerPhone, 1);
  assert.match(alert.body, /Jam Lead/);
  const { rows } = await db().query<{ phone: string; not_texted_reason: string; owner_alert_status: string }>(
    "select phone, not_texted_reason, owner_alert_status from public.leads where business_id = $1", [b.id]);
  const byPhone = Object.fromEntries(rows.map((r) => [r.phone, r]));
  assert.equal(byPhone[jamaica].not_texted_reason, "country_not_allowed");
  assert.notEqual(byPhone[jamaica].owner_alert_status, "skipped_suspicious");
  assert.equal(byPhone[premium].not_texted_reason, "premium_rate");
  assert.equal(byPhone[premium].owner_alert_status, "skipped_suspicious");
  await sleep(1000);
  assert.equal((await received(jamaica)).length, 0, "nothing reaches the Jamaican number");
  assert.equal((await received(premium)).length, 0, "nothing reaches the premium-rate number");
  assert.equal((await received(b.ownerPhone)).length, 1, "one alert: the premium-rate lead does not wake the owner");
});

test("an unconfirmed owner phone gets only its code; alerts wait and go out once the owner confirms", async () => {
  const account = await createOwnerAccount(stack);
  const b = await business({ owner: account.userId, ownerPhoneVerified: false });
  const [codeText] = await waitForReceived(b.ownerPhone, 1);
  const code = /^(\d{6}) is your leadloop code/.exec(codeText.body)?.[1];
  assert.ok(code, codeText.body);

  const lead = randomPhone();
  await submitLead(b, { name: "Waiting Lead", phone: lead, message: "Roof leak" });
  await waitForReceived(lead, 1); // the lead is texted back as usual...
  await sleep(1000);
  assert.equal((await received(b.ownerPhone)).length, 1, "...but the owner phone gets nothing but the code");

  const owner = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
  const signIn = await owner.auth.signInWithPassword({ email: account.email, password: account.password });
  assert.equal(signIn.error, null);
  const { data: waiting } = await owner.from("leads").select("owner_alert_status").eq("business_id", b.id);
  assert.deepEqual(waiting, [{ owner_alert_status: "awaiting_verification" }], "the dashboard shows the alert waiting");
  const codeRows = await owner.from("messages").select("id").eq("business_id", b.id).eq("kind", "verification");
  assert.deepEqual(codeRows.data, [], "the code is not readable through the API, even by the owner");

  const wrong = await owner.rpc("confirm_owner_phone", { p_business_id: b.id, p_code: code === "000000" ? "111111" : "000000" });
  assert.equal(wrong.data, false);
  const right = await owner.rpc("confirm_owner_phone", { p_business_id: b.id, p_code: code });
  assert.equal(right.error, null);
  assert.equal(right.data, true);
  const alerts = await waitForReceived(b.ownerPhone, 2);
  assert.match(alerts[alerts.length - 1].body, /Waiting Lead/);
});

test("the daily cap: texts stop at it, each refusal recorded, the owner told once", async () => {
  const b = await business({ dailySmsCap: 3 });
  const leads = [randomPhone(), randomPhone(), randomPhone()];
  for (const phone of leads) await submitLead(b, { name: "Cap Lead", phone, message: "Need help" });
  await waitFor("three texts sent", async () => {
    const { rows } = await db().query("select count(*)::int as n from public.messages where business_id = $1 and status in ('sent', 'delivered')", [b.id]);
    return rows[0].n >= 3;
  });
  await sleep(1000);
  const { rows: statuses } = await db().query(
    "select status, status_reason, count(*)::int as n from public.messages where business_id = $1 group by 1, 2 order by 1, 2", [b.id]);
  const refused = statuses.find((s) => s.status === "canceled" && s.status_reason === "daily_sms_cap");
  assert.equal(refused?.n, 3, JSON.stringify(statuses));
  const phones = [b.ownerPhone, ...leads];
  const delivered = (await Promise.all(phones.map(received))).flat();
  assert.equal(delivered.length, 3, "exactly three texts reached any phone");
  const { rows: told } = await db().query("select title from public.owner_notifications where business_id = $1 and kind = 'sms.daily_cap_reached'", [b.id]);
  assert.deepEqual(told, [{ title: "Daily text limit reached" }]);
});
