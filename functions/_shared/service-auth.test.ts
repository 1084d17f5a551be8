import { assert, assertEquals } from "./testing/assert.ts";
import { fakeRpc, serviceCredentials } from "./testing/fakes.ts";
import { serviceCredentialsFrom } from "./service-auth.ts";
import { ConfigError } from "./http.ts";
import { createDispatchHandler } from "../sms-dispatch/handler.ts";
import { createSummarizeHandler } from "../summarize/handler.ts";
import type { TwilioEnv } from "./env.ts";

const twilio: TwilioEnv = {
  TWILIO_ACCOUNT_SID: "AC" + "a".repeat(32),
  TWILIO_AUTH_TOKEN: "secret-token",
  TWILIO_API_BASE_URL: "http://twilio.test",
  TWILIO_WEBHOOK_BASE_URL: "https://abc.supabase.co/functions/v1",
  TWILIO_REQUEST_TIMEOUT_MS: 100,
};

// Valid-looking project credentials that are not the service role's.
const anonJwt = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl";
const userJwt = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYXV0aGVudGljYXRlZCIsInN1YiI6IjEifQ.c2ln";
const publishableKey = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";

function handlers() {
  const rpc = fakeRpc({ claim_outbound_messages: () => [], claim_due_summaries: () => [] });
  return {
    rpc,
    all: {
      "sms-dispatch": createDispatchHandler({ rpc: rpc.rpc, credentials: serviceCredentials, twilio }),
      summarize: createSummarizeHandler({ rpc: rpc.rpc, credentials: serviceCredentials, llm: null }),
    },
  };
}

const refused: [string, Record<string, string>][] = [
  ["no credentials at all", {}],
  ["the anon key", { Authorization: `Bearer ${anonJwt}`, apikey: anonJwt }],
  ["a signed-in user's JWT", { Authorization: `Bearer ${userJwt}`, apikey: anonJwt }],
  ["a publishable key", { Authorization: `Bearer ${publishableKey}`, apikey: publishableKey }],
  ["a wrong secret key", { Authorization: "Bearer sb_secret_guessed", apikey: "sb_secret_guessed" }],
  ["the service key with one character changed", { Authorization: "Bearer test-service-role-jwu" }],
  ["a non-Bearer scheme", { Authorization: "Basic test-service-role-jwt" }],
];

for (const [what, headers] of refused) {
  Deno.test(`sms-dispatch and summarize refuse ${what} with 401, a code and a safe message, and touch nothing`, async () => {
    const { rpc, all } = handlers();
    for (const [name, handler] of Object.entries(all)) {
      const res = await handler(new Request(`http://fn/${name}`, { method: "POST", headers }));
      assertEquals(res.status, 401, name);
      assertEquals(res.headers.get("www-authenticate"), 'Bearer realm="leadloop"');
      const body = await res.json();
      assertEquals(body.error, "unauthorized");
      assert(/service role key or a secret key/.test(body.message), body.message);
    }
    assertEquals(rpc.calls.length, 0, "no database call before the caller is known");
  });
}

const accepted: [string, Record<string, string>][] = [
  ["the service role key as Bearer", { Authorization: "Bearer test-service-role-jwt" }],
  ["a secret key as Bearer", { Authorization: "Bearer sb_secret_test_key" }],
  ["a secret key as apikey, beside the anon key", { apikey: "sb_secret_test_key", Authorization: `Bearer ${anonJwt}` }],
];

for (const [what, headers] of accepted) {
  Deno.test(`sms-dispatch and summarize accept ${what}`, async () => {
    const { all } = handlers();
    for (const [name, handler] of Object.entries(all)) {
      const res = await handler(new Request(`http://fn/${name}`, { method: "POST", headers }));
      assertEquals(res.status, 200, name);
      await res.body?.cancel();
    }
  });
}

Deno.test("the secret keys come from SUPABASE_SECRET_KEYS (JSON); a malformed value is a configuration error", () => {
  assertEquals(serviceCredentialsFrom({ SUPABASE_SERVICE_ROLE_KEY: "s", SUPABASE_SECRET_KEYS: '{"default":"sb_secret_a","ci":"sb_secret_b"}' }),
    { serviceRoleKey: "s", secretKeys: ["sb_secret_a", "sb_secret_b"] });
  assertEquals(serviceCredentialsFrom({ SUPABASE_SERVICE_ROLE_KEY: "s" }), { serviceRoleKey: "s", secretKeys: [] });
  let error: unknown;
  try {
    serviceCredentialsFrom({ SUPABASE_SERVICE_ROLE_KEY: "s", SUPABASE_SECRET_KEYS: "sb_secret_a" });
  } catch (err) {
    error = err;
  }
  assert(error instanceof ConfigError);
});
