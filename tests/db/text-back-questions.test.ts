// The text-back is written in SQL (private.text_back_body) but read back by the conversation engine
// (functions/_shared/extract.ts slotsAskedBy), which decides from its wording which slots it asked for:
// a text asking for one slot makes a bare reply ("Round Rock") the answer to it. This keeps the two in
// step: for every combination of what/when/where in the form, the engine must read the text-back as
// asking exactly for the ones the form left out.
// Runs against the database of the instance in LEADLOOP_INSTANCE (needs `npx tsx local/db/cli.ts start`).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { instanceConfig } from "../../local/config.ts";
import { slotsAskedBy } from "../../functions/_shared/extract.ts";

type Slot = "need" | "timing" | "location";

// A form message for each combination, and the slots it leaves out.
const forms: Array<{ message: string | null; missing: Slot[] }> = [
  { message: null, missing: ["need", "timing", "location"] },
  { message: "Hi", missing: ["need", "timing", "location"] },
  { message: "Water heater is leaking in the basement", missing: ["timing", "location"] },
  { message: "Tomorrow 9am", missing: ["need", "location"] },
  { message: "Austin 78704", missing: ["need", "timing"] },
  { message: "Friday 3pm, 78704", missing: ["need"] },
  { message: "Water heater leaking, can you come tomorrow morning?", missing: ["location"] },
  { message: "Water heater leaking at 1420 Elm St", missing: ["timing"] },
  { message: "Water heater leaking, can you come tomorrow morning? 1420 Elm St, Austin 78704", missing: [] },
  { message: "Tengo una fuga de agua, ¿pueden venir mañana por la tarde? Calle Ocho 123", missing: [] },
  { message: "el lunes", missing: ["need", "location"] },
  { message: "Calle Ocho 123", missing: ["need", "timing"] },
];

let client: pg.Client;

before(async () => {
  client = new pg.Client({ connectionString: instanceConfig().dbUrl });
  await client.connect();
});

after(async () => {
  await client?.end();
});

for (const locale of ["en", "es"]) {
  test(`the engine reads each ${locale} text-back as asking exactly for what the form left out`, async () => {
    for (const form of forms) {
      const { rows } = await client.query<{ body: string }>(
        "select private.text_back_body($1, 'Acme Plumbing', 'Dana Smith', $2) as body",
        [locale, form.message],
      );
      const body = rows[0].body;
      assert.deepEqual(slotsAskedBy(body), form.missing, `form ${JSON.stringify(form.message)} -> ${body}`);
      assert.match(body, locale === "es" ? /\? Responda STOP para no recibir más mensajes \(Reply STOP to opt out\)\.$/ : /\? Reply STOP to opt out\.$/);
    }
  });
}
