import { test } from "node:test";
import assert from "node:assert/strict";
import { leadStatusChip, messageStatusLabel } from "./status.ts";
import type { LeadListRow } from "../lib/types.ts";

type ChipInput = Parameters<typeof leadStatusChip>[0];
const base: ChipInput = {
  is_duplicate: false,
  followup_status: "started",
  not_texted_reason: null,
  owner_alert_status: "queued",
  conversation: null,
};
const conversation = (status: NonNullable<LeadListRow["conversation"]>["status"], completion_reason: string | null = null) => ({
  id: "c1", status, completion_reason, question_count: 1, last_inbound_at: null,
});

test("each conversation state maps to the owner's chip", () => {
  const cases: [NonNullable<LeadListRow["conversation"]>["status"], string][] = [
    ["awaiting_reply", "texting"],
    ["pending", "texting"],
    ["active", "replied"],
    ["completed", "completed"],
    ["no_reply", "no reply"],
    ["opted_out", "opted out"],
    ["failed", "text failed"],
  ];
  for (const [status, label] of cases) {
    assert.equal(leadStatusChip({ ...base, conversation: conversation(status) }).label, label, status);
  }
});

test("not texted shows the refusal reason in plain words", () => {
  const chip = leadStatusChip({ ...base, followup_status: "not_texted", not_texted_reason: "no_consent", owner_alert_status: "sent" });
  assert.equal(chip.label, "not texted · no SMS consent");
  const landline = leadStatusChip({ ...base, followup_status: "not_texted", not_texted_reason: "landline" });
  assert.match(landline.label, /call, don't text/);
});

test("an earlier opt-out reads as opted out, not as a generic refusal", () => {
  const chip = leadStatusChip({ ...base, followup_status: "not_texted", not_texted_reason: "opted_out" });
  assert.equal(chip.label, "opted out");
  assert.equal(chip.tone, "danger");
});

test("duplicate wins over everything else", () => {
  const chip = leadStatusChip({ ...base, is_duplicate: true, followup_status: "not_texted", not_texted_reason: "duplicate", conversation: conversation("completed") });
  assert.equal(chip.label, "duplicate");
});

test("without a conversation the chip follows the owner alert", () => {
  assert.equal(leadStatusChip({ ...base, owner_alert_status: "delivered" }).label, "alerted");
  assert.equal(leadStatusChip({ ...base, owner_alert_status: "sent" }).label, "alerted");
  assert.equal(leadStatusChip({ ...base, owner_alert_status: "failed" }).label, "alert failed");
  assert.equal(leadStatusChip(base).label, "new");
  assert.equal(leadStatusChip({ ...base, followup_status: "deferred" }).label, "texting later");
});

test("completed chips explain why the conversation ended", () => {
  assert.equal(leadStatusChip({ ...base, conversation: conversation("completed", "call_requested") }).detail, "The lead asked for a call.");
});

test("message delivery states have distinct labels and a deferred time", () => {
  const now = new Date("2026-11-26T22:00:00Z");
  assert.deepEqual(messageStatusLabel("delivered", null, now), { label: "delivered", tone: "success" });
  assert.equal(messageStatusLabel("failed", null, now).tone, "danger");
  assert.match(messageStatusLabel("deferred", "2026-11-27T13:00:00Z", now).label, /^deferred until /);
  assert.equal(messageStatusLabel("deferred", "2026-11-26T21:00:00Z", now).label, "deferred");
});
