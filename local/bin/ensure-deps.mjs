// Runs before `npm start` and `npm test`: a fresh clone has no node_modules yet, and both
// commands must work from one line on a new machine. Plain JS because tsx is not installed yet.
import { execSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";

const lock = "package-lock.json";
const marker = "node_modules/.package-lock.json";
const stale = !existsSync(marker) || statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000;
if (stale) {
  process.stderr.write("[setup] installing npm dependencies (npm ci) ...\n");
  execSync("npm ci --no-audit --no-fund", { stdio: "inherit" });
}
const pkg = JSON.parse(readFileSync("package.json", "utf8"));
if (!pkg.dependencies?.tsx && !pkg.devDependencies?.tsx) throw new Error("tsx missing from package.json");
