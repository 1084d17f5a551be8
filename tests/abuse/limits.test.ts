// Issue 12 through the running stack, as an attacker with curl and the public anon key would try it:
// the client address is the one the gateway saw (spoofed or junk headers change nothing), the hourly
// limits hold exactly under parallel requests, and the consent evidence keeps that address.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createClient } from "@supabase/supabase-js";
import ws from "ws";
import { createBusiness, deleteBusiness, randomPhone, type TestBusiness } from "../support/fixtures.ts";
import { closeDb, db, origin, stack } from "../loop/loop-support.ts";

const businesses: TestBusiness[] = [];
after(async () => {
  for (const b of businesses) await deleteBusiness(db(), b.id);
  await closeDb();
});

async function business(options: { leadsPerIpPerHour?: number; leadsPerHour?: number }) {
  const b = await createBusiness(db(), { origins: [origin], duplicateWindowMinutes: 0, ...options });
  businesses.push(b);
  return b;
}

/** One anonymous insert with whatever headers the attacker adds; the HTTP status and error code. */
async function submit(widgetId: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  const client = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Origin: origin, ...headers } },
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
  const { status, error } = await client.from("leads").insert({
    widget_id: widgetId, name: "Limit Test", phone: randomPhone(), message: "Leaking pipe", sms_consent: false,
    source_url: `${origin}/contact`, honeypot: "", ...extra,
  });
  return { status, code: error?.code ?? null, message: error?.message ?? null };
}

test("spoofed CF-Connecting-IP, X-Real-IP and X-Forwarded-For do not get past the per-address limit", async () => {
  const b = await business({ leadsPerIpPerHour: 2 });
  const results = [];
  for (let n = 1; n <= 4; n++) {
    results.push(await submit(b.widgetId, {
      "CF-Connecting-IP": `198.51.100.${n}`, "X-Real-IP": `198.51.100.${n}`, "X-Forwarded-For": `198.51.100.${n}`,
    }));
  }
  assert.deepEqual(results.map((r) => r.status), [201, 201, 429, 429]);
  assert.equal(results[2].code, "PT429");
  assert.match(results[2].message!, /Too many requests from your network/);
});

test("a junk CF-Connecting-IP is not a way around the limit", async () => {
  const b = await business({ leadsPerIpPerHour: 2 });
  const statuses = [];
  for (const junk of ["junk", "", "999.1.1.1", "1.2.3.4, 5.6.7.8"]) statuses.push((await submit(b.widgetId, { "CF-Connecting-IP": junk })).status);
  assert.deepEqual(statuses, [201, 201, 429, 429]);
});

test("30 parallel inserts from one address with a limit of 5: exactly 5 are accepted", async () => {
  const b = await business({ leadsPerIpPerHour: 5 });
  const results = await Promise.all(Array.from({ length: 30 }, () => submit(b.widgetId)));
  const accepted = results.filter((r) => r.status === 201).length;
  assert.equal(accepted, 5, JSON.stringify(results.map((r) => r.status)));
  assert.ok(results.every((r) => r.status === 201 || (r.status === 429 && r.code === "PT429")), "every other one is a 429");
  const { rows } = await db().query("select count(*)::int as n, array_agg(distinct host(ip)) as ips from public.leads where business_id = $1", [b.id]);
  assert.equal(rows[0].n, 5, "exactly five leads are stored");
  assert.deepEqual(rows[0].ips, ["127.0.0.1"], "the consent evidence holds the address the gateway saw");
});

test("30 parallel inserts from 30 addresses against a widget limit of 5: exactly 5", async () => {
  // Locally every request comes from 127.0.0.1; the per-address limit is set high so the widget's own
  // hourly limit is the one that holds.
  const b = await business({ leadsPerIpPerHour: 1000, leadsPerHour: 5 });
  const results = await Promise.all(Array.from({ length: 30 }, () => submit(b.widgetId)));
  assert.equal(results.filter((r) => r.status === 201).length, 5);
  assert.match(results.find((r) => r.status === 429)!.message!, /This form is receiving too many requests/);
});

test("the page is stored without its query string and fragment", async () => {
  const b = await business({});
  const phone = randomPhone();
  const r = await submit(b.widgetId, {}, { phone, source_url: `${origin}/contact?email=jane@example.com&utm_source=x#top` });
  assert.equal(r.status, 201);
  const { rows } = await db().query("select source_url from public.leads where business_id = $1 and phone = $2", [b.id, phone]);
  assert.equal(rows[0].source_url, `${origin}/contact`);
});
