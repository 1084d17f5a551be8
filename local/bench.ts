// `npm run bench`: every benchmark in bench/ against a fresh "bench" instance of the whole
// stack (its own cluster and ports), one after another so they do not disturb each other.
// Each benchmark prints its own figures, as ratios against a baseline measured in the same run.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { instanceConfig, projectRoot } from "./config.ts";
import { stopCluster } from "./db/cluster.ts";
import { startStack } from "./stack.ts";

const config = instanceConfig("bench");
const only = process.argv.slice(2);
const benches = readdirSync(join(projectRoot, "bench"))
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .filter((f) => only.length === 0 || only.some((name) => f.startsWith(name)))
  .sort();

const stack = await startStack(config, { reset: true });
const failures: string[] = [];
try {
  for (const file of benches) {
    console.log(`\n=== bench/${file} ===`);
    // Asynchronously: this process serves the stack the benchmark talks to.
    const child = spawn(process.execPath, ["--import", "tsx", join("bench", file)], {
      cwd: projectRoot,
      stdio: "inherit",
      env: { ...process.env, LEADLOOP_INSTANCE: config.name },
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (code !== 0) failures.push(file);
  }
} finally {
  await stack.stop();
  stopCluster(config);
}
if (failures.length) {
  console.error(`\nbenchmarks that failed: ${failures.join(", ")}`);
  process.exit(1);
}
