// Runs the CLI as `npm run --silent summarize` does (deno run ... cli.ts) with stdin JSON.
import { assertEquals, assertMatch } from "../_shared/testing/assert.ts";

const cli = new URL("./cli.ts", import.meta.url).pathname;

async function runCli(stdin: string, env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", "--allow-env", "--allow-net", cli],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { SUMMARIZER_LLM_URL: "", ...env },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

const conversation = {
  lead: { name: "Rosa", phone: "+15125550123", message: "Hola, tengo una fuga en el baño" },
  messages: [
    { direction: "outbound", kind: "text_back", body: "¿Para cuándo lo necesita y dónde?" },
    { direction: "inbound", kind: "inbound", body: "mañana por la tarde, en Pflugerville" },
  ],
  locale: "es",
  timezone: "America/Chicago",
  now: "2026-11-26T15:00:00Z",
};

Deno.test("CLI prints the summary JSON for a conversation on stdin", async () => {
  const { code, stdout } = await runCli(JSON.stringify(conversation));
  assertEquals(code, 0);
  const summary = JSON.parse(stdout);
  assertEquals(Object.keys(summary).sort(), ["constraints", "location", "missing", "need", "text", "timing", "timing_start"]);
  assertEquals(summary.timing_start, "2026-11-27T18:00:00.000Z");
  assertEquals(summary.location, "Pflugerville");
  assertMatch(summary.text, /sms:\+15125550123/);
});

Deno.test("CLI falls back to the built-in extractor when the LLM is unreachable, and says so on stderr", async () => {
  const { code, stdout, stderr } = await runCli(JSON.stringify(conversation), {
    SUMMARIZER_LLM_URL: "http://127.0.0.1:9/v1",
    SUMMARIZER_LLM_MODEL: "m",
    SUMMARIZER_LLM_TIMEOUT_MS: "500",
  });
  assertEquals(code, 0);
  assertEquals(JSON.parse(stdout).location, "Pflugerville");
  assertMatch(stderr, /LLM not used/);
});

Deno.test("CLI rejects bad input with exit code 2 and a readable message", async () => {
  const notJson = await runCli("hello");
  assertEquals(notJson.code, 2);
  assertMatch(notJson.stderr, /not JSON/);
  const invalid = await runCli(JSON.stringify({ lead: {}, timezone: "Nowhere/Land" }));
  assertEquals(invalid.code, 2);
  assertMatch(invalid.stderr, /lead\.phone/);
  assertMatch(invalid.stderr, /timezone/);
});
