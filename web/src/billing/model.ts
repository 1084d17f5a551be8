// What the billing page says about a subscription, in the owner's words. Pure, so it is tested
// without a browser. The rules themselves live in the database (the gate, grace_ends_at); this only
// reads the row it stores.
import { mayCheckOut } from "../../../functions/_shared/billing-statuses.ts";
import type { ChipTone } from "../leads/status.ts";
import type { Plan, Subscription, SubscriptionStatus } from "../lib/types.ts";

export { mayCheckOut };

export const STATUS_CHIPS: Record<SubscriptionStatus, { label: string; tone: ChipTone }> = {
  trialing: { label: "Trial", tone: "info" },
  active: { label: "Active", tone: "success" },
  past_due: { label: "Payment failed", tone: "warning" },
  unpaid: { label: "Unpaid", tone: "danger" },
  canceled: { label: "Ended", tone: "neutral" },
  incomplete: { label: "Payment pending", tone: "warning" },
  incomplete_expired: { label: "Not started", tone: "neutral" },
  paused: { label: "Paused", tone: "neutral" },
};

export function formatPrice(plan: Pick<Plan, "price_cents" | "currency" | "billing_interval">): string {
  if (!plan.billing_interval) return "Free";
  const amount = new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: plan.currency.toUpperCase(),
    minimumFractionDigits: plan.price_cents % 100 === 0 ? 0 : 2,
  }).format(plan.price_cents / 100);
  return `${amount} / ${plan.billing_interval}`;
}

export function formatDay(iso: string): string {
  return new Date(iso).toLocaleDateString("en-US", { month: "long", day: "numeric", year: "numeric" });
}

function formatMoment(iso: string): string {
  return new Date(iso).toLocaleString("en-US", { month: "long", day: "numeric", hour: "numeric", minute: "2-digit" });
}

export interface Notice {
  tone: "info" | "warning" | "error";
  text: string;
}

export interface BillingView {
  planName: string;
  chip: { label: string; tone: ChipTone };
  used: number;
  quota: number;
  /** "Renews on …", "Trial ends …". */
  period: string;
  /** How the count of conversations starts again. */
  resets: string;
  /** What the owner must know now (texting stopped, payment failed, quota used up), or null. */
  notice: Notice | null;
  /** Whether leads are being texted back right now, as the database's gate would decide. */
  texting: boolean;
}

const NOT_TEXTING = "You still get an alert for every lead, but leads are not texted back";

/** The page's reading of the business's subscription at `now` (null: the business has none). */
export function billingView(subscription: Subscription | null, now: Date): BillingView {
  if (!subscription) {
    return {
      planName: "No plan",
      chip: { label: "None", tone: "neutral" },
      used: 0,
      quota: 0,
      period: "",
      resets: "",
      notice: { tone: "error", text: `${NOT_TEXTING}. Choose a plan to start.` },
      texting: false,
    };
  }
  const s = subscription;
  const planName = s.plan?.name ?? "Custom plan";
  const end = formatDay(s.current_period_end);
  const stripe = s.stripe_subscription_id !== null;
  // A Stripe subscription's renewal arrives by webhook: the gate gives it a day past the period end.
  const periodOver = now.getTime() >= new Date(s.current_period_end).getTime() + (stripe ? 86_400_000 : 0);
  const graceOver = s.status === "past_due" && s.grace_ends_at !== null && now.getTime() >= new Date(s.grace_ends_at).getTime();
  const base = { planName, chip: STATUS_CHIPS[s.status], used: s.conversations_used, quota: s.conversation_quota };

  let period = s.status === "trialing" && !stripe
    ? `Trial ends ${end}`
    : !stripe ? `Runs until ${end}` : s.status === "active" || s.status === "trialing" ? `Renews on ${end}` : `The current period ends ${end}`;
  if (s.cancel_at_period_end || s.cancel_at) period = `Ends on ${formatDay(s.cancel_at ?? s.current_period_end)}; it will not renew`;

  let notice: Notice | null = null;
  let texting = true;
  if (s.status === "past_due") {
    texting = !graceOver;
    notice = graceOver
      ? { tone: "error", text: `Payment overdue. ${NOT_TEXTING} until the payment goes through. Update your card under Manage billing.` }
      : {
        tone: "warning",
        text: `Your last payment failed. Leads are still texted until ${formatMoment(s.grace_ends_at ?? s.current_period_end)}; after that, ${NOT_TEXTING.charAt(0).toLowerCase()}${NOT_TEXTING.slice(1)} until the payment goes through. Update your card under Manage billing.`,
      };
  } else if (s.status === "incomplete") {
    texting = false;
    notice = { tone: "warning", text: `The first payment did not go through, so ${planName} has not started. Pay the open invoice under Manage billing, or choose a plan again.` };
  } else if (s.status !== "trialing" && s.status !== "active") {
    texting = false;
    notice = { tone: "error", text: `${NOT_TEXTING}. Choose a plan to start again.` };
  } else if (periodOver) {
    texting = false;
    period = s.status === "trialing" ? `Trial ended ${end}` : `Ended ${end}`;
    notice = { tone: "error", text: `${s.status === "trialing" ? "Your trial has ended" : "Your plan has ended"}. ${NOT_TEXTING}. Choose a plan to keep going.` };
  }
  if (texting && s.conversations_used >= s.conversation_quota) {
    texting = false;
    notice = { tone: "warning", text: `All ${s.conversation_quota} conversations of this period are used. ${NOT_TEXTING} until the next period, or choose a bigger plan.` };
  }
  const resets = stripe ? "The count starts again when the next period is paid." : "";
  return { ...base, period, resets, notice, texting };
}
