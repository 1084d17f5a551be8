// The billing page's URL state: where Stripe sent the owner back from (Checkout's success or cancel URL).
import * as z from "zod/v4/mini";

const billingSearchSchema = z.object({
  checkout: z.catch(z.optional(z.enum(["success", "canceled"])), undefined),
});

export type BillingSearch = z.infer<typeof billingSearchSchema>;

export function parseBillingSearch(search: Record<string, unknown>): BillingSearch {
  return billingSearchSchema.parse(search);
}
