// Runs the LLM fake on this instance's llm port:
//   LEADLOOP_INSTANCE=dev npx tsx local/llm-fake/main.ts [ok|down|garbage|slow]
import { instanceConfig } from "../config.ts";
import { type LlmFakeMode, startLlmFake } from "./server.ts";

const mode = (process.argv[2] ?? process.env.LLM_FAKE_MODE ?? "ok") as LlmFakeMode;
const config = instanceConfig();
const fake = await startLlmFake({ port: config.ports.llm, mode });
process.stderr.write(`LLM fake (${mode}) at ${fake.url}  (switch: curl -XPOST ${fake.url.replace(/\/v1$/, "")}/fake/mode -d '{"mode":"down"}')\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void fake.close().then(() => process.exit(0)));
}
