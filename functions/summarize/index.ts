import { createSummarizeHandler } from "./handler.ts";
import { llmConfigFrom, loadEnv, summarizerEnvSchema, supabaseEnvSchema } from "../_shared/env.ts";
import { supabaseRpc } from "../_shared/rpc.ts";
import { serviceCredentialsFrom } from "../_shared/service-auth.ts";

const supabase = loadEnv(supabaseEnvSchema);
Deno.serve(
  createSummarizeHandler({
    rpc: supabaseRpc(supabase),
    credentials: serviceCredentialsFrom(supabase),
    llm: llmConfigFrom(loadEnv(summarizerEnvSchema)),
  }),
);
