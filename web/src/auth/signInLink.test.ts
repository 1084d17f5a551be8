import { test } from "node:test";
import assert from "node:assert/strict";
import { signInLinkProblem, signInLinkRedirect } from "./signInLink.ts";

test("the link comes back to the sign-in page, keeping where the person was going", () => {
  assert.equal(signInLinkRedirect(undefined, "http://127.0.0.1:54323"), "http://127.0.0.1:54323/sign-in");
  assert.equal(
    signInLinkRedirect("/join?token=ab", "https://app.example"),
    "https://app.example/sign-in?redirect=%2Fjoin%3Ftoken%3Dab",
  );
});

test("an unknown address reads like a sent link; real problems are told", () => {
  assert.equal(signInLinkProblem(null), null);
  // GoTrue, shouldCreateUser: false, no such account.
  assert.equal(signInLinkProblem({ message: "Signups not allowed for otp", code: "otp_disabled", status: 422 }), null);
  assert.match(
    signInLinkProblem({ message: "For security purposes, you can only request this after 42 seconds.", code: "over_email_send_rate_limit", status: 429 })!,
    /in 42 seconds/,
  );
  assert.match(signInLinkProblem({ message: "email rate limit exceeded", code: "over_email_send_rate_limit", status: 429 })!, /wait a minute/);
  assert.match(signInLinkProblem({ message: "Request rate limit reached", code: "over_request_rate_limit", status: 429 })!, /wait a minute/);
  assert.match(signInLinkProblem({ message: "Unable to validate email address: invalid format", code: "validation_failed", status: 400 })!, /email address/);
  assert.match(signInLinkProblem({ message: "Failed to fetch" })!, /reach the server/);
});
