import { assertEquals, assertMatch } from "./testing/assert.ts";
import { billingEnvSchema, llmConfigFrom, loadEnv, stripeWebhookEnvSchema, summarizerEnvSchema, twilioEnvSchema } from "./env.ts";
import { ConfigError } from "./http.ts";

Deno.test("missing settings fail with the variable names", () => {
  try {
    loadEnv(twilioEnvSchema, { TWILIO_ACCOUNT_SID: "nope" });
    throw new Error("expected a ConfigError");
  } catch (err) {
    assertEquals(err instanceof ConfigError, true);
    assertMatch((err as Error).message, /TWILIO_ACCOUNT_SID/);
    assertMatch((err as Error).message, /TWILIO_AUTH_TOKEN/);
    assertMatch((err as Error).message, /TWILIO_WEBHOOK_BASE_URL/);
  }
});

Deno.test("defaults: Twilio API base, LLM off unless a URL is set", () => {
  const env = loadEnv(twilioEnvSchema, {
    TWILIO_ACCOUNT_SID: "AC" + "0".repeat(32),
    TWILIO_AUTH_TOKEN: "t",
    TWILIO_WEBHOOK_BASE_URL: "https://x.supabase.co/functions/v1",
  });
  assertEquals(env.TWILIO_API_BASE_URL, "https://api.twilio.com");
  assertEquals(llmConfigFrom(loadEnv(summarizerEnvSchema, {})), null);
  assertEquals(
    llmConfigFrom(loadEnv(summarizerEnvSchema, { SUMMARIZER_LLM_URL: "http://127.0.0.1:1/v1", SUMMARIZER_LLM_MODEL: "m" })),
    {
      url: "http://127.0.0.1:1/v1",
      model: "m",
      apiKey: null,
      timeoutMs: 8000,
    },
  );
});

Deno.test("an LLM URL without a model is rejected", () => {
  try {
    loadEnv(summarizerEnvSchema, { SUMMARIZER_LLM_URL: "http://127.0.0.1:1/v1" });
    throw new Error("expected a ConfigError");
  } catch (err) {
    assertMatch((err as Error).message, /SUMMARIZER_LLM_MODEL/);
  }
});

Deno.test("Stripe settings: keys by their shape, the API at api.stripe.com unless set, each function's own needs", () => {
  const supabase = { SUPABASE_URL: "https://x.supabase.co", SUPABASE_SERVICE_ROLE_KEY: "service", SUPABASE_ANON_KEY: "anon" };
  const billing = loadEnv(billingEnvSchema, { ...supabase, STRIPE_SECRET_KEY: "sk_live_abc123", DASHBOARD_URL: "https://app.example" });
  assertEquals([billing.STRIPE_API_BASE_URL, billing.STRIPE_REQUEST_TIMEOUT_MS], ["https://api.stripe.com", 10_000]);
  for (const [schema, env, names] of [
    [billingEnvSchema, { ...supabase, STRIPE_SECRET_KEY: "pk_test_abc" }, /STRIPE_SECRET_KEY[^;]*sk_[\s\S]*DASHBOARD_URL/],
    [stripeWebhookEnvSchema, { ...supabase, STRIPE_SECRET_KEY: "sk_test_abc", STRIPE_WEBHOOK_SECRET: "secret" }, /STRIPE_WEBHOOK_SECRET[^;]*whsec_/],
  ] as const) {
    try {
      loadEnv(schema, env);
      throw new Error("expected a ConfigError");
    } catch (err) {
      assertEquals(err instanceof ConfigError, true);
      assertMatch((err as Error).message, names);
    }
  }
});
