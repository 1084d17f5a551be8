import assert from "node:assert/strict";
import { test } from "node:test";
import { checkEndpointForm, deliveryChip, endpointChip, fieldErrorFrom, hostOf } from "./model.ts";

const delivery = { status: "pending" as const, attempts: 0, response_status: null, error: null, next_attempt_at: "2026-12-03T14:05:00Z" };

test("a delivery says where it stands in the owner's words", () => {
  assert.deepEqual(
    [
      deliveryChip(delivery, true),
      deliveryChip({ ...delivery, attempts: 2, response_status: 500 }, true),
      deliveryChip({ ...delivery, attempts: 2, error: "timeout: no complete answer within 15 s" }, true),
      deliveryChip({ ...delivery, attempts: 2 }, false),
      deliveryChip({ ...delivery, status: "sending" }, true),
      deliveryChip({ ...delivery, status: "succeeded", response_status: 204 }, true),
      deliveryChip({ ...delivery, status: "failed", response_status: 503 }, true),
    ].map((c) => `${c.tone}: ${c.label}`),
    ["progress: queued", "warning: retrying · 500", "warning: retrying", "neutral: paused", "progress: sending", "success: delivered · 204", "danger: failed · 503"],
  );
  assert.match(deliveryChip({ ...delivery, attempts: 2, error: "timeout: no complete answer within 15 s" }, true).detail!,
    /^Attempt 2 failed \(timeout: no complete answer within 15 s\)\. Next attempt at /);
  assert.equal(deliveryChip({ ...delivery, status: "failed", response_status: 503 }, true).detail, "Gave up after 24 hours of retries. Last answer: HTTP 503.");
});

test("an endpoint says whether it receives, fails or was turned off", () => {
  assert.deepEqual(
    [
      endpointChip({ enabled: true, failing_since: null, disabled_reason: null }),
      endpointChip({ enabled: true, failing_since: "2026-12-03T14:05:00Z", disabled_reason: null }),
      endpointChip({ enabled: false, failing_since: null, disabled_reason: null }),
      endpointChip({ enabled: false, failing_since: "2026-12-03T14:05:00Z", disabled_reason: "failing" }),
    ].map((c) => `${c.tone}: ${c.label}`),
    ["success: on", "warning: failing", "neutral: off", "danger: turned off: failing"],
  );
});

test("the form checks only what needs no database; the database's refusals land on their field", () => {
  assert.deepEqual(checkEndpointForm({ url: " ", description: "", events: [] }), {
    url: "Enter the address that should receive the webhooks.",
    events: "Choose at least one event.",
  });
  assert.deepEqual(checkEndpointForm({ url: "http://anything", description: "", events: ["lead.created"] }), {});
  assert.deepEqual(fieldErrorFrom("adding the endpoint: url: the address must start with https:// (22023)"), { url: "The address must start with https://." });
  assert.deepEqual(
    fieldErrorFrom("saving the endpoint: url: the address must start with https:// (http:// only for 127.0.0.1 or localhost on a development machine) (22023)"),
    { url: "The address must start with https:// (http:// only for 127.0.0.1 or localhost on a development machine)." },
  );
  assert.deepEqual(fieldErrorFrom('adding the endpoint: events: unknown event type "lead.deleted" (22023)'), { events: 'Unknown event type "lead.deleted".' });
  assert.equal(fieldErrorFrom("adding the endpoint: only an owner of the business can add webhook endpoints (42501)"), null);
});

test("hosts for compact lists", () => {
  assert.equal(hostOf("https://hooks.example.com:8443/in?x=1"), "hooks.example.com:8443");
  assert.equal(hostOf("not a url"), "not a url");
});
