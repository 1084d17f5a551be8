// `npm start`: the whole system in the foreground for the dev instance, until Ctrl-C.
import { instanceConfig } from "./config.ts";
import { stopCluster } from "./db/cluster.ts";
import { startStack } from "./stack.ts";

const config = instanceConfig();
const stack = await startStack(config, { reset: process.argv.includes("--reset"), useLlmFake: process.argv.includes("--llm-fake") });
const info = stack.info as Record<string, any>;

console.log(`
leadloop is running (instance "${config.name}")

  Dashboard      ${info.dashboardUrl}
                 sign in as ${info.demo.email} / ${info.demo.password}
  Widget demo    ${info.widgetDemoUrl}
  Phone page     ${info.phoneUrl}   (owner ${info.demo.ownerPhone}, Twilio number ${info.demo.twilioNumber})
  Mail inbox     ${info.mailUrl}   (Auth's and leadloop's mail; SMTP ${info.smtp.host}:${info.smtp.port})
  Supabase API   ${info.supabaseUrl}   (REST /rest/v1, Auth /auth/v1, Realtime /realtime/v1, Functions /functions/v1)
  Twilio API     ${info.twilioUrl}   (account ${info.twilio.accountSid})
  Stripe API     ${info.stripe.apiUrl}   (emulator: ${info.stripe.apiUrl}/emulator/info; key ${info.stripe.secretKey.slice(0, 24)}…, webhook secret ${info.stripe.webhookSecret})
  Database       ${info.dbUrl}
  anon key       ${info.anonKey}
  service key    ${info.serviceRoleKey}

Everything above is also in ${config.stackFile}. Ctrl-C stops it (database included); \`npm start -- --reset\` starts from a fresh database.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping ...");
    await stack.stop();
    stopCluster(config);
    process.exit(0);
  });
}
