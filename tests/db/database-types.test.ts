// functions/_shared/database.types.ts must be what Supabase's generator makes of the migrations:
// regenerated from this instance's database and compared with the committed file.
// Runs against the database of the instance in LEADLOOP_INSTANCE (needs `npx tsx local/db/cli.ts start`).
import assert from "node:assert/strict";
import { test } from "node:test";
import { instanceConfig } from "../../local/config.ts";
import { committedDatabaseTypes, generateDatabaseTypes } from "../../supabase/scripts/database-types.ts";

test("the committed database types match the migrations", async () => {
  const generated = await generateDatabaseTypes(instanceConfig().dbUrl);
  const committed = committedDatabaseTypes();
  if (generated !== committed) {
    const a = committed.split("\n");
    const b = generated.split("\n");
    const line = a.findIndex((l, i) => l !== b[i]);
    assert.fail(
      `functions/_shared/database.types.ts is stale: run npm run gen:types and commit the result ` +
        `(first difference at line ${line + 1}: committed ${JSON.stringify(a[line])}, generated ${JSON.stringify(b[line])})`,
    );
  }
});
