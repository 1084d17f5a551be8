// Shared setup for the "working a lead" integration tests: a business on the emulator with a
// signed-in owner (a real account, the dashboard's client), and leads submitted as the widget does.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import ws from "ws";
import type { Database } from "../../functions/_shared/database.types.ts";
import { createBusiness as createFixtureBusiness, createOwnerAccount, registerTwilioNumber } from "../support/fixtures.ts";
import { db, origin, randomPhone, stack, submitLead, type TestBusiness, waitForReceived } from "../loop/loop-support.ts";

export interface OwnedBusiness extends TestBusiness {
  ownerId: string;
  /** The owner's dashboard client (signed in with the anon key, RLS applies). */
  owner: SupabaseClient<Database>;
}

export async function ownedBusiness(): Promise<OwnedBusiness> {
  const account = await createOwnerAccount(stack);
  const business = await createFixtureBusiness(db(), {
    owner: account.userId, origins: [origin], duplicateWindowMinutes: 0, quota: 1000, leadsPerHour: 10_000,
  });
  await registerTwilioNumber(stack, business);
  const owner = createClient<Database>(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
  const { error } = await owner.auth.signInWithPassword({ email: account.email, password: account.password });
  if (error) throw new Error(`owner sign-in failed: ${error.message}`);
  return { ...business, ownerId: account.userId, owner };
}

/** Submits a lead and waits for its text-back; returns the lead's phone and id. */
export async function leadWithTextBack(b: TestBusiness, name = "Maria Lopez", message = "Water heater is leaking in the garage") {
  const phone = randomPhone();
  await submitLead(b, { name, phone, message });
  await waitForReceived(phone, 1);
  const { rows } = await db().query<{ id: string }>("select id from public.leads where business_id = $1 and phone = $2", [b.id, phone]);
  return { phone, leadId: rows[0].id };
}
