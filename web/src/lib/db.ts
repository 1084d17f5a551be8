import { createClient, FunctionsHttpError, type SupabaseClient } from "@supabase/supabase-js";
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

/** An edge function's failure: its own message (it says what to do), else what supabase-js knows. */
export async function functionError(error: unknown, context: string): Promise<Error> {
  if (error instanceof FunctionsHttpError) {
    try {
      const body = await (error.context as Response).json() as { message?: string };
      if (body.message) return new Error(`${context}: ${body.message}`);
    } catch {
      // not JSON: fall through
    }
  }
  return new Error(`${context}: ${(error as Error)?.message ?? "unknown error"}`);
}
