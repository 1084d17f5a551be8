// An owner's sending number: search numbers for sale, buy one, list the numbers the Twilio account
// already owns that no other business sends or sent from, or connect one of those. The caller is a signed-in user (their JWT, checked by Auth: 401 otherwise) who owns the business
// (checked by the database with that JWT: 403 otherwise, the same for staff, other owners and businesses
// that do not exist). Only then does the function talk to Twilio, and only after Twilio confirmed the
// number does the service role store it on the business.
import { z } from "zod";
import { withCors } from "../_shared/cors.ts";
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  type Handler,
  HttpError,
  json,
  NotFoundError,
  requireMethod,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  withErrors,
} from "../_shared/http.ts";
import type { NumbersDb, OwnedBusiness, StoredNumber } from "./numbers-db.ts";
import { TwilioCallError, type TwilioNumbersApi } from "./twilio-numbers-api.ts";
import type { NumberWebhooks } from "./webhook-urls.ts";

const businessId = z.string().uuid("business_id must be a business id (uuid)");
const nanpNumber = z.string().regex(/^\+1[2-9]\d{2}[2-9]\d{6}$/, "phone_number must be a US or Canadian number in E.164, like +14155550123");
const numberSid = z.string().regex(/^PN[0-9a-f]{32}$/, "phone_number_sid must be a Twilio phone number SID (PN followed by 32 hex digits)");

export const searchQuerySchema = z.object({
  business_id: businessId,
  area_code: z.string().regex(/^[2-9]\d{2}$/, "area_code must be a 3-digit US area code").optional(),
  owned: z.literal("true", { errorMap: () => ({ message: "owned must be true (the account's own numbers) or left out (numbers for sale)" }) }).optional(),
}).strict().refine((q) => !(q.owned && q.area_code), { message: "owned=true lists the account's own numbers: leave area_code out" });

export const numberRequestSchema = z.object({
  business_id: businessId,
  phone_number: nanpNumber.optional(),
  phone_number_sid: numberSid.optional(),
}).strict().refine((b) => (b.phone_number === undefined) !== (b.phone_number_sid === undefined), {
  message: "send phone_number (to buy it) or phone_number_sid (to connect a number the account owns), not both",
});

/** How many numbers a search offers at most. */
export const searchLimit = 20;
const maxBodyBytes = 4096;

export interface NumbersDeps {
  db: NumbersDb;
  twilio: TwilioNumbersApi;
  webhooks: NumberWebhooks;
}

function bearerToken(req: Request): string {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "");
  if (!match) throw new UnauthorizedError("sign in: this needs the owner's access token");
  return match[1];
}

async function readJsonBody(req: Request): Promise<unknown> {
  if (!(req.headers.get("content-type") ?? "").toLowerCase().startsWith("application/json")) {
    throw new UnsupportedMediaTypeError("send a JSON body (Content-Type: application/json)");
  }
  const text = await req.text();
  if (new TextEncoder().encode(text).length > maxBodyBytes) throw new BadRequestError("the body is too large");
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError("the body is not valid JSON");
  }
}

/** Twilio's answers, in the caller's terms: what they can fix (4xx) or that Twilio failed (502). */
function fromTwilio(err: unknown, action: string): never {
  if (!(err instanceof TwilioCallError)) throw err;
  if (err.code === 21422) throw new ConflictError("that number is no longer available: search again and pick another");
  if (err.code === 21421 || err.code === 21451 || err.code === 21452) throw new BadRequestError(err.message);
  if (err.status === 401 || err.status === 403) throw new HttpError(500, "config", `Twilio refused leadloop's credentials while trying to ${action}`);
  console.error(`[twilio-numbers] ${action}: Twilio answered ${err.status} ${err.code ?? ""} ${err.message}`);
  throw new HttpError(502, "twilio_failed", `Twilio could not ${action} right now; try again in a minute`);
}

export function createNumbersHandler(deps: NumbersDeps): Handler {
  const { db, twilio, webhooks } = deps;

  async function ownerOf(token: string, id: string) {
    const business = await db.ownedBusiness(token, id);
    if (!business) throw new ForbiddenError("only an owner of this business can manage its number");
    return business;
  }

  async function refuseTaken(id: string, phoneNumber: string, sid: string | null) {
    if (await db.numberTaken(id, phoneNumber, sid)) throw new ConflictError(`${phoneNumber} belongs to another business`);
  }

  /** Stores what Twilio confirmed; if that fails the number is the account's but not the business's yet: say how to finish. */
  async function store(id: string, phoneNumber: string, sid: string) {
    try {
      return await db.setSendingNumber(id, phoneNumber, sid);
    } catch (err) {
      if (err instanceof HttpError && err.status < 500) throw err;
      console.error(`[twilio-numbers] ${phoneNumber} (${sid}) is configured at Twilio but not stored for ${id}: ${(err as Error).message}`);
      throw new HttpError(502, "not_stored", `${phoneNumber} is yours at Twilio but could not be saved; connect it again with phone_number_sid ${sid}`);
    }
  }

  /**
   * The account's SMS-capable numbers this business may connect: not its current one, and none that
   * another business sends or sent from (listing those would show one tenant's numbers to another).
   */
  async function connectable(business: OwnedBusiness) {
    const { numbers, complete } = await twilio.listOwned().catch((err) => fromTwilio(err, "list the account's numbers"));
    const candidates = numbers.filter((n) =>
      n.capabilities.sms && n.phone_number !== business.twilio_number && n.sid !== business.twilio_number_sid
    );
    const taken = await db.takenNumbers(business.business_id, candidates.map((n) => ({ phone_number: n.phone_number, sid: n.sid })));
    return {
      numbers: candidates
        .filter((n) => !taken.has(n.phone_number))
        .sort((a, b) => a.phone_number.localeCompare(b.phone_number))
        .map((n) => ({ phone_number: n.phone_number, phone_number_sid: n.sid, friendly_name: n.friendly_name })),
      complete,
    };
  }

  function answer(stored: StoredNumber, friendlyName: string, status: number) {
    return json({
      business_id: stored.business_id,
      phone_number: stored.twilio_number,
      phone_number_sid: stored.twilio_number_sid,
      friendly_name: friendlyName,
      replaced: stored.previous_number ? { phone_number: stored.previous_number, phone_number_sid: stored.previous_sid } : null,
    }, status);
  }

  return withCors(withErrors("twilio-numbers", async (req) => {
    requireMethod(req, "GET", "POST");
    const token = bearerToken(req);
    if (!(await db.userOf(token))) throw new UnauthorizedError("sign in: the access token is not a signed-in user's");

    if (req.method === "GET") {
      const query = searchQuerySchema.parse(Object.fromEntries(new URL(req.url).searchParams));
      const business = await ownerOf(token, query.business_id);
      if (query.owned) return json({ business_id: business.business_id, ...(await connectable(business)) });
      const found = await twilio.searchLocal({ areaCode: query.area_code, limit: searchLimit }).catch((err) => fromTwilio(err, "search numbers"));
      return json({
        business_id: query.business_id,
        area_code: query.area_code ?? null,
        numbers: found.filter((n) => n.capabilities.sms).map((n) => ({
          phone_number: n.phone_number,
          friendly_name: n.friendly_name,
          locality: n.locality,
          region: n.region,
          postal_code: n.postal_code,
          iso_country: n.iso_country,
        })),
      });
    }

    const body = numberRequestSchema.parse(await readJsonBody(req));
    const business = await ownerOf(token, body.business_id);

    if (body.phone_number !== undefined) {
      if (business.twilio_number === body.phone_number && business.twilio_number_sid) {
        // Already this business's number (a second click): nothing to buy.
        const current = { business_id: business.business_id, twilio_number: business.twilio_number, twilio_number_sid: business.twilio_number_sid };
        return answer({ ...current, previous_number: null, previous_sid: null }, business.name, 200);
      }
      await refuseTaken(business.business_id, body.phone_number, null);
      const bought = await twilio.buy(body.phone_number, business.name.slice(0, 64), webhooks).catch((err) => fromTwilio(err, "buy the number"));
      return answer(await store(business.business_id, bought.phone_number, bought.sid), bought.friendly_name, 201);
    }

    const sid = body.phone_number_sid!;
    const owned = await twilio.fetch(sid).catch((err) => fromTwilio(err, "look up the number"));
    if (!owned) throw new NotFoundError(`the Twilio account has no number ${sid}`);
    if (!owned.capabilities.sms) throw new BadRequestError(`${owned.phone_number} cannot send text messages`);
    await refuseTaken(business.business_id, owned.phone_number, sid);
    const configured = await twilio.configure(sid, webhooks).catch((err) => fromTwilio(err, "configure the number"));
    return answer(await store(business.business_id, configured.phone_number, configured.sid), configured.friendly_name, 200);
  }));
}
