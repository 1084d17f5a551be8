// Twilio's phone-number resources as this function needs them: search what can be bought
// (AvailablePhoneNumbers), list the account's numbers, buy, fetch and configure one (IncomingPhoneNumbers). Plain fetch with
// Basic auth, every answer checked with zod, every failure a TwilioCallError with Twilio's code.
import { z } from "zod";
import type { TwilioEnv } from "../_shared/env.ts";
import type { NumberWebhooks } from "./webhook-urls.ts";

/** A Twilio request that did not give the expected answer: its HTTP status (0 = no answer) and Twilio's code. */
export class TwilioCallError extends Error {
  constructor(readonly status: number, readonly code: number | null, message: string) {
    super(message);
    this.name = "TwilioCallError";
  }
}

// Twilio spells the capabilities of available numbers SMS/MMS and those of owned numbers sms/mms.
const capabilities = z.record(z.unknown()).transform((c) => ({ sms: c.sms === true || c.SMS === true }));

const availableSchema = z.object({
  phone_number: z.string(),
  friendly_name: z.string(),
  locality: z.string().nullable(),
  region: z.string().nullable(),
  postal_code: z.string().nullable(),
  iso_country: z.string(),
  capabilities,
});
export type AvailableNumber = z.infer<typeof availableSchema>;

const ownedSchema = z.object({
  sid: z.string().regex(/^PN[0-9a-f]{32}$/),
  phone_number: z.string(),
  friendly_name: z.string(),
  sms_url: z.string().nullable(),
  capabilities,
});
export type OwnedNumber = z.infer<typeof ownedSchema>;

const errorSchema = z.object({ code: z.coerce.number().optional(), message: z.string().optional() });

const ownedPageSchema = z.object({ incoming_phone_numbers: z.array(ownedSchema), next_page_uri: z.string().nullable().optional() });

/** Twilio's largest page; and how many pages a listing follows at most (an account that big is listed in part). */
export const ownedPageSize = 1000;
export const ownedMaxPages = 5;

export interface TwilioNumbersApi {
  /** SMS-capable local numbers for sale in the US, in `areaCode` when given. */
  searchLocal(query: { areaCode?: string; limit: number }): Promise<AvailableNumber[]>;
  /** The numbers the account owns, following Twilio's pages (at most ownedMaxPages of them): complete = all of them. */
  listOwned(): Promise<{ numbers: OwnedNumber[]; complete: boolean }>;
  buy(phoneNumber: string, friendlyName: string, webhooks: NumberWebhooks): Promise<OwnedNumber>;
  /** A number the account owns, or null when it owns no number with that SID. */
  fetch(sid: string): Promise<OwnedNumber | null>;
  configure(sid: string, webhooks: NumberWebhooks): Promise<OwnedNumber>;
}

function webhookForm(webhooks: NumberWebhooks): Record<string, string> {
  return {
    SmsUrl: webhooks.smsUrl,
    SmsMethod: "POST",
    SmsFallbackUrl: webhooks.smsFallbackUrl,
    SmsFallbackMethod: "POST",
    StatusCallback: webhooks.statusCallback,
    StatusCallbackMethod: "POST",
  };
}

export function twilioNumbersApi(env: TwilioEnv, fetchFn: typeof fetch = fetch): TwilioNumbersApi {
  const apiBase = env.TWILIO_API_BASE_URL.replace(/\/+$/, "");
  const accountPath = `/2010-04-01/Accounts/${encodeURIComponent(env.TWILIO_ACCOUNT_SID)}`;
  const account = `${apiBase}${accountPath}`;
  const authorization = "Basic " + btoa(`${env.TWILIO_ACCOUNT_SID}:${env.TWILIO_AUTH_TOKEN}`);

  /** `path` is under the account, or (`fromRoot`) a URI as Twilio gives it in next_page_uri. */
  async function call(method: "GET" | "POST", path: string, form?: Record<string, string>, fromRoot = false): Promise<unknown> {
    let res: Response;
    try {
      res = await fetchFn(`${fromRoot ? apiBase : account}${path}`, {
        method,
        headers: {
          Authorization: authorization,
          Accept: "application/json",
          ...(form ? { "Content-Type": "application/x-www-form-urlencoded" } : {}),
        },
        body: form ? new URLSearchParams(form) : undefined,
        signal: AbortSignal.timeout(env.TWILIO_REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const name = (err as Error)?.name;
      const timedOut = name === "TimeoutError" || name === "AbortError";
      throw new TwilioCallError(0, null, timedOut ? `Twilio did not answer within ${env.TWILIO_REQUEST_TIMEOUT_MS} ms` : `network error: ${(err as Error)?.message}`);
    }
    const text = await res.text();
    let payload: unknown = null;
    try {
      payload = text ? JSON.parse(text) : null;
    } catch {
      payload = null;
    }
    if (!res.ok) {
      const error = errorSchema.safeParse(payload);
      const code = error.success ? error.data.code ?? null : null;
      const message = (error.success && error.data.message) || `HTTP ${res.status}`;
      throw new TwilioCallError(res.status, code, message.slice(0, 300));
    }
    return payload;
  }

  function parse<S extends z.ZodTypeAny>(schema: S, payload: unknown, what: string): z.output<S> {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) throw new TwilioCallError(502, null, `unexpected answer from Twilio for ${what}`);
    return parsed.data;
  }

  return {
    async searchLocal({ areaCode, limit }) {
      const query = new URLSearchParams({ SmsEnabled: "true", PageSize: String(limit) });
      if (areaCode) query.set("AreaCode", areaCode);
      const page = await call("GET", `/AvailablePhoneNumbers/US/Local.json?${query}`);
      return parse(z.object({ available_phone_numbers: z.array(availableSchema) }), page, "the number search").available_phone_numbers;
    },
    async listOwned() {
      const numbers: OwnedNumber[] = [];
      let page = parse(ownedPageSchema, await call("GET", `/IncomingPhoneNumbers.json?PageSize=${ownedPageSize}`), "the number list");
      for (let pages = 1; ; pages++) {
        numbers.push(...page.incoming_phone_numbers);
        const next = page.next_page_uri;
        if (!next) return { numbers, complete: true };
        if (pages >= ownedMaxPages) return { numbers, complete: false };
        // Only ever this account's list: a next page elsewhere would be a bug or an attack, not a page.
        if (!next.startsWith(`${accountPath}/IncomingPhoneNumbers.json?`)) {
          throw new TwilioCallError(502, null, "unexpected next page in Twilio's number list");
        }
        page = parse(ownedPageSchema, await call("GET", next, undefined, true), "the number list");
      }
    },
    async buy(phoneNumber, friendlyName, webhooks) {
      const form = { PhoneNumber: phoneNumber, FriendlyName: friendlyName, ...webhookForm(webhooks) };
      return parse(ownedSchema, await call("POST", "/IncomingPhoneNumbers.json", form), "the purchase");
    },
    async fetch(sid) {
      try {
        return parse(ownedSchema, await call("GET", `/IncomingPhoneNumbers/${encodeURIComponent(sid)}.json`), "the number");
      } catch (err) {
        if (err instanceof TwilioCallError && err.status === 404) return null;
        throw err;
      }
    },
    async configure(sid, webhooks) {
      return parse(ownedSchema, await call("POST", `/IncomingPhoneNumbers/${encodeURIComponent(sid)}.json`, webhookForm(webhooks)), "the number update");
    },
  };
}
