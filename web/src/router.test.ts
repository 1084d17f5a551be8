// The route table without a browser: which URL lands where, for a signed-in and a signed-out user,
// and how search params are read. Pages are not rendered (their chunks are not even loaded).
import { test } from "node:test";
import assert from "node:assert/strict";
import { QueryClient } from "@tanstack/react-query";
import { createMemoryHistory, createRouter } from "@tanstack/react-router";
import type { Db } from "./lib/db.ts";
import { routeTree } from "./router.tsx";
import { parseLeadsSearch } from "./leads/search.ts";
import { parseSignInSearch } from "./auth/search.ts";
import { parseReportsSearch, periodOf } from "./reports/search.ts";
import { pickMembership } from "./businesses/selection.ts";
import type { Membership } from "./lib/types.ts";

const LEAD = "00000000-0000-4000-8000-000000000ABC";

/** Just enough of supabase-js for the routes' checks: a session or none, and no data. */
function fakeDb(signedIn: boolean): Db {
  const session = signedIn ? { user: { id: "u-1", email: "owner@example.test" }, access_token: "t" } : null;
  const empty = { data: [], error: null };
  const query: Record<string, unknown> = {};
  for (const name of ["select", "eq", "order", "range", "maybeSingle", "or", "limit", "not"]) query[name] = () => query;
  query.then = (resolve: (v: unknown) => unknown) => resolve(empty);
  return { auth: { getSession: async () => ({ data: { session } }) }, from: () => query } as unknown as Db;
}

interface ServerResult {
  type: "render" | "redirect";
  status?: number;
  redirect?: { options: { href: string } };
}

/**
 * Loads `url` and follows redirects. Under Node the router resolves its "node" export condition and
 * runs its server lane, which reports redirects and 404s in `_serverResult` instead of navigating.
 */
async function land(url: string, signedIn = true) {
  const context = { db: fakeDb(signedIn), queryClient: new QueryClient() };
  for (let hops = 0; hops < 5; hops++) {
    const router = createRouter({ routeTree, context, history: createMemoryHistory({ initialEntries: [url] }) });
    await router.load();
    const result = (router as unknown as { _serverResult: ServerResult })._serverResult;
    if (result.type === "redirect") {
      url = result.redirect!.options.href;
      continue;
    }
    const state = router.state;
    const leaf = state.matches[state.matches.length - 1];
    return {
      href: state.location.href,
      routeId: leaf?.routeId,
      notFound: result.status === 404,
      search: state.location.search as Record<string, unknown>,
      params: leaf?.params as Record<string, string>,
    };
  }
  throw new Error(`redirect loop at ${url}`);
}

test("a signed-in owner reaches the list, a lead, the settings; /leads is the list's old address", async () => {
  assert.equal((await land("/")).routeId, "/app/");
  const lead = await land(`/leads/${LEAD}`);
  assert.equal(lead.routeId, "/app/leads/$leadId");
  assert.equal(lead.params.leadId, LEAD.toLowerCase());
  assert.equal((await land("/settings")).routeId, "/app/settings");
  assert.equal((await land("/leads")).href, "/");
});

test("the billing page, and where Checkout sends the owner back to (an unknown outcome is ignored)", async () => {
  const back = await land("/billing?checkout=success&session_id=cs_test_1");
  assert.deepEqual([back.routeId, back.search.checkout], ["/app/billing", "success"]);
  assert.equal((await land("/billing?checkout=canceled")).search.checkout, "canceled");
  assert.equal((await land("/billing?checkout=%3Cscript%3E")).search.checkout, undefined);
  assert.equal((await land("/billing", false)).search.redirect, "/billing");
});

test("every email's preferences link: the member's email alerts, through sign-in when signed out", async () => {
  assert.equal((await land("/settings/email")).routeId, "/app/settings/email");
  const signedOut = await land("/settings/email", false);
  assert.deepEqual([signedOut.routeId, signedOut.search.redirect], ["/sign-in", "/settings/email"]);
});

test("junk lead ids and unknown addresses are not found", async () => {
  assert.equal((await land("/leads/'; drop table leads")).notFound, true);
  assert.equal((await land("/leads/123")).notFound, true);
  assert.equal((await land("/nowhere")).notFound, true);
});

test("signed out, every page goes to sign-in and comes back after it; signed in, sign-in goes home", async () => {
  assert.equal((await land("/", false)).href, "/sign-in");
  const settings = await land("/settings?x=1", false);
  assert.equal(settings.routeId, "/sign-in");
  assert.equal(settings.search.redirect, "/settings?x=1");
  assert.equal((await land("/sign-in?redirect=%2Fsettings", true)).href, "/settings");
  assert.equal((await land("/sign-in", true)).href, "/");
});

test("sign-in never redirects off the site", async () => {
  for (const evil of ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", " /x"]) {
    assert.equal(parseSignInSearch({ redirect: evil }).redirect, undefined, evil);
  }
  assert.deepEqual(parseSignInSearch({ redirect: "/leads/abc?page=2" }), { redirect: "/leads/abc?page=2" });
  assert.equal((await land(`/sign-in?redirect=${encodeURIComponent("//evil.example")}`, true)).href, "/");
});

test("the inbox's URL carries the words, the filters and a keyset cursor; junk falls back to the first page of everything", async () => {
  const cursor = "2026-12-01T10:00:00.123456+00:00~00000000-0000-4000-8000-000000000abc";
  assert.deepEqual(parseLeadsSearch({}), {});
  assert.deepEqual(parseLeadsSearch({ q: "  roof leak ", status: "won,bogus,new", followup: "replied", attention: "unread", before: cursor }),
    { q: "roof leak", status: "new,won", followup: "replied", attention: "unread", before: cursor });
  // A number typed as the search arrives parsed as JSON by the router.
  assert.deepEqual(parseLeadsSearch({ q: 5550101 }), { q: "5550101" });
  for (const junk of [{ q: "" }, { status: "bogus" }, { followup: "maybe" }, { attention: 1 }, { before: "yesterday" }, { page: 3 }]) {
    assert.deepEqual(parseLeadsSearch(junk as Record<string, unknown>), {}, JSON.stringify(junk));
  }
  // Both directions at once: the way down wins.
  assert.deepEqual(parseLeadsSearch({ before: cursor, after: cursor }), { before: cursor });
  assert.equal((await land(`/?before=${encodeURIComponent(cursor)}&q=ana`)).search.before, cursor);
});

test("the reports page reads its period from the URL: 7, 30 or 90 days, else 30", async () => {
  assert.deepEqual(parseReportsSearch({ days: 90 }), { days: 90 });
  assert.deepEqual(parseReportsSearch({ days: "7" }), { days: 7 });
  for (const junk of [30, 12, "x", -7, null]) assert.deepEqual(parseReportsSearch({ days: junk }), {}, String(junk));
  const period = periodOf({ days: 7 }, new Date(2026, 11, 3, 15, 30));
  assert.equal(period.from, new Date(2026, 10, 27).toISOString());
  assert.equal(period.to, new Date(2026, 11, 4).toISOString());
  assert.equal((await land("/reports?days=90")).routeId, "/app/reports");
});

test("the business shown is the one picked last, else the first", () => {
  const m = (id: string) => ({ role: "owner", business: { id } }) as Membership;
  assert.equal(pickMembership([m("a"), m("b")], "b")?.business.id, "b");
  assert.equal(pickMembership([m("a"), m("b")], "gone")?.business.id, "a");
  assert.equal(pickMembership([], "a"), null);
});
