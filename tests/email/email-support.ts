// Shared setup for the email tests: a business (tests/loop's fixture, texting on the emulator) with an owner
// and a staff member who are real accounts, each choosing their email preferences through the API with their
// own session, exactly as the dashboard does; and the mail catcher's inbox.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import ws from "ws";
import { Inbox } from "../../local/mail/inbox.ts";
import { createOwnerAccount, type OwnerAccount } from "../support/fixtures.ts";
import { createBusiness, db, deleteBusiness, stack, type TestBusiness } from "../loop/loop-support.ts";

export const inbox = new Inbox(stack.mailUrl);

export interface Member extends OwnerAccount {
  client: SupabaseClient;
}

export interface EmailBusiness {
  business: TestBusiness;
  owner: Member;
  secondOwner: Member;
  staff: Member;
}

async function signedIn(account: OwnerAccount): Promise<Member> {
  const client = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as never },
  });
  const { error } = await client.auth.signInWithPassword({ email: account.email, password: account.password });
  if (error) throw new Error(`sign-in failed: ${error.message}`);
  return { ...account, client };
}

const made: EmailBusiness[] = [];

/** A business with two owners and a staff member, all with confirmed addresses and every email choice off. */
export async function emailBusiness(): Promise<EmailBusiness> {
  const [owner, secondOwner, staff] = await Promise.all([createOwnerAccount(stack), createOwnerAccount(stack), createOwnerAccount(stack)]);
  const business = await createBusiness({ name: `Mail Test Plumbing ${owner.userId.slice(0, 6)}` });
  await db().query(
    `insert into public.business_members (business_id, user_id, role) values ($1, $2, 'owner'), ($1, $3, 'owner'), ($1, $4, 'staff')`,
    [business.id, owner.userId, secondOwner.userId, staff.userId],
  );
  const result = { business, owner: await signedIn(owner), secondOwner: await signedIn(secondOwner), staff: await signedIn(staff) };
  made.push(result);
  return result;
}

/** Turns the member's own choices on through the API (RLS: their own row), as the dashboard does. */
export async function choose(member: Member, businessId: string, choice: { lead_alerts?: boolean; summaries?: boolean }): Promise<void> {
  const { error } = await member.client.from("email_preferences")
    .upsert({ business_id: businessId, user_id: member.userId, lead_alerts: false, summaries: false, ...choice }, { onConflict: "business_id,user_id" });
  if (error) throw new Error(`saving email preferences failed: ${error.message}`);
}

export async function cleanUp(): Promise<void> {
  for (const m of made) await deleteBusiness(m.business);
}

/** The outbox rows of a business (the database's record of what was sent to whom). */
export async function outboxOf(businessId: string) {
  const { rows } = await db().query<{ to_address: string; template: string; status: string; attempts: number; last_error: string | null }>(
    "select to_address, template, status, attempts, last_error from private.email_outbox where business_id = $1 order by created_at",
    [businessId],
  );
  return rows;
}

/** HTML attribute values as a mail client reads them. */
export function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1].replace(/&amp;/g, "&"));
}
