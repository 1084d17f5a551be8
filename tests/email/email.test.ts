// The email channel end to end through the running stack: a lead, a summary and an undelivered owner text
// become mail in the catcher (maildev's REST API) through the database's outbox, pg_net and send-email; and
// an SMTP server that cannot be reached is retried and then given up.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { projectRoot } from "../../local/config.ts";
import { denoEnvironment } from "../../local/stack.ts";
import {
  closeDb, db, invokeFunction, randomPhone, received, sleep, stack, submitLead, textFrom, twilio, waitFor, waitForReceived,
} from "../loop/loop-support.ts";
import { choose, cleanUp, emailBusiness, hrefs, inbox, outboxOf } from "./email-support.ts";

after(async () => {
  await cleanUp();
  await closeDb();
});

const dashboard = stack.dashboardUrl!.replace(/\/+$/, "");

async function leadIdOf(businessId: string, phone: string): Promise<string> {
  const { rows } = await db().query<{ id: string }>("select id from public.leads where business_id = $1 and phone = $2", [businessId, phone]);
  return rows[0].id;
}

test("a new lead lands in the inbox of each member who turned new-lead emails on, escaped, with one-tap links", async () => {
  const { business, owner, secondOwner, staff } = await emailBusiness();
  await choose(owner, business.id, { lead_alerts: true });
  await choose(staff, business.id, { summaries: true });
  const phone = randomPhone();
  const name = `Eve <img src=x onerror=alert(1)> ${phone.slice(-4)}`;
  await submitLead(business, { name, phone, message: "<script>steal()</script> Water everywhere\nhelp & hurry", email: "eve@example.com" });

  const [mail] = await inbox.waitFor(owner.email);
  const leadId = await leadIdOf(business.id, phone);
  assert.equal(mail.subject, `New lead: ${name}`);
  assert.equal(mail.from[0].address, "alerts@leadloop.localhost");
  assert.match(mail.text, new RegExp(`Phone: \\${phone}\\n`));
  assert.match(mail.text, /Message: <script>steal\(\)<\/script> Water everywhere\nhelp & hurry/);
  assert.ok(!/<script|<img/.test(mail.html), "no markup from the lead survives in the HTML");
  assert.match(mail.html, /&lt;script&gt;steal\(\)&lt;\/script&gt; Water everywhere<br>\s*help &amp; hurry/);
  assert.match(mail.html, /Eve &lt;img src=x onerror=alert\(1\)&gt;/);
  assert.deepEqual(
    new Set(hrefs(mail.html)),
    new Set([`tel:${phone}`, `sms:${phone}`, `${dashboard}/leads/${leadId}`, `${dashboard}/settings/email`]),
    "call, text, the lead's dashboard page and the preferences page",
  );
  assert.match(mail.text, new RegExp(`Open in leadloop: ${dashboard}/leads/${leadId}\\n`));
  assert.match(mail.text, new RegExp(`Turn them off: ${dashboard}/settings/email$`));

  // Only the member who chose new-lead emails: not the other owner, not staff (who chose summaries).
  // The catcher can have the mail a moment before send-email records it as sent.
  const outbox = await waitFor("the email recorded as sent", async () => {
    const rows = await outboxOf(business.id);
    return rows.every((r) => r.status === "sent") ? rows : null;
  });
  assert.deepEqual(outbox.map((r) => `${r.to_address} ${r.template} ${r.status}`), [`${owner.email} lead_alert sent`]);
  assert.equal((await inbox.to(secondOwner.email)).length, 0);
  assert.equal((await inbox.to(staff.email)).length, 0);
});

test("a lead's summary lands in the inbox of each member who turned summary emails on", async () => {
  const { business, owner, staff } = await emailBusiness();
  await choose(owner, business.id, { summaries: true });
  await choose(staff, business.id, { summaries: true, lead_alerts: false });
  const phone = randomPhone();
  await submitLead(business, { name: "Dana Whitfield", phone, message: "Water heater is leaking in the garage" });
  await waitForReceived(phone, 1);
  await textFrom(phone, business.twilioNumber, "Tomorrow morning please. 4512 Oak Hollow Dr, Austin TX 78745. We have a dog");
  await waitFor("the conversation to complete", async () => {
    const { rows } = await db().query("select status from public.conversations where business_id = $1", [business.id]);
    return rows[0]?.status === "completed";
  });
  await invokeFunction("summarize");

  const leadId = await leadIdOf(business.id, phone);
  // The email is queued when the summary is done (the sweep may get there before the call above).
  const mails = await Promise.all([owner, staff].map(async (member) => (await inbox.waitFor(member.email))[0]));
  // What the summarizer made of it (the built-in extractor or the stack's LLM) is the database's; the email
  // must carry exactly that.
  const { rows: [{ summary }] } = await db().query<{ summary: { need?: string; timing?: string; location?: string; constraints?: string[] } }>(
    "select summary from public.conversations where business_id = $1", [business.id]);
  assert.ok(summary.need && summary.timing && summary.location, JSON.stringify(summary));
  const notes = summary.constraints?.length ? summary.constraints.join("; ") : "(not given)";
  for (const mail of mails) {
    assert.equal(mail.subject, "Lead summary: Dana Whitfield");
    const lines = mail.text.split("\n");
    assert.ok(lines.includes(`Need: ${summary.need}`), mail.text);
    assert.ok(lines.includes(`When: ${summary.timing}`), mail.text);
    assert.ok(lines.includes(`Where: ${summary.location}`), mail.text);
    assert.ok(lines.includes(`Notes: ${notes}`), mail.text);
    assert.match(mail.text, /^From the form: Water heater is leaking in the garage$/m);
    assert.deepEqual(new Set(hrefs(mail.html)),
      new Set([`tel:${phone}`, `sms:${phone}`, `${dashboard}/leads/${leadId}`, `${dashboard}/settings/email`]));
  }
  // The owner's SMS summary went out too: email is in addition, never instead.
  await waitFor("the SMS summary", async () => (await received(business.ownerPhone)).find((m) => /^Lead summary/.test(m.body)));
});

test("an owner alert that cannot be texted is emailed to every owner, once, with the lead's links", async () => {
  const { business, owner, secondOwner, staff } = await emailBusiness();
  await choose(staff, business.id, { lead_alerts: false, summaries: true });
  const phone = randomPhone();
  // No consent: the owner alert is the only text; the next send Twilio refuses for good (21408).
  await twilio.fault({ mode: "error", code: 21408, count: 1 });
  try {
    await submitLead(business, { name: "Maria Lopez", phone, message: "AC blowing warm air", sms_consent: false });
    const leadId = await leadIdOf(business.id, phone);
    for (const member of [owner, secondOwner]) {
      const [mail] = await inbox.waitFor(member.email);
      assert.equal(mail.subject, "Text not delivered: Maria Lopez");
      assert.match(mail.text, new RegExp(`We could not deliver this text to \\${business.ownerPhone} \\(21408 `));
      assert.match(mail.text, /New lead for .*Maria Lopez.*\nAC blowing warm air/s, "the text itself, so the owner can act on it");
      assert.deepEqual(new Set(hrefs(mail.html)),
        new Set([`tel:${phone}`, `sms:${phone}`, `${dashboard}/leads/${leadId}`, `${dashboard}/settings/email`]));
    }
    const { rows } = await db().query("select kind, severity from public.owner_notifications where business_id = $1", [business.id]);
    assert.deepEqual(rows, [{ kind: "sms.dead_letter", severity: "critical" }], "on the attention list too, once");
    // Once: a later status for the same text, or another sweep, sends nothing more.
    await db().query("update public.messages set status = 'undelivered' where business_id = $1 and kind = 'owner_alert'", [business.id]);
    await sleep(1500);
    assert.equal((await inbox.to(owner.email)).length, 1);
    assert.equal((await inbox.to(secondOwner.email)).length, 1);
    assert.equal((await inbox.to(staff.email)).length, 0, "staff are not told about owner texts");
  } finally {
    await twilio.clearFaults();
  }
});

/** A port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** send-email as the platform runs it, but pointed at `smtpUrl`: its own Deno process on its own port. */
async function startSendEmail(smtpUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await closedPort();
  const deno = join(projectRoot, "node_modules", ".bin", "deno");
  const child = spawn(deno, ["run", "--allow-net", "--allow-env", "--allow-read", "--no-prompt", "--config", "functions/deno.json",
    "functions/send-email/index.ts"], {
    cwd: projectRoot,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...denoEnvironment,
      PATH: process.env.PATH ?? "",
      DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
      SUPABASE_URL: stack.supabaseUrl,
      SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
      MAIL_SMTP_URL: smtpUrl,
      MAIL_FROM: "leadloop <alerts@leadloop.localhost>",
      MAIL_TIMEOUT_MS: "3000",
    },
  });
  const url = `http://127.0.0.1:${port}/send-email`;
  await waitFor("send-email to listen", async () => {
    const res = await fetch(url, { method: "GET" }).catch(() => null);
    return res !== null && res.status === 405;
  }, 60_000);
  return { url, child };
}

test("an SMTP server that cannot be reached: the email is retried with backoff, then dead-lettered and the owner told", async () => {
  const { business } = await emailBusiness();
  // Wait for the stack's own outbox to be quiet, so the clock this test moves touches only its email.
  await waitFor("the outbox to drain", async () => {
    const { rows } = await db().query<{ n: string }>("select count(*) as n from private.email_outbox where status in ('queued', 'sending')");
    return rows[0].n === "0";
  });
  // Queued far in the future (in the same transaction, so no wake): only this test's clock reaches it.
  const client = await db().connect();
  let emailId: string;
  try {
    await client.query("begin");
    const { rows } = await client.query<{ id: string }>(
      `select private.enqueue_email($1, 'nobody@example.com', 'owner_notification',
         jsonb_build_object('title', 'Test', 'body', 'SMTP down', 'link_url', $2::text), 'test:smtp-down:' || gen_random_uuid()) as id`,
      [business.id, `${dashboard}/`],
    );
    emailId = rows[0].id;
    await client.query("update private.email_outbox set next_attempt_at = now() + interval '1 year' where id = $1", [emailId]);
    await client.query("commit");
  } finally {
    client.release();
  }

  const worker = await startSendEmail(`smtp://127.0.0.1:${await closedPort()}?starttls=never`);
  try {
    const outcomes: string[] = [];
    for (let attempt = 1; attempt <= 12; attempt++) {
      // The database's own microseconds (a JS Date would round them down, to before the email is due).
      const { rows } = await db().query<{ status: string; next_attempt_at: string }>(
        "select status, to_json(next_attempt_at) #>> '{}' as next_attempt_at from private.email_outbox where id = $1", [emailId]);
      if (rows[0].status !== "queued") break;
      const res = await fetch(worker.url, {
        method: "POST",
        headers: { Authorization: `Bearer ${stack.serviceRoleKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ now: rows[0].next_attempt_at }),
      });
      assert.equal(res.status, 200);
      const counts = await res.json() as { claimed: number; retried: number; failed: number };
      assert.equal(counts.claimed, 1, "only this email is due on the moved clock");
      outcomes.push(counts.retried ? "retried" : counts.failed ? "failed" : "?");
    }
    assert.deepEqual(outcomes, [...Array(9).fill("retried"), "failed"], "nine retries, then the tenth attempt gives up");
    const { rows } = await db().query("select status, attempts, last_error, status_reason from private.email_outbox where id = $1", [emailId]);
    assert.equal(rows[0].status, "failed");
    assert.equal(rows[0].attempts, 10);
    assert.match(rows[0].last_error, /ECONNREFUSED/);
    assert.equal(rows[0].status_reason, "dead_letter: gave up after 10 attempts");
    const told = await db().query("select severity, title from public.owner_notifications where business_id = $1 and kind = 'email.dead_letter'", [business.id]);
    assert.deepEqual(told.rows, [{ severity: "warning", title: "Emails to nobody@example.com are not being delivered" }]);
    assert.equal((await inbox.to("nobody@example.com")).length, 0);
  } finally {
    worker.child.kill();
  }
});

test("send-email answers only the service role", async () => {
  for (const key of [stack.anonKey, null]) {
    const res = await fetch(`${stack.functionsUrl}/send-email`, {
      method: "POST",
      headers: { apikey: stack.anonKey, ...(key ? { Authorization: `Bearer ${key}` } : {}), "Content-Type": "application/json" },
      body: JSON.stringify({ now: "2099-01-01T00:00:00Z" }),
    });
    assert.equal(res.status, 401, `key ${key ? "anon" : "none"}`);
    await res.body?.cancel();
  }
});
