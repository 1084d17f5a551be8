import { loadEnv, mailEnvSchema } from "../_shared/env.ts";
import { supabaseRawRpc } from "../_shared/rpc.ts";
import { serviceCredentialsFrom } from "../_shared/service-auth.ts";
import { createSendEmailHandler } from "./handler.ts";
import { mailerFromEnv } from "./provider.ts";
import { emailRpc } from "./rpc.ts";

const env = loadEnv(mailEnvSchema);
Deno.serve(createSendEmailHandler({
  rpc: emailRpc(supabaseRawRpc(env)),
  mailer: mailerFromEnv(env),
  credentials: serviceCredentialsFrom(env),
}));
