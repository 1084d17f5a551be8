// The database and the conversation engine agree on what was asked through messages.asks alone:
// the text-back asks exactly what the form left out and records it, and the engine, reading the
// context the database hands twilio-inbound, takes a bare reply as the answer to a text that asked
// one slot, and as nothing in particular after a text that asked several. The turn it decides is
// applied and worded by the database in the lead's language.
// Runs against the database of the instance in LEADLOOP_INSTANCE (needs `npx tsx local/db/cli.ts start`).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import pg from "pg";
import { instanceConfig } from "../../local/config.ts";
import { conversationContextSchema } from "../../functions/_shared/contracts.ts";
import { decideTurn } from "../../functions/_shared/conversation-engine.ts";

let client: pg.Client;
const businessId = randomUUID();
const widgetId = randomUUID();
const twilioNumber = "+1557" + String(Math.floor(Math.random() * 1e7)).padStart(7, "0");
let phoneSeq = 0;

before(async () => {
  client = new pg.Client({ connectionString: instanceConfig().dbUrl });
  await client.connect();
  // Everything below happens in one transaction that is rolled back: nothing is ever sent.
  await client.query("begin");
  await client.query(
    `insert into public.businesses (id, name, owner_phone, twilio_number, duplicate_window_minutes)
     values ($1, 'Asks Co', '+15565550100', $2, 0)`,
    [businessId, twilioNumber],
  );
  await client.query(
    `insert into public.subscriptions (business_id, status, current_period_start, current_period_end, conversation_quota)
     values ($1, 'active', now() - interval '1 day', now() + interval '29 days', 100)`,
    [businessId],
  );
  await client.query(
    `insert into public.widgets (id, business_id, allowed_origins, consent_text)
     values ($1, $2, '{https://asks.example}', 'Texts from Asks Co about your request. Msg & data rates may apply. Reply STOP to opt out, HELP for help.')`,
    [widgetId, businessId],
  );
});

after(async () => {
  await client?.query("rollback").catch(() => {});
  await client?.end();
});

/** Submits the form, then the lead answers with `reply`; returns what the engine decided and what was sent. */
async function converse(message: string, reply: string) {
  const phone = "+155823" + String(phoneSeq++).padStart(5, "0");
  const { rows: [lead] } = await client.query<{ id: string }>(
    `insert into public.leads (widget_id, name, phone, message, sms_consent) values ($1, 'Dana Smith', $2, $3, true) returning id`,
    [widgetId, phone, message],
  );
  const { rows: [textBack] } = await client.query<{ asks: string[]; body: string }>(
    `select asks, body from public.messages where lead_id = $1 and kind = 'text_back'`,
    [lead.id],
  );
  // sms-dispatch sends it (a reply to a text-back still waiting would cancel it instead).
  await client.query(`update public.messages set status = 'sent', sent_at = now() where lead_id = $1 and kind = 'text_back'`, [lead.id]);
  // What twilio-inbound does: store the text raw, then process it.
  const sid = "SM" + randomUUID().replaceAll("-", "");
  await client.query(`select public.receive_inbound_sms($1, $2, $3, $4)`, [sid, phone, twilioNumber, reply]);
  const { rows: [inbound] } = await client.query<{ r: { context: unknown } }>(`select public.process_inbound_sms($1) as r`, [sid]);
  const context = conversationContextSchema.parse(inbound.r.context);
  const decision = decideTurn(context, reply, new Date());
  await client.query(`select public.apply_conversation_turn($1, $2, $3, $4, $5, $6, $7)`, [
    context.conversation_id,
    context.version,
    decision.slots,
    decision.ask ? [decision.ask] : [],
    decision.acknowledge,
    decision.complete,
    decision.completionReason,
  ]);
  const { rows: [next] } = await client.query<{ kind: string; asks: string[]; body: string }>(
    `select m.kind, m.asks, m.body from public.messages m join public.conversations c on c.id = m.conversation_id
      where c.lead_id = $1 and m.kind in ('question', 'closing')`,
    [lead.id],
  );
  return { textBack, context, decision, next };
}

test("a bare reply answers a text-back that asked only where", async () => {
  const r = await converse("Water heater leaking, can you come tomorrow morning?", "Round Rock");
  assert.deepEqual(r.textBack.asks, ["location"]);
  assert.equal(r.decision.slots.location, "Round Rock");
  assert.equal(r.decision.completionReason, "slots_filled");
  assert.deepEqual(r.next, { kind: "closing", asks: [], body: "Thanks Dana! Asks Co has what they need and will get back to you shortly." });
});

test("after a text-back that asked what, when and where, a bare place is no answer: the need is asked next", async () => {
  const r = await converse("Hi", "Round Rock");
  assert.deepEqual(r.textBack.asks, ["need", "timing", "location"]);
  assert.equal(r.decision.slots.location, null);
  assert.equal(r.decision.ask, "need");
  assert.deepEqual(r.next, { kind: "question", asks: ["need"], body: "What can we help you with?" });
});

test("a Spanish lead is asked only when, answers briefly, and the next text is in Spanish", async () => {
  const r = await converse("Tengo una fuga de agua en la cocina, Calle Ocho 123", "el sábado");
  assert.deepEqual(r.textBack.asks, ["timing"]);
  assert.match(r.textBack.body, /^Hola Dana, le escribe Asks Co\. .*¿Para cuándo lo necesita\?/);
  assert.equal(r.context.locale, "es");
  assert.equal(r.decision.completionReason, "slots_filled");
  assert.match(r.next.body, /^¡Gracias Dana! Asks Co ya tiene lo que necesita/);
});

test("a form that says everything gets the access question, and a reply about the gate is kept as a constraint", async () => {
  const r = await converse("Water heater leaking, can you come tomorrow morning? 1420 Elm St, Austin 78704", "gate code is 4412, dog in yard");
  assert.deepEqual(r.textBack.asks, ["constraints"]);
  assert.ok(r.decision.slots.constraints.length >= 1, `constraints: ${JSON.stringify(r.decision.slots.constraints)}`);
  assert.equal(r.next.kind, "closing");
});
