import { createNumbersHandler } from "./handler.ts";
import { loadEnv, supabaseEnvSchema, twilioEnvSchema } from "../_shared/env.ts";
import { supabaseNumbersDb } from "./numbers-db.ts";
import { twilioNumbersApi } from "./twilio-numbers-api.ts";
import { numberWebhooks } from "./webhook-urls.ts";
import { z } from "zod";

const env = loadEnv(supabaseEnvSchema.extend({ SUPABASE_ANON_KEY: z.string().min(1) }).merge(twilioEnvSchema));

Deno.serve(createNumbersHandler({
  db: supabaseNumbersDb(env),
  twilio: twilioNumbersApi(env),
  webhooks: numberWebhooks(env.TWILIO_WEBHOOK_BASE_URL),
}));
