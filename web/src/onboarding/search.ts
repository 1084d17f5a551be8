// ?business=<uuid> resumes that business's setup; ?new=1 starts another business.
import * as z from "zod/v4/mini";

const welcomeSearchSchema = z.object({
  business: z.catch(z.optional(z.string().check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i))), undefined),
  new: z.catch(z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1))), undefined),
});

export type WelcomeSearch = z.infer<typeof welcomeSearchSchema>;

export function parseWelcomeSearch(search: Record<string, unknown>): WelcomeSearch {
  return welcomeSearchSchema.parse(search);
}
