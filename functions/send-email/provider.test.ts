import { assert, assertEquals } from "../_shared/testing/assert.ts";
import { loadEnv, mailEnvSchema } from "../_shared/env.ts";
import { ConfigError } from "../_shared/http.ts";
import { formatSender, messageIdFor, parseSender } from "./mailer.ts";
import { mailerFromEnv } from "./provider.ts";

const base = { SUPABASE_URL: "http://127.0.0.1:1", SUPABASE_SERVICE_ROLE_KEY: "k", MAIL_FROM: "alerts@mail.leadloop.test" };

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert(error instanceof ConfigError, String(error));
    return error.message;
  }
  throw new Error("no configuration error");
}

Deno.test("exactly one provider: SMTP or Resend", () => {
  assertEquals(mailerFromEnv(loadEnv(mailEnvSchema, { ...base, MAIL_SMTP_URL: "smtp://127.0.0.1:2525" })).provider, "smtp");
  assertEquals(mailerFromEnv(loadEnv(mailEnvSchema, { ...base, RESEND_API_KEY: "re_123" })).provider, "resend");
  assert(/exactly one mail provider/.test(configError(() => loadEnv(mailEnvSchema, base))));
  assert(/exactly one mail provider/.test(configError(() =>
    loadEnv(mailEnvSchema, { ...base, MAIL_SMTP_URL: "smtp://h", RESEND_API_KEY: "re_1" }))));
  assert(/MAIL_SMTP_URL/.test(configError(() => loadEnv(mailEnvSchema, { ...base, MAIL_SMTP_URL: "http://h" }))));
  assert(/MAIL_FROM/.test(configError(() => loadEnv(mailEnvSchema, { ...base, MAIL_FROM: undefined, RESEND_API_KEY: "re_1" }))));
});

Deno.test("MAIL_FROM: an address or a named address; nothing that could break a header", () => {
  assertEquals(parseSender("alerts@mail.leadloop.test"), { name: null, address: "alerts@mail.leadloop.test" });
  assertEquals(parseSender(' "Leadloop" <alerts@mail.leadloop.test> '), { name: "Leadloop", address: "alerts@mail.leadloop.test" });
  assertEquals(formatSender(parseSender("Leadloop Alerts <a@b.example>")), '"Leadloop Alerts" <a@b.example>');
  assertEquals(messageIdFor("abc", parseSender("a@b.example")), "<abc@b.example>");
  for (const bad of ["not an address", "Name <a@b>", "a@b.example\r\nBcc: x@y.example", "Evil\r\nBcc: x <a@b.example>"]) {
    configError(() => parseSender(bad));
  }
});
