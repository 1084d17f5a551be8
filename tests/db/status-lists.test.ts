// The value lists the dashboard switches on (web/src/lib/types.ts) are the ones the database's CHECK
// constraints allow: a status added in a migration and not in the dashboard, or the other way
// round, fails here.
// Runs against the database of the instance in LEADLOOP_INSTANCE (needs `npx tsx local/db/cli.ts start`).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { instanceConfig } from "../../local/config.ts";
import * as lists from "../../web/src/lib/types.ts";
import { DELIVERY_STATUSES } from "../../web/src/webhooks/model.ts";

let client: pg.Client;

before(async () => {
  client = new pg.Client({ connectionString: instanceConfig().dbUrl });
  await client.connect();
});

after(async () => {
  await client?.end();
});

/** The quoted values of the CHECK constraint on public.<table>.<column> (`column in (...)`). */
async function allowedValues(table: string, column: string): Promise<string[]> {
  const { rows } = await client.query<{ def: string }>(
    `select pg_get_constraintdef(c.oid) as def from pg_constraint c
      where c.conrelid = format('public.%I', $1::text)::regclass and c.contype = 'c'
        and c.conkey = array[(select attnum from pg_attribute where attrelid = c.conrelid and attname = $2)]`,
    [table, column],
  );
  const def = rows.map((r) => r.def).find((d) => d.includes("ANY (ARRAY["));
  assert.ok(def, `no value-list CHECK constraint on ${table}.${column}`);
  return [...def.matchAll(/'([^']+)'::text/g)].map((m) => m[1]).sort();
}

const cases: Array<[string, string, readonly string[]]> = [
  ["conversations", "status", lists.CONVERSATION_STATUSES],
  ["conversations", "summary_status", lists.SUMMARY_STATUSES],
  ["leads", "not_texted_reason", lists.NOT_TEXTED_REASON_VALUES],
  ["leads", "followup_status", lists.FOLLOWUP_STATUSES],
  ["leads", "owner_alert_status", lists.OWNER_ALERT_STATUSES],
  ["leads", "phone_status", lists.PHONE_STATUSES],
  ["leads", "status", lists.LEAD_STATUSES],
  ["messages", "status", lists.MESSAGE_STATUSES],
  ["messages", "direction", lists.MESSAGE_DIRECTIONS],
  ["business_members", "role", lists.MEMBER_ROLES],
  ["subscriptions", "status", lists.SUBSCRIPTION_STATUSES],
  ["webhook_deliveries", "status", DELIVERY_STATUSES],
];

for (const [table, column, values] of cases) {
  test(`the dashboard knows exactly the values of ${table}.${column}`, async () => {
    assert.deepEqual([...values].sort(), await allowedValues(table, column));
  });
}
