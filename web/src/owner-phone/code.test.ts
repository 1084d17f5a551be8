import { test } from "node:test";
import assert from "node:assert/strict";
import { codeSchema, resendMessage } from "./code.ts";

test("the code is six digits (spaces around it are forgiven)", () => {
  assert.equal(codeSchema.parse(" 012345 "), "012345");
  for (const bad of ["12345", "1234567", "12a456", ""]) assert.equal(codeSchema.safeParse(bad).success, false, bad);
});

test("the resend answer is told in the owner's words", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  assert.equal(resendMessage({ sent: true, reason: null, resend_after: "2026-12-01T12:01:00Z" }, now), "A new code is on its way.");
  assert.match(resendMessage({ sent: false, reason: "throttled", resend_after: "2026-12-01T12:30:00Z" }, now), /try again in 30 minutes/);
  assert.match(resendMessage({ sent: false, reason: "throttled", resend_after: "2026-12-01T12:00:20Z" }, now), /in 1 minute\./);
  assert.match(resendMessage({ sent: false, reason: "no_sending_number", resend_after: null }, now), /business number/);
});
