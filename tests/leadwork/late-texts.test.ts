// Late texts on the emulator: a lead who writes after the conversation closed reaches the owner's
// phone, and the owner answers or sets the status by texting the lead's code back.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { closeDb, db, deleteBusiness, inboundWebhooks, textFrom, waitFor, waitForReceived } from "../loop/loop-support.ts";
import { leadWithTextBack, type OwnedBusiness, ownedBusiness } from "./leadwork-support.ts";

const businesses: OwnedBusiness[] = [];
after(async () => {
  for (const b of businesses) await deleteBusiness(b);
  await closeDb();
});

test("a reply after the conversation closed is relayed to the owner, who answers and sets the status by text", async () => {
  const b = await ownedBusiness();
  businesses.push(b);
  const { phone, leadId } = await leadWithTextBack(b, "Maria Lopez");
  const [alert] = await waitForReceived(b.ownerPhone, 1);
  const code = /text (\d{4}) and your message/.exec(alert.body)?.[1];
  assert.ok(code, `the owner alert carries the lead's code: ${alert.body}`);
  await db().query("select private.close_conversation(id, 'completed', 'slots_filled') from public.conversations where lead_id = $1", [leadId]);

  await inboundWebhooks(await textFrom(phone, b.twilioNumber, "Hi, still need someone\nfor the heater!"));
  const [, relay] = await waitForReceived(b.ownerPhone, 2);
  assert.equal(relay.from, b.twilioNumber);
  assert.match(relay.body, new RegExp(`^Maria Lopez \\(lead, \\d+ min ago\\): Hi, still need someone for the heater!\\nReply: ${code} and your message$`));
  const unread = await db().query("select unread_count from public.leads where id = $1", [leadId]);
  assert.equal(unread.rows[0].unread_count, 1, "the thread is unread");

  await inboundWebhooks(await textFrom(b.ownerPhone, b.twilioNumber, `${code} On my way, 20 minutes`));
  const toLead = await waitForReceived(phone, 2);
  assert.equal(toLead[1].body, "On my way, 20 minutes");
  assert.equal(toLead[1].from, b.twilioNumber, "the owner's answer leaves from the business number");

  await inboundWebhooks(await textFrom(b.ownerPhone, b.twilioNumber, `${code} CALLED`));
  await waitFor("the lead to be contacted", async () => {
    const { rows } = await db().query("select status from public.leads where id = $1", [leadId]);
    return rows[0].status === "contacted";
  });
  const confirmations = await waitForReceived(b.ownerPhone, 3);
  assert.match(confirmations[2].body, new RegExp(`^Maria Lopez \\(${code}\\) is now Contacted\\.$`));
});

test("a text to the business's previous number still reaches it", async () => {
  const b = await ownedBusiness();
  businesses.push(b);
  const { phone } = await leadWithTextBack(b, "Old Number Lead");
  const previous = b.twilioNumber;
  // The business moves to a new number; the old one stays in the account, pointed at twilio-inbound.
  await db().query("insert into public.previous_sending_numbers (phone_number, business_id) values ($1, $2)", [previous, b.id]);
  await db().query("update public.businesses set twilio_number = $2 where id = $1", [b.id, "+1512" + String(Date.now()).slice(-7)]);
  await inboundWebhooks(await textFrom(phone, previous, "STOP"));
  await waitFor("the STOP to be applied", async () => {
    const { rows } = await db().query("select 1 from public.opt_outs where business_id = $1 and phone = $2", [b.id, phone]);
    return rows.length === 1;
  });
});
