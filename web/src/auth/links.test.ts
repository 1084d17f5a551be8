import { test } from "node:test";
import assert from "node:assert/strict";
import { authRedirect, readAuthLink } from "./links.ts";

test("links come back to the dashboard's own pages", () => {
  assert.equal(authRedirect("/auth/confirm", "http://127.0.0.1:54323"), "http://127.0.0.1:54323/auth/confirm");
});

test("a link's PKCE code, token hash or error is read from the query or the fragment", () => {
  assert.deepEqual(readAuthLink("http://x.test/auth/confirm?code=pkce_abc"), { code: "pkce_abc", tokenHash: null, type: null, error: null });
  assert.deepEqual(readAuthLink("http://x.test/auth/confirm?token_hash=h1&type=signup"), { code: null, tokenHash: "h1", type: "signup", error: null });
  assert.equal(readAuthLink("http://x.test/auth/confirm#error=access_denied&error_code=otp_expired&error_description=Email+link+is+invalid+or+has+expired").error,
    "Email link is invalid or has expired");
  assert.equal(readAuthLink("http://x.test/auth/confirm").error, null);
});
