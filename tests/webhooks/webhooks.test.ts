// Outgoing webhooks end to end on the local stack: a lead saved through the widget reaches the owner's
// receiver signed per Standard Webhooks (verified with the standardwebhooks library), failures are retried
// fast at first, a resend carries the same webhook-id, and an endpoint failing for 24 hours is turned off
// and its owner told. Time moves through webhook-deliver's `now`, never by waiting.
import assert from "node:assert/strict";
import { after, afterEach, test } from "node:test";
import { randomPhone } from "../support/fixtures.ts";
import { deleteBusiness } from "../support/fixtures.ts";
import { closeDb, db, deliveriesOf, newOwner as makeOwner, type Owner, runDeliver, type Receiver, stack, startReceiver, submitLead, waitFor } from "./support.ts";

// Moving webhook-deliver's clock moves it for every pending delivery on the stack: each test deletes its
// business (and with it its endpoints and deliveries) so none is left for the next test's clock.
const receivers: Receiver[] = [];
const owners: Owner[] = [];
afterEach(async () => {
  for (const o of owners.splice(0)) await deleteBusiness(db(), o.business.id);
});
after(async () => {
  for (const r of receivers) await r.close();
  await closeDb();
});

async function newOwner(): Promise<Owner> {
  const owner = await makeOwner();
  owners.push(owner);
  return owner;
}

async function endpointFor(owner: Owner, receiver: Receiver, events = ["lead.created"]): Promise<string> {
  const { data, error } = await owner.client
    .rpc("create_webhook_endpoint", { p_business_id: owner.business.id, p_url: receiver.url, p_events: events })
    .single<{ endpoint_id: string; signing_secret: string }>();
  assert.equal(error, null);
  assert.match(data!.signing_secret, /^whsec_/);
  receiver.secret = data!.signing_secret;
  return data!.endpoint_id;
}

async function receiverAnswering(answer: (n: number) => number): Promise<Receiver> {
  const receiver = await startReceiver(answer);
  receivers.push(receiver);
  return receiver;
}

test("a receiver failing three times gets the event on the fourth attempt, minutes later, every request verified", async () => {
  const owner = await newOwner();
  const receiver = await receiverAnswering((n) => (n <= 3 ? 500 : 200));
  await endpointFor(owner, receiver);
  const phone = randomPhone();
  await submitLead(owner.business.widgetId, phone);

  // The first attempt follows the commit on its own (pg_net wakes the function).
  await waitFor("the first attempt", () => receiver.received.length >= 1);
  for (let attempt = 2; attempt <= 4; attempt++) {
    const [due] = await waitFor(`attempt ${attempt - 1} recorded`, async () => {
      const rows = await deliveriesOf(owner.business.id);
      return rows[0]?.status === "pending" && rows[0].attempts === attempt - 1 ? rows : null;
    });
    // The database keeps microseconds, a Date milliseconds: a moment after the due time.
    const { status } = await runDeliver(new Date(due.next_attempt_at.getTime() + 1));
    assert.equal(status, 200);
    await waitFor(`attempt ${attempt}`, () => receiver.received.length >= attempt);
  }

  const [delivery] = await waitFor("the success recorded", async () => {
    const rows = await deliveriesOf(owner.business.id);
    return rows[0]?.status === "succeeded" ? rows : null;
  });
  assert.equal(delivery.attempts, 4);
  assert.equal(delivery.response_status, 200);
  const minutes = (delivery.delivered_at!.getTime() - delivery.created_at.getTime()) / 60_000;
  assert.ok(minutes < 3, `the fourth attempt came ${minutes.toFixed(1)} minutes after the event, not hours`);

  assert.deepEqual(receiver.received.map((r) => r.status), [500, 500, 500, 200]);
  assert.deepEqual(receiver.received.map((r) => r.verified.ok), [true, true, true, true], JSON.stringify(receiver.received.map((r) => r.verified)));
  assert.equal(new Set(receiver.received.map((r) => r.id)).size, 1, "every retry carries the same webhook-id");
  const body = (receiver.received[3].verified as { body: Record<string, unknown> }).body;
  assert.equal(body.type, "lead.created");
  assert.equal((body.data as { lead: { phone: string } }).lead.phone, phone);

  // The owner reads the log through their own session (RLS).
  const log = await owner.client.from("webhook_deliveries").select("status, attempts, response_status, response_excerpt, latency_ms");
  assert.equal(log.error, null);
  assert.deepEqual(log.data!.map((d) => [d.status, d.attempts, d.response_status, d.response_excerpt]), [["succeeded", 4, 200, "stored"]]);
  assert.ok(typeof log.data![0].latency_ms === "number");

  // Resend: the same webhook-id again, so a receiver that stored it can ignore the replay.
  const resend = await owner.client.rpc("resend_webhook_delivery", { p_delivery_id: delivery.id });
  assert.equal(resend.error, null);
  await waitFor("the resent delivery", () => receiver.received.length >= 5);
  const replay = receiver.received[4];
  assert.equal(replay.id, receiver.received[0].id, "a resend keeps the webhook-id");
  assert.equal(replay.verified.ok, true);
  assert.ok(replay.timestamp >= receiver.received[0].timestamp, "and is signed when it is sent");
});

test("an endpoint failing for 24 hours is turned off, its owner is told, and it gets nothing more", async () => {
  const owner = await newOwner();
  const receiver = await receiverAnswering(() => 503);
  const endpointId = await endpointFor(owner, receiver, ["lead.created", "lead.updated"]);
  await submitLead(owner.business.widgetId, randomPhone());
  await waitFor("the first attempt", () => receiver.received.length >= 1);
  const [first] = await waitFor("the failure recorded", async () => {
    const rows = await deliveriesOf(owner.business.id);
    return rows[0]?.attempts === 1 && rows[0].status === "pending" ? rows : null;
  });

  const dayLater = new Date(first.created_at.getTime() + 24 * 3600_000 + 1000);
  const run = await runDeliver(dayLater);
  assert.equal(run.status, 200);
  assert.ok(Number(run.body.endpoints_disabled) >= 1, JSON.stringify(run.body));
  const [given] = await deliveriesOf(owner.business.id);
  assert.equal(given.status, "failed");

  const endpoint = await owner.client.from("webhook_endpoints").select("enabled, disabled_reason").eq("id", endpointId).single();
  assert.deepEqual(endpoint.data, { enabled: false, disabled_reason: "failing" });
  const told = await owner.client.from("owner_notifications").select("kind, severity, body").eq("kind", "webhook.endpoint_disabled");
  assert.equal(told.data?.length, 1);
  assert.match(told.data![0].body, new RegExp(`Every delivery to ${receiver.url.replace(/[.]/g, "\\.")} has failed since`));

  await submitLead(owner.business.widgetId, randomPhone());
  assert.equal((await deliveriesOf(owner.business.id)).length, 1, "a turned-off endpoint gets no new deliveries");
});

test("in production mode the sender refuses loopback targets without connecting", async () => {
  const owner = await newOwner();
  const receiver = await receiverAnswering(() => 200);
  await endpointFor(owner, receiver);
  await db().query("update vault.secrets set secret = 'production' where name = 'platform_mode'");
  try {
    await submitLead(owner.business.widgetId, randomPhone());
    const [refused] = await waitFor("the refused attempt", async () => {
      const rows = await deliveriesOf(owner.business.id);
      return rows[0]?.attempts === 1 && rows[0].status === "pending" ? rows : null;
    });
    assert.match(refused.error ?? "", /^refused: 127\.0\.0\.1 points to this machine/);
    assert.equal(receiver.received.length, 0);
  } finally {
    await db().query("update vault.secrets set secret = 'local' where name = 'platform_mode'");
  }
});

test("only the service role may run deliveries (and move their clock)", async () => {
  const owner = await newOwner();
  const { data } = await owner.client.auth.getSession();
  for (const key of [stack.anonKey, data.session!.access_token]) {
    const res = await runDeliver(new Date(Date.now() + 86_400_000), key);
    assert.equal(res.status, 401, JSON.stringify(res.body));
  }
});
