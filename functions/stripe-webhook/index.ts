import { createWebhookHandler } from "./handler.ts";
import { supabaseServiceBillingRpc } from "../_shared/billing.ts";
import { loadEnv, stripeWebhookEnvSchema } from "../_shared/env.ts";
import { createStripe } from "../_shared/stripe.ts";

const env = loadEnv(stripeWebhookEnvSchema);
Deno.serve(createWebhookHandler({ service: supabaseServiceBillingRpc(env), stripe: createStripe(env), webhookSecret: env.STRIPE_WEBHOOK_SECRET }));
