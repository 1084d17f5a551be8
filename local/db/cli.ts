// npx tsx local/db/cli.ts start|stop|reset|migrate|status|url   (instance: LEADLOOP_INSTANCE, default dev)
import { instanceConfig } from "../config.ts";
import { applyMigrations, applyPlatform, dataDirectory, isHealthy, log, prepareDatabase, stopCluster } from "./cluster.ts";

const usage = "usage: tsx local/db/cli.ts start|stop|reset|migrate|status|url  (env LEADLOOP_INSTANCE, LEADLOOP_PORT_BASE)";

async function main(command: string | undefined): Promise<void> {
  const config = instanceConfig();
  switch (command) {
    case "start":
      await prepareDatabase(config);
      log(`ready: ${config.dbUrl}`);
      break;
    case "reset":
      await prepareDatabase(config, { reset: true });
      log(`ready (fresh): ${config.dbUrl}`);
      break;
    case "migrate":
      await applyPlatform(config);
      applyMigrations(config, { seed: false });
      break;
    case "stop":
      stopCluster(config);
      break;
    case "status":
      console.log(JSON.stringify({ instance: config.name, dbUrl: config.dbUrl, dataDir: dataDirectory(config), healthy: await isHealthy(config) }, null, 2));
      break;
    case "url":
      console.log(config.dbUrl);
      break;
    default:
      console.error(usage);
      process.exit(2);
  }
}

main(process.argv[2]).catch((error) => {
  console.error(`[db] ${(error as Error).message}`);
  process.exit(1);
});
