// The handler called directly with a fake database and a fake Twilio: who is refused and how, what is
// asked of Twilio, and what is stored. The database's own rules (RLS, one business per number) are in
// supabase/tests/25_sending_numbers.test.sql; the whole path through the gateway in tests/numbers/.
import { assert, assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { RpcError } from "../_shared/http.ts";
import { createNumbersHandler } from "./handler.ts";
import type { NumbersDb, OwnedBusiness, StoredNumber } from "./numbers-db.ts";
import { type AvailableNumber, TwilioCallError, type OwnedNumber, type TwilioNumbersApi } from "./twilio-numbers-api.ts";
import { numberWebhooks } from "./webhook-urls.ts";

const BUSINESS = "11111111-1111-4111-8111-111111111111";
const OTHER = "22222222-2222-4222-8222-222222222222";
const OWNER_TOKEN = "owner-token";
const SID = "PN" + "a".repeat(32);
const webhooks = numberWebhooks("https://abc.supabase.co/functions/v1/");

interface Calls {
  db: string[];
  twilio: string[];
  stored: [string, string, string][];
  bought: { phoneNumber: string; friendlyName: string; webhooks: unknown }[];
  configured: { sid: string; webhooks: unknown }[];
}

function setup(options: {
  business?: Partial<OwnedBusiness> | null;
  taken?: boolean;
  owned?: OwnedNumber | null;
  twilioFails?: TwilioCallError;
  storeFails?: Error;
  available?: AvailableNumber[];
  /** The Twilio account's numbers (listOwned), and which of them the database says are other businesses'. */
  account?: OwnedNumber[];
  takenNumbers?: string[];
} = {}) {
  const calls: Calls = { db: [], twilio: [], stored: [], bought: [], configured: [] };
  const business: OwnedBusiness | null = options.business === null ? null : {
    business_id: BUSINESS, name: "Lone Star Plumbing", twilio_number: "+15125550100", twilio_number_sid: null, ...options.business,
  };
  const db: NumbersDb = {
    userOf(token) {
      calls.db.push("userOf");
      return Promise.resolve(token === OWNER_TOKEN ? "user-1" : null);
    },
    ownedBusiness(token, id) {
      calls.db.push(`ownedBusiness ${id}`);
      return Promise.resolve(token === OWNER_TOKEN && id === BUSINESS ? business : null);
    },
    numberTaken(id, phone, sid) {
      calls.db.push(`numberTaken ${phone} ${sid}`);
      return Promise.resolve(options.taken ?? false);
    },
    takenNumbers(id, numbers) {
      calls.db.push(`takenNumbers ${id} ${numbers.map((n) => `${n.phone_number}/${n.sid}`).join(",")}`);
      return Promise.resolve(new Set(numbers.map((n) => n.phone_number).filter((p) => options.takenNumbers?.includes(p))));
    },
    setSendingNumber(id, phone, sid) {
      calls.stored.push([id, phone, sid]);
      if (options.storeFails) return Promise.reject(options.storeFails);
      const stored: StoredNumber = {
        business_id: id, twilio_number: phone, twilio_number_sid: sid,
        previous_number: business?.twilio_number ?? null, previous_sid: business?.twilio_number_sid ?? null,
      };
      return Promise.resolve(stored);
    },
  };
  const fail = <T>(): Promise<T> | null => (options.twilioFails ? Promise.reject(options.twilioFails) : null);
  const twilio: TwilioNumbersApi = {
    searchLocal(query) {
      calls.twilio.push(`search ${query.areaCode ?? "-"} ${query.limit}`);
      return fail<AvailableNumber[]>() ?? Promise.resolve(options.available ?? [available("+14155550100"), available("+14155550107", false)]);
    },
    listOwned() {
      calls.twilio.push("listOwned");
      return fail<{ numbers: OwnedNumber[]; complete: boolean }>() ?? Promise.resolve({ numbers: options.account ?? [], complete: true });
    },
    buy(phoneNumber, friendlyName, hooks) {
      calls.twilio.push(`buy ${phoneNumber}`);
      calls.bought.push({ phoneNumber, friendlyName, webhooks: hooks });
      return fail<OwnedNumber>() ?? Promise.resolve(owned(phoneNumber));
    },
    fetch(sid) {
      calls.twilio.push(`fetch ${sid}`);
      return fail<OwnedNumber | null>() ?? Promise.resolve(options.owned === undefined ? owned("+15125550142") : options.owned);
    },
    configure(sid, hooks) {
      calls.twilio.push(`configure ${sid}`);
      calls.configured.push({ sid, webhooks: hooks });
      return fail<OwnedNumber>() ?? Promise.resolve(options.owned ?? owned("+15125550142"));
    },
  };
  return { handler: createNumbersHandler({ db, twilio, webhooks }), calls };
}

function available(phone: string, sms = true): AvailableNumber {
  return { phone_number: phone, friendly_name: `(415) 555-${phone.slice(-4)}`, locality: "San Francisco", region: "CA", postal_code: "94103", iso_country: "US", capabilities: { sms } };
}
function owned(phone: string, sms = true, sid = SID): OwnedNumber {
  return { sid, phone_number: phone, friendly_name: `(512) 555-${phone.slice(-4)}`, sms_url: null, capabilities: { sms } };
}

function get(query: string, token: string | null = OWNER_TOKEN): Request {
  return new Request(`http://127.0.0.1:9999/twilio-numbers?${query}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
}
function post(body: unknown, token: string | null = OWNER_TOKEN, contentType = "application/json"): Request {
  const headers: Record<string, string> = { "Content-Type": contentType };
  if (token) headers.Authorization = `Bearer ${token}`;
  return new Request("http://127.0.0.1:9999/twilio-numbers", { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}
async function body(res: Response): Promise<Record<string, unknown>> {
  return await res.json() as Record<string, unknown>;
}

Deno.test("the browser's preflight is answered without a token, and every answer carries CORS headers", async () => {
  const { handler, calls } = setup();
  const preflight = await handler(new Request("http://127.0.0.1:9999/twilio-numbers", { method: "OPTIONS" }));
  assertEquals(preflight.status, 204);
  assertMatch(preflight.headers.get("Access-Control-Allow-Headers")!, /authorization/);
  assertEquals(calls.db, []);
  const refused = await handler(get(`business_id=${BUSINESS}`, null));
  assertEquals(refused.headers.get("Access-Control-Allow-Origin"), "*");
});

Deno.test("no token, or a token that is not a signed-in user's (anon or service key), is 401 before anything else", async () => {
  const { handler, calls } = setup();
  for (const req of [get(`business_id=${BUSINESS}`, null), get(`business_id=${BUSINESS}`, "anon-key-jwt"), get(`business_id=${BUSINESS}&owned=true`, "anon-key-jwt"), post({ business_id: BUSINESS, phone_number: "+14155550100" }, "service-key")]) {
    const res = await handler(req);
    assertEquals(res.status, 401);
    assertEquals((await body(res)).error, "unauthorized");
  }
  assertEquals(calls.db.filter((c) => c !== "userOf"), []);
  assertEquals(calls.twilio, []);
});

Deno.test("a user who does not own the business (staff, another owner, no such business) is 403 and Twilio is never asked", async () => {
  const { handler, calls } = setup();
  for (const req of [get(`business_id=${OTHER}&area_code=415`), get(`business_id=${OTHER}&owned=true`), post({ business_id: OTHER, phone_number: "+14155550100" }), post({ business_id: OTHER, phone_number_sid: SID })]) {
    const res = await handler(req);
    assertEquals(res.status, 403);
    assertEquals((await body(res)).error, "forbidden");
  }
  assertEquals(calls.twilio, []);
  assertEquals(calls.stored, []);
});

Deno.test("search: SMS-capable US numbers in the area code, as the owner needs to pick one", async () => {
  const { handler, calls } = setup();
  const res = await handler(get(`business_id=${BUSINESS}&area_code=415`));
  assertEquals(res.status, 200);
  const result = await body(res);
  assertEquals(calls.twilio, ["search 415 20"]);
  assertEquals(result.numbers, [{ phone_number: "+14155550100", friendly_name: "(415) 555-0100", locality: "San Francisco", region: "CA", postal_code: "94103", iso_country: "US" }]);
  assertEquals((await handler(get(`business_id=${BUSINESS}`))).status, 200);
  assertEquals(calls.twilio[1], "search - 20");
});

Deno.test("search: bad input is a 400 that names the field", async () => {
  const { handler, calls } = setup();
  for (const [query, field] of [[`business_id=${BUSINESS}&owned=yes`, "owned"], [`business_id=${BUSINESS}&owned=true&area_code=415`, "area_code"], ["area_code=415", "business_id"], [`business_id=${BUSINESS}&area_code=41`, "area_code"], [`business_id=${BUSINESS}&area_code=abc`, "area_code"], [`business_id=${BUSINESS}&areacode=415`, "areacode"], ["business_id=1", "business_id"]]) {
    const res = await handler(get(query));
    assertEquals(res.status, 400, query);
    assertMatch(String((await body(res)).message), new RegExp(field));
  }
  assertEquals(calls.twilio, []);
});

Deno.test("buy: the number is bought with the inbound webhook, its retry overrides, the fallback and the status callback, then stored", async () => {
  const { handler, calls } = setup();
  const res = await handler(post({ business_id: BUSINESS, phone_number: "+14155550101" }));
  assertEquals(res.status, 201);
  assertEquals(calls.bought, [{
    phoneNumber: "+14155550101",
    friendlyName: "Lone Star Plumbing",
    webhooks: {
      smsUrl: "https://abc.supabase.co/functions/v1/twilio-inbound#rc=3&rp=5xx,ct,rt",
      smsFallbackUrl: "https://abc.supabase.co/functions/v1/twilio-inbound?fallback=1#rc=3&rp=5xx,ct,rt",
      statusCallback: "https://abc.supabase.co/functions/v1/twilio-status",
    },
  }]);
  assertEquals(calls.stored, [[BUSINESS, "+14155550101", SID]]);
  assertEquals(await body(res), {
    business_id: BUSINESS, phone_number: "+14155550101", phone_number_sid: SID, friendly_name: "(512) 555-0101",
    replaced: { phone_number: "+15125550100", phone_number_sid: null },
  });
});

Deno.test("buy: a number another business holds is refused before Twilio is asked", async () => {
  const { handler, calls } = setup({ taken: true });
  const res = await handler(post({ business_id: BUSINESS, phone_number: "+14155550101" }));
  assertEquals(res.status, 409);
  assertMatch(String((await body(res)).message), /another business/);
  assertEquals(calls.twilio, []);
});

Deno.test("buy: the business's own number again is not bought twice", async () => {
  const { handler, calls } = setup({ business: { twilio_number: "+14155550101", twilio_number_sid: SID } });
  const res = await handler(post({ business_id: BUSINESS, phone_number: "+14155550101" }));
  assertEquals(res.status, 200);
  assertEquals((await body(res)).replaced, null);
  assertEquals(calls.twilio, []);
});

Deno.test("buy: Twilio's refusals become answers the owner can act on", async () => {
  const taken = await setup({ twilioFails: new TwilioCallError(400, 21422, "PhoneNumber +14155550101 is not available") }).handler(post({ business_id: BUSINESS, phone_number: "+14155550101" }));
  assertEquals(taken.status, 409);
  assertMatch(String((await body(taken)).message), /no longer available/);
  const down = await setup({ twilioFails: new TwilioCallError(0, null, "Twilio did not answer within 10000 ms") }).handler(post({ business_id: BUSINESS, phone_number: "+14155550101" }));
  assertEquals(down.status, 502);
  assertEquals((await body(down)).error, "twilio_failed");
  const credentials = await setup({ twilioFails: new TwilioCallError(401, 20003, "Authenticate") }).handler(get(`business_id=${BUSINESS}`));
  assertEquals(credentials.status, 500);
});

Deno.test("buy: when the number is bought but cannot be stored, the answer says how to finish (connect it by SID)", async () => {
  const { handler } = setup({ storeFails: new RpcError("set_business_sending_number", "connection refused") });
  const res = await handler(post({ business_id: BUSINESS, phone_number: "+14155550101" }));
  assertEquals(res.status, 502);
  const result = await body(res);
  assertEquals(result.error, "not_stored");
  assertMatch(String(result.message), new RegExp(SID));
});

Deno.test("connect: a number the account owns gets the webhooks and becomes the business's", async () => {
  const { handler, calls } = setup();
  const res = await handler(post({ business_id: BUSINESS, phone_number_sid: SID }));
  assertEquals(res.status, 200);
  assertEquals(calls.twilio, [`fetch ${SID}`, `configure ${SID}`]);
  assertEquals(calls.configured[0].webhooks, webhooks);
  assert(calls.db.includes(`numberTaken +15125550142 ${SID}`));
  assertEquals(calls.stored, [[BUSINESS, "+15125550142", SID]]);
  assertEquals((await body(res)).phone_number, "+15125550142");
});

Deno.test("connect: unknown SID 404, a voice-only number 400, another business's number 409; none is configured", async () => {
  const unknown = setup({ owned: null });
  assertEquals((await unknown.handler(post({ business_id: BUSINESS, phone_number_sid: SID }))).status, 404);
  const voice = setup({ owned: owned("+15125550147", false) });
  assertEquals((await voice.handler(post({ business_id: BUSINESS, phone_number_sid: SID }))).status, 400);
  const taken = setup({ taken: true });
  assertEquals((await taken.handler(post({ business_id: BUSINESS, phone_number_sid: SID }))).status, 409);
  for (const { calls } of [unknown, voice, taken]) assertEquals(calls.configured, []);
});

Deno.test("POST input: one of phone_number or phone_number_sid, JSON only, nothing else", async () => {
  const { handler, calls } = setup();
  const cases: [Request, number][] = [
    [post({ business_id: BUSINESS }), 400],
    [post({ business_id: BUSINESS, phone_number: "+14155550101", phone_number_sid: SID }), 400],
    [post({ business_id: BUSINESS, phone_number: "4155550101" }), 400],
    [post({ business_id: BUSINESS, phone_number: "+442071838750" }), 400],
    [post({ business_id: BUSINESS, phone_number_sid: "PN123" }), 400],
    [post({ business_id: BUSINESS, phone_number: "+14155550101", sms_url: "https://evil.example" }), 400],
    [post("{not json"), 400],
    [post(JSON.stringify({ business_id: BUSINESS, phone_number: "+14155550101", pad: "x".repeat(5000) })), 400],
    [post("business_id=x", OWNER_TOKEN, "application/x-www-form-urlencoded"), 415],
    [new Request("http://127.0.0.1:9999/twilio-numbers", { method: "PUT", headers: { Authorization: `Bearer ${OWNER_TOKEN}` } }), 405],
  ];
  for (const [req, status] of cases) assertEquals((await handler(req)).status, status);
  assertEquals(calls.twilio, []);
});

Deno.test("owned: the account's textable numbers this business may connect, never another business's", async () => {
  const sid = (c: string) => "PN" + c.repeat(32);
  const { handler, calls } = setup({
    business: { twilio_number: "+15125550100", twilio_number_sid: sid("0") },
    account: [
      owned("+15125550199", true, sid("9")),
      owned("+15125550100", true, sid("0")), // the business's own current number
      owned("+15125550150", true, sid("5")), // another business sends from it
      owned("+15125550160", false, sid("6")), // voice only
      owned("+15125550111", true, sid("1")),
    ],
    takenNumbers: ["+15125550150"],
  });
  const res = await handler(get(`business_id=${BUSINESS}&owned=true`));
  assertEquals(res.status, 200);
  assertEquals(await body(res), {
    business_id: BUSINESS,
    numbers: [
      { phone_number: "+15125550111", phone_number_sid: sid("1"), friendly_name: "(512) 555-0111" },
      { phone_number: "+15125550199", phone_number_sid: sid("9"), friendly_name: "(512) 555-0199" },
    ],
    complete: true,
  });
  assertEquals(calls.twilio, ["listOwned"]);
  // The database is asked about every candidate at once, with its SID.
  assertEquals(calls.db.filter((c) => c.startsWith("takenNumbers")), [
    `takenNumbers ${BUSINESS} +15125550199/${sid("9")},+15125550150/${sid("5")},+15125550111/${sid("1")}`,
  ]);
});

Deno.test("owned: a Twilio failure is a 502 and the database is not asked", async () => {
  const { handler, calls } = setup({ twilioFails: new TwilioCallError(0, null, "Twilio did not answer within 10000 ms") });
  const res = await handler(get(`business_id=${BUSINESS}&owned=true`));
  assertEquals(res.status, 502);
  assertEquals(calls.db.filter((c) => c.startsWith("takenNumbers")), []);
});
