import { z } from "zod";
import { createExportHandler } from "./handler.ts";
import { memberExportSource } from "./source.ts";
import { loadEnv } from "../_shared/env.ts";

const env = loadEnv(z.object({ SUPABASE_URL: z.string().url(), SUPABASE_ANON_KEY: z.string().min(1) }));
Deno.serve(createExportHandler({ source: (authorization) => memberExportSource(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, authorization) }));
