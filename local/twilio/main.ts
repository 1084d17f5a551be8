// Starts the Twilio emulator for one local instance (what `npm start` runs for the orchestrator).
import { instanceConfig } from "../config.ts";
import { startTwilioEmulator } from "./server.ts";

const config = instanceConfig();
const deliveryDelayMs = process.env.TWILIO_EMULATOR_DELIVERY_DELAY_MS;
if (deliveryDelayMs !== undefined && !/^\d+$/.test(deliveryDelayMs)) {
  throw new Error(`TWILIO_EMULATOR_DELIVERY_DELAY_MS must be a whole number of milliseconds, got "${deliveryDelayMs}"`);
}
const emulator = await startTwilioEmulator({
  port: config.ports.twilio,
  host: process.env.TWILIO_EMULATOR_HOST ?? "127.0.0.1",
  accountSid: config.twilio.accountSid,
  authToken: config.twilio.authToken,
  publicUrl: process.env.TWILIO_EMULATOR_PUBLIC_URL,
  deliveryDelayMs: deliveryDelayMs === undefined ? undefined : Number(deliveryDelayMs),
  log: (line) => console.log(line),
});
console.log(`twilio emulator (${config.name}): API ${emulator.url}  phone page ${emulator.url}/phone`);

const shutdown = (signal: string) => {
  console.log(`twilio emulator: ${signal}, closing`);
  void emulator.close().then(() => process.exit(0));
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
