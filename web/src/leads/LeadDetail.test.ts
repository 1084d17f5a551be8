// The lead page's pure helpers: history sentences, the composer's segment label and send time, the export URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { segmentLabel, formatSendTime } from "./LeadDetailComposer.tsx";
import { describeEvent } from "./LeadDetailPipeline.tsx";
import { exportPath } from "./LeadExportButton.tsx";
import type { LeadEvent } from "./LeadDetailQueries.ts";

const event = (e: Partial<LeadEvent>): LeadEvent => ({
  id: 1, actor_name: "Sam Staff", via: "dashboard", field: "status", from_value: "new", to_value: "contacted", created_at: "2026-12-03T10:00:00Z", ...e,
});
const team = [{ user_id: "u-1", role: "owner", name: "Olivia Owner" }];

test("history sentences say who did what, how, from and to", () => {
  assert.equal(describeEvent(event({}), team), "Sam Staff changed the status from New to Contacted");
  assert.equal(describeEvent(event({ via: "sms", actor_name: "Olivia Owner", to_value: "won" }), team), "Olivia Owner (by text) changed the status from New to Won");
  assert.equal(describeEvent(event({ field: "assigned_to", from_value: null, to_value: "u-1" }), team), "Sam Staff assigned it to Olivia Owner");
  assert.equal(describeEvent(event({ field: "assigned_to", from_value: "u-9", to_value: null, via: "system", actor_name: null }), team),
    "leadloop unassigned a former member");
  assert.equal(describeEvent(event({ field: "notes", from_value: "a", to_value: null }), team), "Sam Staff cleared the notes");
});

test("the composer counts SMS segments as the sender does", () => {
  assert.equal(segmentLabel(""), "0 characters");
  assert.equal(segmentLabel("x".repeat(160)), "160 characters · 1 SMS");
  assert.equal(segmentLabel("x".repeat(161)), "161 characters · 2 SMS segments");
  assert.equal(segmentLabel("Olé — ok"), "8 characters · 1 SMS (Unicode: 70 per SMS)");
});

test("a deferred reply's time is shown in the lead's zone, with the day when it is not today there", () => {
  const now = new Date("2026-12-03T04:00:00Z"); // 23:00 on Dec 2 in New York
  assert.equal(formatSendTime({ send_at: "2026-12-03T13:00:00Z", timezone: "America/New_York" }, now), "Thu 8:00 AM");
  assert.equal(formatSendTime({ send_at: "2026-12-03T20:00:00Z", timezone: "America/New_York" }, new Date("2026-12-03T14:00:00Z")), "3:00 PM");
});

test("the export asks for the chosen period", () => {
  const now = new Date("2026-12-31T00:00:00Z");
  assert.equal(exportPath("b-1", "all", now), "export-leads?business_id=b-1");
  assert.equal(exportPath("b-1", "30", now), "export-leads?business_id=b-1&from=2026-12-01T00%3A00%3A00.000Z");
});
