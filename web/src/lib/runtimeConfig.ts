// The dashboard is built once and pointed at any backend by the /config.json its host serves.
// zod/mini: this runs before the first paint, and the full zod would be ~10 KB more to download first.
import * as z from "zod/v4/mini";

const runtimeConfigSchema = z.object({
  supabaseUrl: z.url({ protocol: /^https?$/, error: "supabaseUrl must be an http(s) URL" }),
  supabaseAnonKey: z.string().check(z.minLength(20, "supabaseAnonKey looks too short to be a key")),
});

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

export function parseRuntimeConfig(raw: unknown): RuntimeConfig {
  const result = runtimeConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; ");
    throw new Error(`/config.json is invalid: ${problems}`);
  }
  return result.data;
}

export async function fetchRuntimeConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  let response: Response;
  try {
    response = await fetchImpl("/config.json", { cache: "no-store" });
  } catch (error) {
    throw new Error(`could not load /config.json: ${(error as Error).message}`);
  }
  if (!response.ok) throw new Error(`could not load /config.json: HTTP ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new Error("/config.json is not JSON");
  }
  return parseRuntimeConfig(body);
}
