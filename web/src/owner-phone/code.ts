// What the owner types and what the resend RPC answers, checked at the boundary (pure, tested alone).
// zod/mini: the owner-phone banner is part of the shell, so this is in every page's first load, where
// the full zod would add ~13 KB gzipped.
import * as z from "zod/v4/mini";

export const codeSchema = z.string().check(z.trim(), z.regex(/^\d{6}$/, "Enter the 6-digit code from the text"));

export const resendResultSchema = z.object({
  sent: z.boolean(),
  reason: z.nullable(z.enum(["already_verified", "no_sending_number", "throttled"])),
  resend_after: z.nullable(z.string()),
});
export type ResendResult = z.infer<typeof resendResultSchema>;

/** What to tell the owner after asking for a new code. */
export function resendMessage(result: ResendResult, now = new Date()): string {
  if (result.sent) return "A new code is on its way.";
  if (result.reason === "already_verified") return "This phone is already confirmed.";
  if (result.reason === "no_sending_number") return "The code is texted from your business number, which is not set up yet.";
  const wait = result.resend_after ? Math.max(1, Math.ceil((new Date(result.resend_after).getTime() - now.getTime()) / 60000)) : 1;
  return `Too many codes asked for: try again in ${wait} minute${wait === 1 ? "" : "s"}.`;
}
