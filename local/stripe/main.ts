// Starts the Stripe emulator for one local instance on port base + 7 (what the stack will run).
import { join } from "node:path";
import { instanceConfig } from "../config.ts";
import { localStripeKeys } from "./keys.ts";
import { startStripeEmulator } from "./server.ts";

const config = instanceConfig();
// config.ports.stripe is base + 7; read through `in` until InstanceConfig's type lists it.
const port = config.ports.stripe;
const webhookUrl = process.env.STRIPE_EMULATOR_WEBHOOK_URL;
const emulator = await startStripeEmulator({
  port,
  host: process.env.STRIPE_EMULATOR_HOST ?? "127.0.0.1",
  publicUrl: process.env.STRIPE_EMULATOR_PUBLIC_URL,
  stateFile: join(config.stateDir, "stripe-emulator.json"),
  webhookEndpoint: webhookUrl ? { url: webhookUrl, secret: localStripeKeys.webhookSecret } : undefined,
  log: (line) => console.log(line),
});
console.log(`stripe emulator (${config.name}): API ${emulator.url}/v1  control ${emulator.url}/emulator/info`);

const shutdown = (signal: string) => {
  console.log(`stripe emulator: ${signal}, closing`);
  void emulator.close().then(() => process.exit(0));
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
