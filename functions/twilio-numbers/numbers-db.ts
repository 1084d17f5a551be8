// What twilio-numbers asks the database (supabase/migrations/*_sending_numbers.sql). Who the caller is
// and whether they own the business are answered with the caller's own JWT, so Auth and RLS decide;
// only after that does the service role ask whether a number is another business's and store it.
import { createClient } from "@supabase/supabase-js";
import { z } from "zod";
import type { Database } from "../_shared/database.types.ts";
import { ConflictError, NotFoundError, RpcError, zodMessage } from "../_shared/http.ts";

export const ownedBusinessSchema = z.object({
  business_id: z.string().uuid(),
  name: z.string(),
  twilio_number: z.string().nullable(),
  twilio_number_sid: z.string().nullable(),
});
export type OwnedBusiness = z.infer<typeof ownedBusinessSchema>;

export const storedNumberSchema = z.object({
  business_id: z.string().uuid(),
  twilio_number: z.string(),
  twilio_number_sid: z.string(),
  previous_number: z.string().nullable(),
  previous_sid: z.string().nullable(),
});
export type StoredNumber = z.infer<typeof storedNumberSchema>;

export interface NumbersDb {
  /** The signed-in user the access token belongs to, or null (no user: anon key, service key, expired, signed out). */
  userOf(accessToken: string): Promise<string | null>;
  /** The business, when the token's user owns it; null for staff, other owners and unknown businesses alike. */
  ownedBusiness(accessToken: string, businessId: string): Promise<OwnedBusiness | null>;
  /** Whether another business sends, or sent, from this number or SID. */
  numberTaken(businessId: string, phoneNumber: string, sid: string | null): Promise<boolean>;
  /** Of these numbers (with their SIDs), the ones another business sends or sent from. */
  takenNumbers(businessId: string, numbers: { phone_number: string; sid: string }[]): Promise<Set<string>>;
  /** Makes the number the business's; ConflictError when another business holds it. */
  setSendingNumber(businessId: string, phoneNumber: string, sid: string): Promise<StoredNumber>;
}

export interface NumbersDbEnv {
  SUPABASE_URL: string;
  SUPABASE_ANON_KEY: string;
  SUPABASE_SERVICE_ROLE_KEY: string;
}

function parse<S extends z.ZodTypeAny>(rpc: string, schema: S, data: unknown): z.output<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw new RpcError(rpc, `unexpected result: ${zodMessage(r.error)}`);
  return r.data;
}

export function supabaseNumbersDb(env: NumbersDbEnv): NumbersDb {
  const options = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };
  const anon = createClient<Database>(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, options);
  const service = createClient<Database>(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY, options);
  const asUser = (accessToken: string) =>
    createClient<Database>(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
      ...options,
      global: { headers: { Authorization: `Bearer ${accessToken}` } },
    });

  return {
    async userOf(accessToken) {
      // Auth checks the token and its session, not just the signature the gateway already checked.
      const { data, error } = await anon.auth.getUser(accessToken);
      if (error || !data.user) return null;
      return data.user.id;
    },
    async ownedBusiness(accessToken, businessId) {
      const { data, error } = await asUser(accessToken).rpc("business_sending_number", { p_business_id: businessId });
      if (error) throw new RpcError("business_sending_number", `${error.code ?? ""} ${error.message}`.trim());
      const rows = parse("business_sending_number", z.array(ownedBusinessSchema), data ?? []);
      return rows[0] ?? null;
    },
    async numberTaken(businessId, phoneNumber, sid) {
      const { data, error } = await service.rpc("sending_number_taken", {
        p_business_id: businessId,
        p_phone_number: phoneNumber,
        ...(sid === null ? {} : { p_sid: sid }),
      });
      if (error) throw new RpcError("sending_number_taken", `${error.code ?? ""} ${error.message}`.trim());
      return parse("sending_number_taken", z.boolean(), data);
    },
    async takenNumbers(businessId, numbers) {
      if (numbers.length === 0) return new Set();
      const { data, error } = await service.rpc("sending_numbers_taken", {
        p_business_id: businessId,
        p_phone_numbers: numbers.map((n) => n.phone_number),
        p_sids: numbers.map((n) => n.sid),
      });
      if (error) throw new RpcError("sending_numbers_taken", `${error.code ?? ""} ${error.message}`.trim());
      return new Set(parse("sending_numbers_taken", z.array(z.string()), data ?? []));
    },
    async setSendingNumber(businessId, phoneNumber, sid) {
      const { data, error } = await service.rpc("set_business_sending_number", {
        p_business_id: businessId,
        p_phone_number: phoneNumber,
        p_sid: sid,
      });
      if (error?.code === "23505") throw new ConflictError(`${phoneNumber} belongs to another business`);
      if (error?.code === "P0002") throw new NotFoundError("the business no longer exists");
      if (error) throw new RpcError("set_business_sending_number", `${error.code ?? ""} ${error.message}`.trim());
      return parse("set_business_sending_number", storedNumberSchema, data);
    },
  };
}
