// `npm run --silent summarize < conversation.json` prints the summary JSON.
// Input: {lead, messages, locale, timezone, now}. Uses the LLM when SUMMARIZER_LLM_URL is set.
import { ZodError } from "zod";
import { summarize } from "../_shared/summarizer.ts";
import { llmConfigFrom, loadEnv, summarizerEnvSchema } from "../_shared/env.ts";
import { zodMessage } from "../_shared/http.ts";

async function main(): Promise<number> {
  const raw = await new Response(Deno.stdin.readable).text();
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch {
    console.error("summarize: stdin is not JSON (expected {lead, messages, locale, timezone, now})");
    return 2;
  }
  try {
    const { summary, fallbackReason } = await summarize(input as never, { llm: llmConfigFrom(loadEnv(summarizerEnvSchema)) });
    if (fallbackReason) console.error(`summarize: LLM not used (${fallbackReason}); built-in summary printed`);
    // The owner text's lines are for the database; `text` shows them joined.
    const { lines: _lines, ...printed } = summary;
    console.log(JSON.stringify(printed, null, 2));
    return 0;
  } catch (err) {
    if (err instanceof ZodError) {
      console.error(`summarize: invalid input: ${zodMessage(err)}`);
      return 2;
    }
    console.error(`summarize: ${(err as Error)?.message ?? err}`);
    return 1;
  }
}

Deno.exit(await main());
