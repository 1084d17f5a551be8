import { createDeliverHandler } from "./handler.ts";
import { loadEnv, supabaseEnvSchema } from "../_shared/env.ts";
import { supabaseRawRpc } from "../_shared/rpc.ts";
import { webhookRpc } from "./rpc.ts";

const env = loadEnv(supabaseEnvSchema);
Deno.serve(createDeliverHandler({ rpc: webhookRpc(supabaseRawRpc(env)), serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY }));
