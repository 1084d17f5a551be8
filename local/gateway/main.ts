// Runs the gateway for one instance: `LEADLOOP_INSTANCE=x LEADLOOP_PORT_BASE=n npx tsx local/gateway/main.ts`.
import { instanceConfig } from "../config.ts";
import { startGateway } from "./server.ts";

const config = instanceConfig();
const gateway = await startGateway({ config });
console.log(`[gateway] ${config.name}: ${gateway.url}`);
console.log(`[gateway]   rest      ${gateway.url}/rest/v1`);
console.log(`[gateway]   auth      ${gateway.url}/auth/v1`);
console.log(`[gateway]   functions ${gateway.url}/functions/v1`);
console.log(`[gateway]   realtime  ${gateway.url.replace(/^http/, "ws")}/realtime/v1/websocket`);
console.log(`[gateway]   anon key        ${config.keys.anonKey}`);
console.log(`[gateway]   service key     ${config.keys.serviceRoleKey}`);
console.log(`[gateway]   publishable key ${config.keys.publishableKey}`);
console.log(`[gateway]   secret key      ${config.keys.secretKey}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    gateway.close().then(
      () => process.exit(0),
      (err) => {
        console.error("[gateway] shutdown failed:", err);
        process.exit(1);
      },
    );
  });
}
