import { createSummarizeHandler } from "./handler.ts";
import { llmConfigFrom, loadEnv, summarizerEnvSchema, supabaseEnvSchema } from "../_shared/env.ts";
import { supabaseRpc } from "../_shared/rpc.ts";

Deno.serve(
  createSummarizeHandler({ rpc: supabaseRpc(loadEnv(supabaseEnvSchema)), llm: llmConfigFrom(loadEnv(summarizerEnvSchema)) }),
);
