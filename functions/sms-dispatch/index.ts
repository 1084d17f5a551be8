import { createDispatchHandler } from "./handler.ts";
import { loadEnv, supabaseEnvSchema, twilioEnvSchema } from "../_shared/env.ts";
import { supabaseRpc } from "../_shared/rpc.ts";
import { serviceCredentialsFrom } from "../_shared/service-auth.ts";

const supabase = loadEnv(supabaseEnvSchema);
Deno.serve(createDispatchHandler({ rpc: supabaseRpc(supabase), credentials: serviceCredentialsFrom(supabase), twilio: loadEnv(twilioEnvSchema) }));
