import { test } from "node:test";
import assert from "node:assert/strict";
import { friendlyAuthError, passwordProblems, passwordRuleStates } from "./password.ts";

test("the policy's requirements are listed, met or not", () => {
  assert.deepEqual(passwordProblems("Abcdefghij1"), []);
  assert.deepEqual(passwordProblems("abc"), ["At least 10 characters", "An upper-case letter", "A digit"]);
  assert.deepEqual(passwordProblems("ABCDEFGHIJ1"), ["A lower-case letter"]);
  assert.deepEqual(passwordProblems("Aa1" + "é".repeat(40)), ["At most 72 bytes"], "bytes, not characters");
  assert.equal(passwordRuleStates("").every((r) => r.id === "max" || !r.met), true);
});

test("Auth's errors are told in plain words", () => {
  assert.match(friendlyAuthError("Email not confirmed"), /Confirm your email/);
  assert.match(friendlyAuthError("Token has expired or is invalid"), /expired or was already used/);
  assert.match(friendlyAuthError("email rate limit exceeded"), /wait a minute/);
  assert.equal(friendlyAuthError("something else"), "something else");
});
