import { createCheckoutHandler } from "./handler.ts";
import { supabaseOwnerRpc, supabaseServiceBillingRpc } from "../_shared/billing.ts";
import { billingEnvSchema, loadEnv } from "../_shared/env.ts";
import { createStripe } from "../_shared/stripe.ts";

const env = loadEnv(billingEnvSchema);
Deno.serve(createCheckoutHandler({
  owner: (authorization) => supabaseOwnerRpc(env, authorization),
  service: supabaseServiceBillingRpc(env),
  stripe: createStripe(env),
  dashboardUrl: env.DASHBOARD_URL,
}));
