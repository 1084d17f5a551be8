import { assertEquals } from "./testing/assert.ts";
import { computeTwilioSignature, isValidTwilioSignature } from "./twilio-signature.ts";

// Vector from Twilio's documentation (also what the twilio npm package computes).
const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
const params: [string, string][] = [
  ["Digits", "1234"],
  ["To", "+18005551212"],
  ["From", "+12349013030"],
  ["Caller", "+12349013030"],
  ["CallSid", "CA1234567890ABCDE"],
];

Deno.test("computes Twilio's documented signature (params sorted by name)", async () => {
  assertEquals(await computeTwilioSignature("12345", url, params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
});

Deno.test("rejects a missing, wrong, other-URL or other-token signature", async () => {
  assertEquals(await isValidTwilioSignature("12345", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="), true);
  assertEquals(await isValidTwilioSignature("12345", url, params, null), false);
  assertEquals(await isValidTwilioSignature("12345", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ"), false);
  assertEquals(
    await isValidTwilioSignature("12345", url.replace("foo=1", "foo=2"), params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
    false,
  );
  assertEquals(await isValidTwilioSignature("54321", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="), false);
});
