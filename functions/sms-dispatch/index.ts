import { createDispatchHandler } from "./handler.ts";
import { loadEnv, supabaseEnvSchema, twilioEnvSchema } from "../_shared/env.ts";
import { supabaseRpc } from "../_shared/rpc.ts";

Deno.serve(createDispatchHandler({ rpc: supabaseRpc(loadEnv(supabaseEnvSchema)), twilio: loadEnv(twilioEnvSchema) }));
