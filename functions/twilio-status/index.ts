import { createStatusHandler } from "./handler.ts";
import { loadEnv, supabaseEnvSchema, twilioWebhookEnvSchema } from "../_shared/env.ts";
import { supabaseRpc } from "../_shared/rpc.ts";

Deno.serve(createStatusHandler({ rpc: supabaseRpc(loadEnv(supabaseEnvSchema)), env: loadEnv(twilioWebhookEnvSchema) }));
