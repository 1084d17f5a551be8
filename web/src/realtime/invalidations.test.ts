// What a realtime change makes stale, observed on a real QueryClient whose cache holds every
// query the dashboard's pages make, under the keys the pages' queryOptions give them. A key
// that drifts from what the pages use shows up here as a query that is no longer refreshed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { QueryClient } from "@tanstack/react-query";
import { billingQueries } from "../billing/queries.ts";
import { businessQueries } from "../businesses/queries.ts";
import type { Db } from "../lib/db.ts";
import { leadKeys, leadQueries } from "../leads/queries.ts";
import { webhookQueries } from "../webhooks/queries.ts";
import { type ChangeEvent, invalidationsFor, resyncKeys } from "./invalidations.ts";

// Never called: the cache is filled by hand, the query functions never run.
const db = {} as Db;
const B = "b-1";

/** The dashboard's cache with two businesses' lists and two open lead pages. */
function dashboardCache() {
  const queries = {
    list: leadQueries.list(db, B),
    otherBusinessList: leadQueries.list(db, "b-2"),
    // Another page of the same list, under a search and a cursor.
    listSearch: leadQueries.list(db, B, { q: "roof", before: "2026-12-01T10:00:00.000Z~00000000-0000-4000-8000-000000000001" }),
    counts: leadQueries.counts(db, B),
    otherBusinessCounts: leadQueries.counts(db, "b-2"),
    lead1: leadQueries.detail(db, "l-1"),
    conversation1: leadQueries.conversation(db, "l-1"),
    messages1: leadQueries.messages(db, "l-1", "c-1"),
    // Before the conversation loads, the thread is keyed without it.
    messages1NoConversation: leadQueries.messages(db, "l-1", null),
    lead2: leadQueries.detail(db, "l-2"),
    conversation2: leadQueries.conversation(db, "l-2"),
    messages2: leadQueries.messages(db, "l-2", "c-2"),
    memberships: businessQueries.memberships(db, "u-1"),
    subscription: billingQueries.subscription(db, B),
    otherBusinessSubscription: billingQueries.subscription(db, "b-2"),
    plans: billingQueries.plans(db),
  };
  const client = new QueryClient();
  for (const query of Object.values(queries)) client.setQueryData(query.queryKey, []);
  return { client, queries };
}

type QueryName = keyof ReturnType<typeof dashboardCache>["queries"];

/** The queries left stale after the dashboard's realtime hook handles `event`. */
async function staleAfter(invalidate: (client: QueryClient) => Promise<void>): Promise<QueryName[]> {
  const { client, queries } = dashboardCache();
  await invalidate(client);
  return (Object.keys(queries) as QueryName[])
    .filter((name) => client.getQueryState(queries[name].queryKey)?.isInvalidated)
    .sort();
}

// As useRealtimeInvalidation does: every key invalidateQueries'd with default (prefix) matching.
const onChange = (event: ChangeEvent) => async (client: QueryClient) => {
  for (const queryKey of invalidationsFor(event, B)) await client.invalidateQueries({ queryKey });
};

test("a new lead refreshes its business's list and that lead's page, nothing of other businesses or leads", async () => {
  const stale = await staleAfter(onChange({ table: "leads", eventType: "INSERT", new: { id: "l-1", business_id: B }, old: {} }));
  assert.deepEqual(stale, ["conversation1", "counts", "lead1", "list", "listSearch", "messages1", "messages1NoConversation"]);
});

test("a conversation change refreshes the list's status chip and that lead's conversation only", async () => {
  const stale = await staleAfter(onChange({ table: "conversations", eventType: "UPDATE", new: { id: "c-1", lead_id: "l-1" }, old: { id: "c-1" } }));
  assert.deepEqual(stale, ["conversation1", "list", "listSearch"]);
});

test("a message change refreshes its lead's thread, whichever conversation key it is under", async () => {
  const stale = await staleAfter(onChange({ table: "messages", eventType: "UPDATE", new: { id: "m-1", lead_id: "l-1", status: "delivered" }, old: {} }));
  assert.deepEqual(stale, ["messages1", "messages1NoConversation"]);
});

test("a message not yet tied to a lead refreshes every open lead page and no list", async () => {
  const stale = await staleAfter(onChange({ table: "messages", eventType: "INSERT", new: { id: "m-1", lead_id: null, conversation_id: "c-9" }, old: {} }));
  assert.deepEqual(stale, ["conversation1", "conversation2", "lead1", "lead2", "messages1", "messages1NoConversation", "messages2"]);
});

test("deletes use the old row", async () => {
  const stale = await staleAfter(onChange({ table: "leads", eventType: "DELETE", new: {}, old: { id: "l-2" } }));
  assert.deepEqual(stale, ["conversation2", "counts", "lead2", "list", "listSearch", "messages2"]);
});

test("a failed delivery refreshes the attention badges as well as the thread", async () => {
  const stale = await staleAfter(onChange({ table: "messages", eventType: "UPDATE", new: { id: "m-1", lead_id: "l-1", status: "failed" }, old: {} }));
  assert.deepEqual(stale, ["counts", "messages1", "messages1NoConversation"]);
});

test("an owner notification refreshes that business's badges only", async () => {
  const stale = await staleAfter(onChange({ table: "owner_notifications", eventType: "INSERT", new: { id: "n-1", business_id: B }, old: {} }));
  assert.deepEqual(stale, ["counts"]);
});

test("a table the dashboard does not show refreshes nothing", async () => {
  assert.deepEqual(await staleAfter(onChange({ table: "opt_outs", eventType: "INSERT", new: { id: "o-1" }, old: {} })), []);
});

test("a subscription change refreshes that business's billing page only", async () => {
  const stale = await staleAfter(onChange({ table: "subscriptions", eventType: "UPDATE", new: { id: "s-1", business_id: B, status: "past_due" }, old: {} }));
  assert.deepEqual(stale, ["subscription"]);
});

test("the refetch after a reconnect (leadKeys.all) covers every lead query and leaves the businesses and billing alone", async () => {
  const stale = await staleAfter((client) => client.invalidateQueries({ queryKey: leadKeys.all }));
  const untouched = ["memberships", "otherBusinessSubscription", "plans", "subscription"];
  // (otherBusinessCounts and otherBusinessList are lead queries too: the reconnect refetch is for every lead query cached.)
  assert.deepEqual(stale.filter((name) => untouched.includes(name)), []);
  assert.equal(stale.length, Object.keys(dashboardCache().queries).length - untouched.length);
});

test("webhook endpoint and delivery changes refresh that business's webhook page, and a reconnect refreshes it too", async () => {
  const client = new QueryClient();
  const queries = {
    endpoints: webhookQueries.endpoints(db, B),
    deliveries: webhookQueries.deliveries(db, B),
    otherDeliveries: webhookQueries.deliveries(db, "b-2"),
    eventTypes: webhookQueries.eventTypes(db),
    list: leadQueries.list(db, B),
  };
  const staleAfterChange = async (event: ChangeEvent | "reconnect") => {
    for (const query of Object.values(queries)) client.setQueryData(query.queryKey, []);
    const keys = event === "reconnect" ? resyncKeys : invalidationsFor(event, B);
    for (const queryKey of keys) await client.invalidateQueries({ queryKey });
    return (Object.keys(queries) as (keyof typeof queries)[]).filter((n) => client.getQueryState(queries[n].queryKey)?.isInvalidated).sort();
  };
  assert.deepEqual(await staleAfterChange({ table: "webhook_deliveries", eventType: "UPDATE", new: { id: "d-1", business_id: B }, old: {} }), ["deliveries"]);
  assert.deepEqual(await staleAfterChange({ table: "webhook_endpoints", eventType: "DELETE", new: {}, old: { id: "e-1" } }), ["endpoints"]);
  assert.deepEqual(await staleAfterChange("reconnect"), ["deliveries", "endpoints", "eventTypes", "list", "otherDeliveries"]);
});
