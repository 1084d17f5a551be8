import { test } from "node:test";
import assert from "node:assert/strict";
import { parseWelcomeSearch } from "./search.ts";

test("the wizard's search: a business id or a new business; anything else is dropped", () => {
  const id = "0b6f1f3e-5d0a-4c39-9c8e-1b2b3c4d5e6f";
  assert.deepEqual(parseWelcomeSearch({ business: id }), { business: id });
  assert.deepEqual(parseWelcomeSearch({ new: 1 }), { new: 1 });
  assert.deepEqual(parseWelcomeSearch({ business: "../x", new: "yes" }), { business: undefined, new: undefined });
});
