// Where to go after signing in. Only a path on this site: ?redirect=https://evil.example must not
// turn the sign-in page into an open redirect.
import * as z from "zod/v4/mini";

const signInSearchSchema = z.object({
  redirect: z.catch(
    z.optional(z.string().check(z.regex(/^\/(?![/\\])[^\s]*$/), z.maxLength(2000))),
    undefined,
  ),
});

export type SignInSearch = z.infer<typeof signInSearchSchema>;

export function parseSignInSearch(search: Record<string, unknown>): SignInSearch {
  return signInSearchSchema.parse(search);
}
