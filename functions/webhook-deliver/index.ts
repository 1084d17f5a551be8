import { createDeliverHandler } from "./handler.ts";
import { loadEnv, supabaseEnvSchema } from "../_shared/env.ts";
import { supabaseRawRpc } from "../_shared/rpc.ts";
import { serviceCredentialsFrom } from "../_shared/service-auth.ts";
import { webhookRpc } from "./rpc.ts";

const env = loadEnv(supabaseEnvSchema);
Deno.serve(createDeliverHandler({ rpc: webhookRpc(supabaseRawRpc(env)), credentials: serviceCredentialsFrom(env) }));
