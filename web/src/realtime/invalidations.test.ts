import { test } from "node:test";
import assert from "node:assert/strict";
import { invalidationsFor } from "./invalidations.ts";
import { leadKeys } from "../leads/queries.ts";

const B = "b-1";

test("a new lead refreshes the business's list and that lead", () => {
  const keys = invalidationsFor({ table: "leads", eventType: "INSERT", new: { id: "l-1", business_id: B }, old: {} }, B);
  assert.deepEqual(keys, [leadKeys.list(B), leadKeys.detail("l-1")]);
});

test("a conversation change refreshes the list chip and that lead's conversation", () => {
  const keys = invalidationsFor({ table: "conversations", eventType: "UPDATE", new: { id: "c-1", lead_id: "l-1" }, old: { id: "c-1" } }, B);
  assert.deepEqual(keys, [leadKeys.list(B), leadKeys.conversation("l-1")]);
});

test("a message change refreshes only its lead's thread", () => {
  const keys = invalidationsFor({ table: "messages", eventType: "UPDATE", new: { id: "m-1", lead_id: "l-2", status: "delivered" }, old: {} }, B);
  assert.deepEqual(keys, [leadKeys.messages("l-2")]);
});

test("a message not yet tied to a lead refreshes every open lead page", () => {
  const keys = invalidationsFor({ table: "messages", eventType: "INSERT", new: { id: "m-1", lead_id: null, conversation_id: "c-9" }, old: {} }, B);
  assert.deepEqual(keys, [leadKeys.details()]);
});

test("deletes use the old row", () => {
  const keys = invalidationsFor({ table: "leads", eventType: "DELETE", new: {}, old: { id: "l-3" } }, B);
  assert.deepEqual(keys, [leadKeys.list(B), leadKeys.detail("l-3")]);
});

test("invalidating a lead's messages key matches the per-conversation query key (prefix match)", () => {
  const queryKey = [...leadKeys.messages("l-1"), "c-1"];
  const prefix = leadKeys.messages("l-1");
  assert.deepEqual(queryKey.slice(0, prefix.length), [...prefix]);
  assert.deepEqual(leadKeys.detail("l-1"), leadKeys.messages("l-1").slice(0, 3));
});
