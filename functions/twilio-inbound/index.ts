import { createInboundHandler } from "./handler.ts";
import { loadEnv, supabaseEnvSchema, twilioWebhookEnvSchema } from "../_shared/env.ts";
import { supabaseRpc } from "../_shared/rpc.ts";

Deno.serve(createInboundHandler({ rpc: supabaseRpc(loadEnv(supabaseEnvSchema)), env: loadEnv(twilioWebhookEnvSchema) }));
