// The test business for Node tests and benchmarks: rows from the one SQL definition in
// fixtures.sql (which pgTAP can include too), an owner account through the Auth admin API,
// and the business's number bought on the Twilio emulator. Each call makes fresh ids and
// phone numbers, so tests never share state with each other or with the seed.
import { randomBytes, randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { createClient } from "@supabase/supabase-js";
import pg from "pg";
import WebSocket from "ws";
import { TwilioEmulatorControl } from "../../local/twilio/client.ts";
import type { Stack } from "./stack.ts";

const fixtureSql = readFileSync(new URL("./fixtures.sql", import.meta.url), "utf8");

/** What tests vary; everything left out takes the default written in fixtures.sql. */
export interface BusinessOptions {
  /** An auth user to add as the business's owner member. */
  owner?: string;
  name?: string;
  timezone?: string;
  quota?: number;
  origins?: string[];
  maxQuestions?: number;
  duplicateWindowMinutes?: number;
  leadsPerIpPerHour?: number;
  leadsPerHour?: number;
  /** false: the owner phone starts unconfirmed (its code is texted, owner alerts wait). */
  ownerPhoneVerified?: boolean;
  dailySmsCap?: number;
}

const parameterOf: Record<keyof BusinessOptions, string> = {
  owner: "p_owner",
  name: "p_name",
  timezone: "p_timezone",
  quota: "p_quota",
  origins: "p_origins",
  maxQuestions: "p_max_questions",
  duplicateWindowMinutes: "p_duplicate_window_minutes",
  leadsPerIpPerHour: "p_leads_per_ip_per_hour",
  leadsPerHour: "p_leads_per_hour",
  ownerPhoneVerified: "p_owner_phone_verified",
  dailySmsCap: "p_daily_sms_cap",
};

export interface TestBusiness {
  id: string;
  widgetId: string;
  name: string;
  ownerPhone: string;
  twilioNumber: string;
  /** A zone where it is early afternoon now (pg_temp.daytime_zone): submit leads with it as the zone their browser reported to have them texted at once. */
  leadTimezone: string;
}

/** Creates the business on `db` (committed unless the caller has a transaction open). */
export async function createBusiness(db: pg.ClientBase | pg.Pool, options: BusinessOptions = {}): Promise<TestBusiness> {
  // pg_temp functions live in one session: a pool lends one connection for both statements.
  const client = db instanceof pg.Pool ? await db.connect() : db;
  try {
    const given = Object.entries(options).filter(([, value]) => value !== undefined);
    const args = given.map(([key], i) => {
      const parameter = parameterOf[key as keyof BusinessOptions];
      if (!parameter) throw new Error(`createBusiness: unknown option ${key}`);
      return `${parameter} => $${i + 1}`;
    });
    await client.query(fixtureSql);
    const { rows } = await client.query<{ business_id: string; widget_id: string; name: string; owner_phone: string; twilio_number: string; lead_timezone: string }>(
      `select * from pg_temp.fixture_business(${args.join(", ")})`,
      given.map(([, value]) => value),
    );
    const row = rows[0];
    return {
      id: row.business_id,
      widgetId: row.widget_id,
      name: row.name,
      ownerPhone: row.owner_phone,
      twilioNumber: row.twilio_number,
      leadTimezone: row.lead_timezone,
    };
  } finally {
    if (client !== db) (client as pg.PoolClient).release();
  }
}

/** A zone (a place) where the local time now is nearest `local` ("02:00"): fixtures.sql's pg_temp.zone_where_it_is. */
export async function zoneWhereItIs(db: pg.ClientBase | pg.Pool, local: string): Promise<string> {
  const client = db instanceof pg.Pool ? await db.connect() : db;
  try {
    await client.query(fixtureSql);
    const { rows } = await client.query<{ zone: string }>("select pg_temp.zone_where_it_is($1::time) as zone", [local]);
    return rows[0].zone;
  } finally {
    if (client !== db) (client as pg.PoolClient).release();
  }
}

/**
 * Deletes the business and, through its cascades, everything under it. The cascade can deadlock with
 * work still in flight for the business (sms-dispatch marking its messages): the loser is retried.
 */
export async function deleteBusiness(db: pg.ClientBase | pg.Pool, businessId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.query("delete from public.businesses where id = $1", [businessId]);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "40P01" || attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** A US mobile number in a real area code, as fixtures.sql makes them (none in FL, OK or MD; never an N11, 555 or 976 exchange). */
export function randomPhone(): string {
  const areaCodes = ["212", "303", "312", "415", "512", "602", "617", "713", "206", "404"];
  let exchange = randomInt(200, 999);
  if (exchange % 100 === 11 || exchange === 555 || exchange === 976) exchange += 1;
  return `+1${areaCodes[randomInt(areaCodes.length)]}${exchange}${String(randomInt(10_000)).padStart(4, "0")}`;
}

export interface OwnerAccount {
  userId: string;
  email: string;
  password: string;
}

/** A confirmed account that can sign in with a password, made as an admin would (service role). */
export async function createOwnerAccount(stack: Stack): Promise<OwnerAccount> {
  const tag = randomBytes(4).toString("hex");
  const email = `owner-${tag}@fixtures.leadloop.test`;
  const password = `fixture-password-${tag}`;
  // Node 20 has no global WebSocket, which supabase-js needs at construction even when unused.
  const admin = createClient(stack.supabaseUrl, stack.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  const { data, error } = await admin.auth.admin.createUser({ email, password, email_confirm: true });
  if (error || !data.user) throw new Error(`creating the owner account failed: ${error?.message ?? "no user"}`);
  return { userId: data.user.id, email, password };
}

/**
 * Buys the business's number on the Twilio emulator, pointing its webhook at twilio-inbound:
 * without it every text from the business fails with 21606, as on a real account.
 */
/**
 * Makes the business's owner phone unconfirmed and texts its code, the way a new business starts. Call it
 * after registerTwilioNumber: a code sent from a number the emulator does not know yet fails for good
 * (21606), which is why fixtures create businesses confirmed and unconfirm them here.
 */
export async function unconfirmOwnerPhone(db: pg.ClientBase | pg.Pool, businessId: string): Promise<void> {
  await db.query("update public.businesses set owner_phone_verified_at = null where id = $1", [businessId]);
  await db.query("select private.start_owner_phone_verification($1)", [businessId]);
}

export async function registerTwilioNumber(stack: Stack, business: TestBusiness): Promise<void> {
  await new TwilioEmulatorControl(stack.twilioUrl.replace(/\/+$/, "")).configureNumber({
    phoneNumber: business.twilioNumber,
    smsUrl: `${stack.functionsUrl}/twilio-inbound`,
  });
}
