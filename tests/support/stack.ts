// What an integration test needs to reach the running stack: the stack.json that `npm start`
// (instance dev) or the test runner (instance test) writes, for the instance in LEADLOOP_INSTANCE.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { instanceConfig } from "../../local/config.ts";

export const stackSchema = z.object({
  instance: z.string(),
  supabaseUrl: z.string().url(),
  anonKey: z.string(),
  serviceRoleKey: z.string(),
  publishableKey: z.string(),
  secretKey: z.string(),
  jwtSecret: z.string(),
  dbUrl: z.string(),
  dashboardUrl: z.string().url().optional(),
  widgetDemoUrl: z.string().url().optional(),
  phoneUrl: z.string().url(),
  twilioUrl: z.string().url(),
  /** The mail catcher's inbox and REST API (maildev: `GET /api/email`). */
  mailUrl: z.string().url(),
  smtp: z.object({ host: z.string(), port: z.number().int() }),
  llmUrl: z.string().url().optional(),
  twilio: z.object({ accountSid: z.string(), authToken: z.string() }),
  stripe: z.object({
    apiUrl: z.string().url(),
    webhookSecret: z.string().startsWith("whsec_"),
    secretKey: z.string().startsWith("sk_"),
    publishableKey: z.string().startsWith("pk_"),
    /** Where hosted Checkout and portal pages are served (the emulator). */
    checkoutOrigin: z.string().url(),
  }),
  functionsUrl: z.string().url(),
  demo: z.object({
    email: z.string(),
    password: z.string(),
    businessId: z.string().uuid(),
    widgetId: z.string().uuid(),
    ownerPhone: z.string(),
    twilioNumber: z.string(),
  }),
});
export type Stack = z.infer<typeof stackSchema>;

export function loadStack(instance = process.env.LEADLOOP_INSTANCE ?? "test"): Stack {
  const file = process.env.LEADLOOP_STACK_FILE ?? instanceConfig(instance).stackFile;
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch {
    throw new Error(`no running stack: ${file} is missing (start it with npm start, or run npm test)`);
  }
  return stackSchema.parse(JSON.parse(raw));
}
