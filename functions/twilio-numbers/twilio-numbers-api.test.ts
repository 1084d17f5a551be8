// The Twilio calls with a scripted fetch: what is sent (paths, Basic auth, form fields) and how Twilio's
// answers and failures come back. The same calls against the emulator run in tests/numbers/.
import { assertEquals, assertMatch, assertRejects } from "../_shared/testing/assert.ts";
import { fakeFetch, hangingFetch } from "../_shared/testing/fakes.ts";
import { TwilioCallError, twilioNumbersApi } from "./twilio-numbers-api.ts";
import { numberWebhooks } from "./webhook-urls.ts";

const env = {
  TWILIO_ACCOUNT_SID: "AC" + "0".repeat(31) + "1",
  TWILIO_AUTH_TOKEN: "secret",
  TWILIO_API_BASE_URL: "https://api.twilio.com/",
  TWILIO_WEBHOOK_BASE_URL: "https://abc.supabase.co/functions/v1",
  TWILIO_REQUEST_TIMEOUT_MS: 50,
};
const account = `https://api.twilio.com/2010-04-01/Accounts/${env.TWILIO_ACCOUNT_SID}`;
const SID = "PN" + "b".repeat(32);
const incoming = { sid: SID, phone_number: "+14155550101", friendly_name: "(415) 555-0101", sms_url: "", capabilities: { voice: true, sms: true, mms: true, fax: false } };
const jsonResponse = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

Deno.test("search asks for SMS-capable local US numbers and reads Twilio's upper-case capabilities", async () => {
  const { fetch, calls } = fakeFetch(() => jsonResponse({
    available_phone_numbers: [
      { phone_number: "+14155550100", friendly_name: "(415) 555-0100", locality: "San Francisco", region: "CA", postal_code: "94103", iso_country: "US", capabilities: { voice: true, SMS: true, MMS: true }, lata: "722" },
    ],
  }));
  const found = await twilioNumbersApi(env, fetch).searchLocal({ areaCode: "415", limit: 20 });
  assertEquals(calls[0].url, `${account}/AvailablePhoneNumbers/US/Local.json?SmsEnabled=true&PageSize=20&AreaCode=415`);
  assertEquals(new Headers(calls[0].init.headers).get("Authorization"), "Basic " + btoa(`${env.TWILIO_ACCOUNT_SID}:secret`));
  assertEquals(found[0].capabilities, { sms: true });
  assertEquals(found[0].locality, "San Francisco");
});

Deno.test("buy posts the number with every webhook setting", async () => {
  const { fetch, calls } = fakeFetch(() => jsonResponse(incoming, 201));
  const bought = await twilioNumbersApi(env, fetch).buy("+14155550101", "Lone Star Plumbing", numberWebhooks(env.TWILIO_WEBHOOK_BASE_URL));
  assertEquals(bought.sid, SID);
  assertEquals(calls[0].url, `${account}/IncomingPhoneNumbers.json`);
  assertEquals(Object.fromEntries(calls[0].init.body as URLSearchParams), {
    PhoneNumber: "+14155550101",
    FriendlyName: "Lone Star Plumbing",
    SmsUrl: "https://abc.supabase.co/functions/v1/twilio-inbound#rc=3&rp=5xx,ct,rt",
    SmsMethod: "POST",
    SmsFallbackUrl: "https://abc.supabase.co/functions/v1/twilio-inbound?fallback=1#rc=3&rp=5xx,ct,rt",
    SmsFallbackMethod: "POST",
    StatusCallback: "https://abc.supabase.co/functions/v1/twilio-status",
    StatusCallbackMethod: "POST",
  });
});

Deno.test("fetch of a number the account does not own is null; configure posts to the number", async () => {
  const { fetch, calls } = fakeFetch((call) =>
    call.url.endsWith(`${SID}.json`) && call.init.method === "GET"
      ? jsonResponse({ code: 20404, message: "The requested resource was not found", status: 404 }, 404)
      : jsonResponse(incoming)
  );
  const api = twilioNumbersApi(env, fetch);
  assertEquals(await api.fetch(SID), null);
  await api.configure(SID, numberWebhooks(env.TWILIO_WEBHOOK_BASE_URL));
  assertEquals([calls[1].init.method, calls[1].url], ["POST", `${account}/IncomingPhoneNumbers/${SID}.json`]);
});

Deno.test("failures carry Twilio's status and code; a timeout or an unreadable answer is a failure too", async () => {
  const refused = twilioNumbersApi(env, fakeFetch(() => jsonResponse({ code: 21422, message: "PhoneNumber is not available", status: 400 }, 400)).fetch);
  await assertRejects(() => refused.buy("+14155550101", "x", numberWebhooks(env.TWILIO_WEBHOOK_BASE_URL)),
    (err) => err instanceof TwilioCallError && err.status === 400 && err.code === 21422);
  const slow = twilioNumbersApi(env, hangingFetch);
  await assertRejects(() => slow.searchLocal({ limit: 5 }), (err) => err instanceof TwilioCallError && err.status === 0 && /50 ms/.test(err.message));
  const garbage = twilioNumbersApi(env, fakeFetch(() => new Response("<html>oops</html>", { status: 200 })).fetch);
  await assertRejects(() => garbage.configure(SID, numberWebhooks(env.TWILIO_WEBHOOK_BASE_URL)), (err) => {
    assertMatch((err as Error).message, /unexpected answer/);
    return err instanceof TwilioCallError;
  });
});

Deno.test("listOwned follows Twilio's pages of the account's numbers, and only this account's", async () => {
  const second = { ...incoming, sid: "PN" + "c".repeat(32), phone_number: "+14155550102" };
  const path = `/2010-04-01/Accounts/${env.TWILIO_ACCOUNT_SID}/IncomingPhoneNumbers.json`;
  const { fetch, calls } = fakeFetch((call) =>
    call.url.includes("Page=1")
      ? jsonResponse({ incoming_phone_numbers: [second], next_page_uri: null, page: 1, page_size: 1 })
      : jsonResponse({ incoming_phone_numbers: [incoming], next_page_uri: `${path}?PageSize=1&Page=1&PageToken=PA${SID}`, page: 0, page_size: 1 })
  );
  const listed = await twilioNumbersApi(env, fetch).listOwned();
  assertEquals(listed.numbers.map((n) => n.phone_number), ["+14155550101", "+14155550102"]);
  assertEquals(listed.complete, true);
  assertEquals(calls.map((c) => c.url), [`${account}/IncomingPhoneNumbers.json?PageSize=1000`, `https://api.twilio.com${path}?PageSize=1&Page=1&PageToken=PA${SID}`]);

  // A next page that is not this account's number list is not followed.
  const elsewhere = fakeFetch(() => jsonResponse({ incoming_phone_numbers: [incoming], next_page_uri: "/2010-04-01/Accounts/ACother/IncomingPhoneNumbers.json?Page=1" }));
  await assertRejects(() => twilioNumbersApi(env, elsewhere.fetch).listOwned(), (err) => err instanceof TwilioCallError && err.status === 502);
  assertEquals(elsewhere.calls.length, 1);

  // An account with more pages than a listing follows is listed in part, and says so.
  const endless = fakeFetch(() => jsonResponse({ incoming_phone_numbers: [incoming], next_page_uri: `${path}?Page=9` }));
  const part = await twilioNumbersApi(env, endless.fetch).listOwned();
  assertEquals([part.complete, part.numbers.length, endless.calls.length], [false, 5, 5]);
});
