// Issue 15 items 3 and 5 on the emulator: retries come within seconds and are woken at their own time
// (no sweep, no manual wake), a timeout is looked up in Twilio's list before a resend and the owner gets
// exactly one alert, a permanent error is dead-lettered and the owner told on the attention list, and
// a summary that keeps failing is replaced by the plain fallback.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  closeDb,
  createBusiness,
  db,
  deleteBusiness,
  randomPhone,
  received,
  sleep,
  submitLead,
  type TestBusiness,
  twilio,
  waitFor,
  waitForOutboxIdle,
  waitForReceived,
} from "../loop/loop-support.ts";

const businesses: TestBusiness[] = [];
async function business() {
  const b = await createBusiness();
  businesses.push(b);
  return b;
}
after(async () => {
  await twilio.clearFaults();
  for (const b of businesses) await deleteBusiness(b);
  await closeDb();
});

async function ownerAlert(b: TestBusiness) {
  const { rows } = await db().query(
    "select status, attempts, error_code, status_reason, unknown_attempt_at from public.messages where business_id = $1 and kind = 'owner_alert'",
    [b.id],
  );
  return rows[0];
}

test("500s are retried within seconds, each retry woken at its own time", async () => {
  const b = await business();
  await waitForOutboxIdle();
  await twilio.fault({ mode: "http500", count: 3 });
  const started = Date.now();
  try {
    await submitLead(b, { name: "Quick Retry", phone: randomPhone(), message: "Furnace not turning on" });
    const [alert] = await waitForReceived(b.ownerPhone, 1, 30_000);
    assert.match(alert.body, /Quick Retry/);
  } finally {
    await twilio.clearFaults();
  }
  const elapsed = Date.now() - started;
  const row = await ownerAlert(b);
  assert.ok(row.attempts >= 2, `the alert needed retries (attempts ${row.attempts})`);
  // Three failures in a row, retried after 1 s, 2 s and 4 s (+-20%); a minute sweep would take far longer.
  assert.ok(elapsed < 20_000, `delivered after ${elapsed} ms`);
});

test("a send that timed out is looked up in Twilio before it is sent again: one alert, not two", async () => {
  const b = await business();
  // The request is held past the functions' 10 s timeout and nothing is created, as when it is lost on the way.
  await waitForOutboxIdle();
  await twilio.fault({ mode: "timeout", count: 1, hangMs: 12_000 });
  try {
    await submitLead(b, { name: "Timed Out", phone: randomPhone(), message: "Roof leak" });
    await waitFor("the timed-out attempt to be recorded", async () => (await ownerAlert(b))?.error_code === "timeout", 20_000);
    const row = await ownerAlert(b);
    assert.ok(row.unknown_attempt_at, "its outcome is unknown until looked up");
  } finally {
    await twilio.clearFaults();
  }
  await waitForReceived(b.ownerPhone, 1, 30_000);
  await sleep(1500);
  assert.equal((await received(b.ownerPhone)).length, 1, "exactly one alert");
  const row = await ownerAlert(b);
  assert.ok(["sent", "delivered"].includes(row.status));
  assert.equal(row.unknown_attempt_at, null, "looked up, then sent");
});

test("a send Twilio took but whose answer was lost is found in Twilio's list and not sent again", async () => {
  const b = await business();
  await waitForOutboxIdle();
  // The alert is created at Twilio, then the answer is held past the functions' 10 s timeout.
  await twilio.fault({ mode: "timeout", count: 1, hangMs: 12_000, accepted: true });
  try {
    await submitLead(b, { name: "Answer Lost", phone: randomPhone(), message: "Garage door stuck" });
    await waitFor("the timed-out attempt to be recorded", async () => (await ownerAlert(b))?.error_code === "timeout", 20_000);
  } finally {
    await twilio.clearFaults();
  }
  const row = await waitFor("the alert to be settled by the lookup", async () => {
    const r = await ownerAlert(b);
    return ["sent", "delivered"].includes(r?.status) ? r : null;
  }, 30_000);
  const alerts = await received(b.ownerPhone);
  assert.equal(alerts.length, 1, "one alert: the one Twilio took on the first attempt");
  const { rows } = await db().query("select twilio_sid from public.messages where business_id = $1 and kind = 'owner_alert'", [b.id]);
  assert.equal(rows[0].twilio_sid, alerts[0].sid, "recorded with the SID Twilio gave it");
  assert.equal(row.unknown_attempt_at, null);
});

test("a permanent error is dead-lettered at once and the owner is told on the attention list", async () => {
  const b = await business();
  // The first send (the owner alert: alerts go first) is refused for good.
  await waitForOutboxIdle();
  await twilio.fault({ mode: "error", code: 21612, count: 1 });
  try {
    await submitLead(b, { name: "Cannot Route", phone: randomPhone(), message: "Window repair" });
    await waitFor("the dead letter", async () => (await ownerAlert(b))?.status === "failed", 15_000);
  } finally {
    await twilio.clearFaults();
  }
  const row = await ownerAlert(b);
  assert.match(row.status_reason, /^dead_letter: Twilio refused it for good \(21612\)/);
  assert.equal(row.attempts, 1);
  const { rows } = await db().query("select kind, severity, title from public.owner_notifications where business_id = $1", [b.id]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].kind, "sms.dead_letter");
  assert.equal(rows[0].severity, "critical");
  assert.match(rows[0].title, /Cannot Route/);
});

test("a summary that keeps failing is replaced by the plain fallback, sent to the owner once", async () => {
  const b = await business();
  const phone = randomPhone();
  await submitLead(b, { name: "Fallback Lead", phone, message: "Leaking water heater, 78704" });
  await waitForReceived(phone, 1);
  const { rows: [c] } = await db().query("select id from public.conversations where business_id = $1 and lead_phone = $2", [b.id, phone]);
  // As if summarize had crashed on it five times: the attempts are spent before it is ever due.
  const client = await db().connect();
  try {
    await client.query("begin");
    await client.query("select private.close_conversation($1, 'completed', 'slots_filled')", [c.id]);
    await client.query(
      `update public.conversations set summary_attempts = private.summary_attempt_limit(),
              slots = '{"need": "Leaking water heater", "timing": null, "location": "78704", "constraints": []}'
        where id = $1`,
      [c.id],
    );
    await client.query("commit");
  } finally {
    client.release();
  }
  await db().query("select private.lifecycle_sweep()");
  const summary = await waitFor("the fallback summary on the owner's phone", async () =>
    (await received(b.ownerPhone)).find((m) => m.body.startsWith("Lead summary"))
  );
  assert.match(summary.body, /\(automatic summary unavailable\): Fallback Lead/);
  assert.match(summary.body, /Need: Leaking water heater\nWhen: \(not said\)\nWhere: 78704/);
  await db().query("select private.lifecycle_sweep()");
  await sleep(1000);
  assert.equal((await received(b.ownerPhone)).filter((m) => m.body.startsWith("Lead summary")).length, 1, "once");
});
