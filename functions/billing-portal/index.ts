import { createPortalHandler } from "./handler.ts";
import { supabaseOwnerRpc } from "../_shared/billing.ts";
import { billingEnvSchema, loadEnv } from "../_shared/env.ts";
import { createStripe } from "../_shared/stripe.ts";

const env = loadEnv(billingEnvSchema);
Deno.serve(createPortalHandler({
  owner: (authorization) => supabaseOwnerRpc(env, authorization),
  stripe: createStripe(env),
  dashboardUrl: env.DASHBOARD_URL,
}));
