// Brings one instance of the whole local system up: database, Twilio and Stripe emulators, optional
// LLM fake, the Supabase-compatible gateway (REST, Auth, Realtime, Functions, pg_net worker) and
// the dashboard/widget server. Used by `npm start` (instance dev) and `npm test` (instance test).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type LocalStripe, startLocalStripe } from "./billing-setup.ts";
import type { InstanceConfig } from "./config.ts";
import { projectRoot } from "./config.ts";
import { dataDirectory, prepareDatabase } from "./db/cluster.ts";
import { demo } from "./demo.ts";
import { startGateway } from "./gateway/server.ts";
import { startLlmFake } from "./llm-fake/server.ts";
import { startMailCatcher } from "./mail/catcher.ts";
import { TwilioEmulatorControl } from "./twilio/client.ts";
import { startTwilioEmulator } from "./twilio/server.ts";
import { startWebServer } from "./web-server.ts";

export interface StackOptions {
  /** Wipe the cluster first (tests start from nothing). */
  reset?: boolean;
  /** Point the summarizer at the local OpenAI-compatible fake instead of the built-in extractor. */
  useLlmFake?: boolean;
}

export interface RunningStack {
  info: Record<string, unknown>;
  stop(): Promise<void>;
}

function log(message: string): void {
  process.stderr.write(`[stack] ${message}\n`);
}

/** Newest modification time of the files under the given paths (dist and node_modules skipped). */
function newestMtime(paths: string[]): number {
  let newest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (!stat.isDirectory()) newest = Math.max(newest, stat.mtimeMs);
    else for (const entry of readdirSync(path)) {
      if (entry !== "dist" && entry !== "node_modules") newest = Math.max(newest, newestMtime([join(path, entry)]));
    }
  }
  return newest;
}

/**
 * Builds the dashboard and the widget bundle when their output is missing or older than any of their
 * sources (a pull or a branch switch must never leave an old bundle in front of a new database).
 */
export function ensureFrontendBuilt(): void {
  const shared = [join(projectRoot, "functions", "_shared", "database.types.ts"), join(projectRoot, "package-lock.json")];
  const builds: Array<[string, string, string[]]> = [
    ["build:web", join(projectRoot, "web", "dist", "index.html"), [join(projectRoot, "web"), join(projectRoot, "widget", "phone-metadata.ts"), ...shared]],
    ["build:widget", join(projectRoot, "widget", "dist", "leadloop-widget.js"), [join(projectRoot, "widget"), ...shared]],
  ];
  for (const [script, output, sources] of builds) {
    const fresh = existsSync(output) && statSync(output).mtimeMs >= newestMtime(sources);
    if (fresh && !process.env.LEADLOOP_REBUILD) continue;
    log(`npm run ${script}`);
    const result = spawnSync("npm", ["run", "--silent", script], { cwd: projectRoot, stdio: "inherit" });
    if (result.status !== 0) throw new Error(`npm run ${script} failed`);
  }
}

/** Where the functions runner keeps Deno's module cache (its default). */
export const denoDir = join(projectRoot, ".local", "deno-dir");

/** For every Deno command run from here: the shared cache, and the host's CA store for npm downloads. */
export const denoEnvironment = {
  DENO_DIR: denoDir,
  DENO_TLS_CA_STORE: process.env.DENO_TLS_CA_STORE ?? "system,mozilla",
  NO_COLOR: "1",
};

/**
 * Downloads the functions' npm: dependencies once, with this process's environment (proxy and
 * CA settings included), before the runner starts each function with only Supabase's variables.
 */
export function cacheFunctionDependencies(): void {
  const entrypoints = readdirSync(join(projectRoot, "functions"))
    .map((name) => join("functions", name, "index.ts"))
    .filter((path) => existsSync(join(projectRoot, path)));
  const deno = join(projectRoot, "node_modules", ".bin", "deno");
  const result = spawnSync(deno, ["cache", "--quiet", "--config", "functions/deno.json", ...entrypoints], {
    cwd: projectRoot,
    stdio: "inherit",
    env: { ...process.env, ...denoEnvironment },
  });
  if (result.status !== 0) throw new Error("could not download the edge functions' dependencies (deno cache failed)");
}

/** Where the dashboard is served (web-server.ts on the dashboard port). */
function dashboardUrl(config: InstanceConfig): string {
  return `http://127.0.0.1:${config.ports.dashboard}`;
}

function writeFunctionsEnv(config: InstanceConfig, twilioUrl: string, llmUrl: string | null, stripe: LocalStripe): void {
  const settings: Record<string, string> = {
    // --- Stripe (local/billing-setup.ts) ---
    STRIPE_SECRET_KEY: stripe.emulator.secretKey,
    STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
    STRIPE_API_BASE_URL: stripe.emulator.url,
    DASHBOARD_URL: dashboardUrl(config),
    // ---
    TWILIO_ACCOUNT_SID: config.twilio.accountSid,
    TWILIO_AUTH_TOKEN: config.twilio.authToken,
    TWILIO_API_BASE_URL: twilioUrl,
    TWILIO_WEBHOOK_BASE_URL: `${config.supabaseUrl}/functions/v1`,
    SUMMARIZER_LLM_URL: llmUrl ?? "",
    SUMMARIZER_LLM_MODEL: llmUrl ? "leadloop-fake" : "",
    SUMMARIZER_LLM_API_KEY: llmUrl ? "local-fake-key" : "",
    // send-email: the mail catcher's SMTP (no TLS, no login), as Supabase's own local stack does for Auth.
    MAIL_SMTP_URL: `smtp://127.0.0.1:${config.ports.smtp}?starttls=never`,
    MAIL_FROM: "leadloop <alerts@leadloop.localhost>",
  };
  const text = Object.entries(settings).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
  writeFileSync(config.functionsEnvFile, text);
}

/**
 * The demo business's number is one the Twilio account already had; its owner connects it the way any
 * owner connects a number (twilio-numbers, through the gateway), which sets its webhooks, retry
 * overrides and fallback from the one place that writes them. Also labels the owner's handset.
 */
async function connectDemoNumber(config: InstanceConfig, emulator: TwilioEmulatorControl, functionsUrl: string): Promise<void> {
  const owned = (await emulator.numbers()).find((n) => n.phoneNumber === demo.twilioNumber);
  const number = owned ?? (await emulator.configureNumber({ phoneNumber: demo.twilioNumber, smsUrl: null, friendlyName: "Demo Plumbing Co" }));
  const apikey = config.keys.anonKey;
  const signIn = await fetch(`${config.supabaseUrl}/auth/v1/token?grant_type=password`, {
    method: "POST",
    headers: { apikey, "content-type": "application/json" },
    body: JSON.stringify({ email: demo.email, password: demo.password }),
  });
  const session = (await signIn.json()) as { access_token?: string };
  if (!signIn.ok || !session.access_token) throw new Error(`the demo owner could not sign in (${signIn.status}): ${JSON.stringify(session)}`);
  const connect = await fetch(`${functionsUrl}/twilio-numbers`, {
    method: "POST",
    headers: { apikey, authorization: `Bearer ${session.access_token}`, "content-type": "application/json" },
    body: JSON.stringify({ business_id: demo.businessId, phone_number_sid: number.sid }),
  });
  if (!connect.ok) throw new Error(`connecting the demo number failed (${connect.status}): ${await connect.text()}`);
  await emulator.setPhone({ phone: demo.ownerPhone, lineType: "mobile", label: "Owner (Demo Plumbing Co)" });
}

export async function startStack(config: InstanceConfig, options: StackOptions = {}): Promise<RunningStack> {
  mkdirSync(config.stateDir, { recursive: true });
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopOne of stoppers.reverse()) await stopOne().catch((e) => log(`stop: ${(e as Error).message}`));
  };
  try {
    await prepareDatabase(config, { reset: options.reset, seed: true });

    const twilio = await startTwilioEmulator({
      port: config.ports.twilio,
      accountSid: config.twilio.accountSid,
      authToken: config.twilio.authToken,
      // The account's numbers live beside the database that names them, and are wiped with it.
      numbersFile: join(dataDirectory(config), "..", "twilio-numbers.json"),
    });
    stoppers.push(() => twilio.close());

    // --- Stripe: the emulator now (the functions' env names it), its endpoint and prices once the gateway runs ---
    const stripe = await startLocalStripe(config, join(dataDirectory(config), "..", "stripe-emulator.json"), log);
    stoppers.push(() => stripe.close());
    // ---

    let llmUrl: string | null = null;
    if (options.useLlmFake) {
      const llm = await startLlmFake({ port: config.ports.llm, mode: "ok" });
      stoppers.push(() => llm.close());
      llmUrl = llm.url;
    }
    writeFunctionsEnv(config, twilio.url, llmUrl, stripe);

    // Mail catcher (maildev): Auth's SMTP target and the inbox people and tests read.
    const mail = await startMailCatcher({
      webPort: config.ports.mail,
      smtpPort: config.ports.smtp,
      mailDirectory: join(config.stateDir, "mail"),
      reset: options.reset,
    });
    stoppers.push(() => mail.close());

    cacheFunctionDependencies();
    const gateway = await startGateway({ config, port: config.ports.gateway, prestartFunctions: true });
    stoppers.push(() => gateway.close());

    const functionsUrl = `${config.supabaseUrl}/functions/v1`;
    await connectDemoNumber(config, new TwilioEmulatorControl(twilio.url), functionsUrl);
    await stripe.connect(`${functionsUrl}/stripe-webhook`);

    ensureFrontendBuilt();
    const web = await startWebServer({
      port: config.ports.dashboard,
      webDist: join(projectRoot, "web", "dist"),
      widgetDist: join(projectRoot, "widget", "dist"),
      widgetDemoDir: join(projectRoot, "widget", "demo"),
      runtime: { supabaseUrl: config.supabaseUrl, supabaseAnonKey: config.keys.anonKey, widgetId: demo.widgetId },
    });
    stoppers.push(() => web.close());

    const info = {
      instance: config.name,
      supabaseUrl: config.supabaseUrl,
      functionsUrl,
      anonKey: config.keys.anonKey,
      serviceRoleKey: config.keys.serviceRoleKey,
      publishableKey: config.keys.publishableKey,
      secretKey: config.keys.secretKey,
      jwtSecret: config.keys.jwtSecret,
      dbUrl: config.dbUrl,
      dashboardUrl: `${web.url}/`,
      widgetDemoUrl: `${web.url}/widget-demo.html`,
      phoneUrl: `${twilio.url}/phone`,
      twilioUrl: twilio.url,
      mailUrl: mail.url,
      smtp: mail.smtp,
      ...(llmUrl ? { llmUrl } : {}),
      twilio: { ...config.twilio },
      stripe: {
        apiUrl: stripe.emulator.url,
        webhookSecret: stripe.webhookSecret,
        secretKey: stripe.emulator.secretKey,
        publishableKey: stripe.emulator.publishableKey,
        // Hosted Checkout and portal pages live on the emulator (a real account: checkout.stripe.com, billing.stripe.com).
        checkoutOrigin: new URL(stripe.emulator.url).origin,
      },
      demo: {
        email: demo.email,
        password: demo.password,
        businessId: demo.businessId,
        widgetId: demo.widgetId,
        ownerPhone: demo.ownerPhone,
        twilioNumber: demo.twilioNumber,
      },
    };
    writeFileSync(config.stackFile, JSON.stringify(info, null, 2) + "\n");
    return { info, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
