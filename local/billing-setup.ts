// Stripe for one local instance, as an operator sets up a real account: the emulator (port base + 7),
// one recurring price per sold plan of public.plans (found by its lookup key, so starting twice
// changes nothing), and the webhook endpoint pointed at the stack's stripe-webhook function.
import pg from "pg";
import type Stripe from "stripe";
import type { InstanceConfig } from "./config.ts";
import { emulatorStripeClient, StripeEmulatorControl } from "./stripe/client.ts";
import { localStripeKeys } from "./stripe/keys.ts";
import { startStripeEmulator, type StripeEmulator } from "./stripe/server.ts";

export interface PlanPrice {
  id: string;
  name: string;
  stripe_lookup_key: string;
  price_cents: number;
  currency: string;
  billing_interval: "month" | "year";
}

export interface LocalStripe {
  emulator: StripeEmulator;
  webhookSecret: string;
  /** Registers the webhook endpoint and creates the plans' prices (once the functions are reachable). */
  connect(webhookUrl: string): Promise<void>;
  close(): Promise<void>;
}

async function query<T extends pg.QueryResultRow>(dbUrl: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Starts the emulator with its state in `stateFile`: the stack keeps it beside the database, so the
 * customer and subscription ids stored there stay valid across restarts and are wiped with it.
 */
export async function startLocalStripe(config: InstanceConfig, stateFile: string, log: (line: string) => void): Promise<LocalStripe> {
  const emulator = await startStripeEmulator({ port: config.ports.stripe, stateFile, log });
  const webhookSecret = localStripeKeys.webhookSecret;
  return {
    emulator,
    webhookSecret,
    async connect(webhookUrl) {
      // Every event, as a new endpoint at Stripe gets: the function acknowledges those it does not need.
      await new StripeEmulatorControl(emulator.url).addWebhookEndpoint({ url: webhookUrl, secret: webhookSecret, description: "leadloop stripe-webhook" });
      const plans = await query<PlanPrice>(config.dbUrl,
        `select id, name, stripe_lookup_key, price_cents, currency, billing_interval
           from public.plans where active and stripe_lookup_key is not null order by sort_order, id`);
      await syncPlanPrices(emulatorStripeClient(emulator.url, emulator.secretKey), plans);
    },
    close: () => emulator.close(),
  };
}

/**
 * Makes Stripe sell each plan at its price: a price already under the plan's lookup key with the same
 * amount, currency and interval is kept; otherwise a new one takes the lookup key over and the old one
 * is archived (Stripe prices cannot change their amount), so checkout and the portal offer the table's prices.
 */
export async function syncPlanPrices(stripe: Stripe, plans: PlanPrice[]): Promise<{ created: string[]; kept: string[] }> {
  const created: string[] = [];
  const kept: string[] = [];
  for (const plan of plans) {
    const [existing] = (await stripe.prices.list({ lookup_keys: [plan.stripe_lookup_key], limit: 1 })).data;
    const productId = existing ? (typeof existing.product === "string" ? existing.product : existing.product.id) : null;
    if (productId) await stripe.products.update(productId, { name: plan.name, metadata: { plan_id: plan.id } });
    if (existing && existing.active && existing.unit_amount === plan.price_cents && existing.currency === plan.currency &&
        existing.recurring?.interval === plan.billing_interval) {
      kept.push(plan.stripe_lookup_key);
      continue;
    }
    await stripe.prices.create({
      currency: plan.currency,
      unit_amount: plan.price_cents,
      recurring: { interval: plan.billing_interval },
      lookup_key: plan.stripe_lookup_key,
      transfer_lookup_key: true,
      metadata: { plan_id: plan.id },
      ...(productId ? { product: productId } : { product_data: { name: plan.name, metadata: { plan_id: plan.id } } }),
    });
    if (existing?.active) await stripe.prices.update(existing.id, { active: false });
    created.push(plan.stripe_lookup_key);
  }
  return { created, kept };
}
