// Takeover on the emulator: the owner answers from the dashboard, the text leaves from the business
// number, and the bot stays quiet until it is handed back.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { closeDb, db, deleteBusiness, inboundWebhooks, received, sleep, textFrom, waitForReceived } from "../loop/loop-support.ts";
import { leadWithTextBack, type OwnedBusiness, ownedBusiness } from "./leadwork-support.ts";

const businesses: OwnedBusiness[] = [];
after(async () => {
  for (const b of businesses) await deleteBusiness(b);
  await closeDb();
});

test("after send_owner_reply the lead's reply gets no bot question, until the owner hands back", async () => {
  const b = await ownedBusiness();
  businesses.push(b);
  const { phone, leadId } = await leadWithTextBack(b);

  const sent = await b.owner.rpc("send_owner_reply", { p_lead_id: leadId, p_body: "Hi Maria, Sam here. Can I call you at 3?" });
  assert.equal(sent.error, null);
  const [, reply] = await waitForReceived(phone, 2);
  assert.equal(reply.from, b.twilioNumber, "the reply leaves from the business number");
  assert.equal(reply.body, "Hi Maria, Sam here. Can I call you at 3?");

  const sid = await textFrom(phone, b.twilioNumber, "Tomorrow morning works");
  await inboundWebhooks(sid);
  await sleep(1500);
  assert.equal((await received(phone)).length, 2, "the bot asks nothing while the owner has the conversation");
  const { rows } = await db().query("select slots ->> 'timing' as timing, status from public.conversations where lead_id = $1", [leadId]);
  assert.equal(rows[0].status, "active");
  assert.equal(rows[0].timing?.toLowerCase(), "tomorrow morning", "...but it still keeps what the lead said");

  const resumed = await b.owner.rpc("resume_bot", { p_lead_id: leadId });
  assert.equal(resumed.data, true);
  await textFrom(phone, b.twilioNumber, "Oh and it's in 78745");
  const afterResume = await waitForReceived(phone, 3);
  assert.notEqual(afterResume[2].body, reply.body, "handed back, the bot answers the next reply");
});

test("send_owner_reply refuses another business's lead", async () => {
  const [mine, theirs] = [await ownedBusiness(), await ownedBusiness()];
  businesses.push(mine, theirs);
  const { leadId } = await leadWithTextBack(theirs, "Other Lead");
  const refused = await mine.owner.rpc("send_owner_reply", { p_lead_id: leadId, p_body: "hello" });
  assert.equal(refused.error?.code, "42501");
  const { rows } = await db().query("select count(*)::int as n from public.messages where lead_id = $1 and kind = 'owner_reply'", [leadId]);
  assert.equal(rows[0].n, 0);
});
