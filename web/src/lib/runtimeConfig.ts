// The dashboard is built once and pointed at any backend by the /config.json its host serves.
import { z } from "zod";

const runtimeConfigSchema = z.object({
  supabaseUrl: z.string().url().refine((u) => /^https?:\/\//.test(u), "supabaseUrl must be http(s)"),
  supabaseAnonKey: z.string().min(20, "supabaseAnonKey looks too short to be a key"),
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
