import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { Database } from "../../../functions/_shared/database.types.ts";
import type { RuntimeConfig } from "./runtimeConfig.ts";

export type Db = SupabaseClient<Database>;

export function createDb(config: RuntimeConfig): Db {
  return createClient<Database>(config.supabaseUrl, config.supabaseAnonKey, {
    auth: { persistSession: true, autoRefreshToken: true, storageKey: "leadloop-dashboard-auth" },
  });
}

/** Supabase errors are plain objects; make them throwable so react-query shows their message. */
export function toError(error: { message: string; code?: string } | null, context: string): Error {
  return new Error(`${context}: ${error?.message ?? "unknown error"}${error?.code ? ` (${error.code})` : ""}`);
}
