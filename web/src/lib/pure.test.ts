import { test } from "node:test";
import assert from "node:assert/strict";
import { fetchRuntimeConfig, parseRuntimeConfig } from "./runtimeConfig.ts";
import { formatRelative, toTimeInput } from "./format.ts";
import { formatPhoneWith } from "./phoneFormat.ts";
import world from "libphonenumber-js/min/metadata";
import type { MetadataJson } from "libphonenumber-js/core";
import { readOwnerSummary } from "../leads/summary.ts";

const KEY = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.sig";

test("parseRuntimeConfig accepts the served config and names what is wrong otherwise", () => {
  assert.deepEqual(parseRuntimeConfig({ supabaseUrl: "http://127.0.0.1:55501", supabaseAnonKey: KEY }), {
    supabaseUrl: "http://127.0.0.1:55501", supabaseAnonKey: KEY,
  });
  assert.throws(() => parseRuntimeConfig({ supabaseUrl: "ftp://x", supabaseAnonKey: KEY }), /supabaseUrl/);
  assert.throws(() => parseRuntimeConfig({ supabaseUrl: "http://x" }), /supabaseAnonKey/);
});

test("fetchRuntimeConfig reports HTTP and JSON failures clearly", async () => {
  const notFound = (async () => new Response("nope", { status: 404 })) as typeof fetch;
  await assert.rejects(fetchRuntimeConfig(notFound), /HTTP 404/);
  const html = (async () => new Response("<html>", { status: 200 })) as typeof fetch;
  await assert.rejects(fetchRuntimeConfig(html), /not JSON/);
  const ok = (async () => Response.json({ supabaseUrl: "https://abc.supabase.co", supabaseAnonKey: KEY })) as typeof fetch;
  assert.equal((await fetchRuntimeConfig(ok)).supabaseUrl, "https://abc.supabase.co");
});

test("formatPhoneWith is national at home and international abroad; as stored without the rules", () => {
  const all = world as unknown as MetadataJson;
  const { US, CA } = all.countries;
  const nanpOnly = { ...all, country_calling_codes: { 1: ["US", "CA"] }, countries: { US, CA }, nonGeographic: {} } as MetadataJson;
  assert.equal(formatPhoneWith(all, "+14155552671"), "(415) 555-2671");
  assert.equal(formatPhoneWith(nanpOnly, "+14155552671"), "(415) 555-2671");
  assert.equal(formatPhoneWith(all, "+16042530199"), "+1 604 253 0199");
  assert.equal(formatPhoneWith(all, "+442079460958"), "+44 20 7946 0958");
  assert.equal(formatPhoneWith(nanpOnly, "+442079460958"), "+442079460958");
  assert.equal(formatPhoneWith(all, "not a phone"), "not a phone");
});

test("formatRelative", () => {
  const now = new Date("2026-11-26T22:00:00Z");
  assert.equal(formatRelative("2026-11-26T21:59:40Z", now), "just now");
  assert.equal(formatRelative("2026-11-26T21:55:00Z", now), "5 min ago");
  assert.equal(formatRelative("2026-11-26T19:00:00Z", now), "3 h ago");
  assert.equal(toTimeInput("08:30:00"), "08:30");
});

test("readOwnerSummary keeps only well-formed parts", () => {
  assert.equal(readOwnerSummary(null), null);
  assert.deepEqual(readOwnerSummary({ need: " leaky tap ", timing: "", constraints: ["dog", 3], missing: "x", text: "Call Dana" }), {
    need: "leaky tap", timing: null, location: null, constraints: ["dog"], missing: [], text: "Call Dana",
  });
});
