// Row shapes the dashboard reads, derived from the generated database types (npm run gen:types);
// RLS limits them to the member's businesses. The generator types CHECK-constrained text columns as
// string, so the value lists the dashboard switches on are spelled here once, as data, and
// tests/db/status-lists.test.ts checks each against the constraint in the database.
import type { Tables } from "../../../functions/_shared/database.types.ts";
import type { SubscriptionStatus } from "../../../functions/_shared/billing-statuses.ts";

export { SUBSCRIPTION_STATUSES, type SubscriptionStatus } from "../../../functions/_shared/billing-statuses.ts";

export const CONVERSATION_STATUSES = ["pending", "awaiting_reply", "active", "completed", "no_reply", "opted_out", "failed"] as const;
export const NOT_TEXTED_REASON_VALUES = [
  "no_consent", "no_active_subscription", "payment_overdue", "followup_disabled", "quota_exhausted", "opted_out",
  "landline", "invalid_phone", "country_not_allowed", "frequency_cap", "duplicate",
  "no_sending_number", "internal_error", "conversation_open", "premium_rate", "non_geographic", "fictional_number",
  "texted_today",
] as const;
export const FOLLOWUP_STATUSES = ["started", "deferred", "not_texted"] as const;
export const OWNER_ALERT_STATUSES = [
  "queued", "sent", "delivered", "failed", "skipped_duplicate", "awaiting_verification", "skipped_suspicious", "skipped_daily_cap",
] as const;
export const PHONE_STATUSES = ["unverified", "mobile", "invalid", "landline"] as const;
export const SUMMARY_STATUSES = ["not_due", "due", "claimed", "done"] as const;
export const MESSAGE_STATUSES = [
  "queued", "deferred", "sending", "sent", "delivered", "undelivered", "failed", "received", "canceled",
] as const;
export const MESSAGE_DIRECTIONS = ["outbound", "inbound"] as const;
export const MEMBER_ROLES = ["owner", "staff"] as const;
/** The owner's pipeline (leads.status), in the order a lead moves through it. */
export const LEAD_STATUSES = ["new", "contacted", "booked", "won", "lost", "spam"] as const;

export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export type NotTextedReason = (typeof NOT_TEXTED_REASON_VALUES)[number];
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/** `Row` with some of its string columns narrowed to their allowed values. */
type Narrow<Row, Fields extends { [K in keyof Row]?: unknown }> = Omit<Row, keyof Fields> & Fields;

export type Business = Pick<
  Tables<"businesses">,
  | "id" | "name" | "owner_phone" | "timezone" | "twilio_number" | "followup_enabled" | "nudge_delay_minutes"
  | "idle_timeout_minutes" | "max_questions" | "quiet_hours_start" | "quiet_hours_end" | "sending_problem"
  | "owner_phone_verified_at" | "daily_sms_cap" | "default_locale" | "opt_out_confirmation_by" | "allowed_nanp_regions"
>;

export interface Membership {
  role: (typeof MEMBER_ROLES)[number];
  business: Business;
}

type ConversationRow = Narrow<Tables<"conversations">, {
  status: ConversationStatus;
  summary_status: (typeof SUMMARY_STATUSES)[number];
  slots: Partial<Slots> | null;
  summary: Record<string, unknown> | null;
}>;

export type ConversationSummaryRow = Pick<ConversationRow, "id" | "status" | "completion_reason" | "question_count" | "last_inbound_at">;

type LeadRow = Narrow<Tables<"leads">, {
  followup_status: (typeof FOLLOWUP_STATUSES)[number];
  not_texted_reason: NotTextedReason | null;
  owner_alert_status: (typeof OWNER_ALERT_STATUSES)[number];
  phone_status: (typeof PHONE_STATUSES)[number];
  status: LeadStatus;
  ip: string | null;
}>;

export type LeadListRow = Pick<
  LeadRow,
  | "id" | "name" | "phone" | "email" | "message" | "created_at" | "is_duplicate" | "followup_status"
  | "not_texted_reason" | "owner_alert_status" | "phone_status" | "status" | "unread_count" | "last_inbound_at"
> & { conversation: (ConversationSummaryRow & Pick<ConversationRow, "summary">) | null };

/** The inbox badges (public.inbox_counts): leads per attention filter, unread texts, open owner notifications. */
export interface InboxCounts {
  unread: number;
  failed_delivery: number;
  dead_letter: number;
  notified: number;
  unread_messages: number;
  open_notifications: number;
}

export type Lead = Omit<LeadRow, "honeypot">;

export interface Slots {
  need: string | null;
  timing: string | null;
  location: string | null;
  constraints: string[];
}

export type Conversation = Pick<
  ConversationRow,
  | "id" | "status" | "completion_reason" | "question_count" | "last_inbound_at" | "lead_id" | "current_locale" | "slots"
  | "turn_count" | "nudge_count" | "next_action_at" | "summary_status" | "summary" | "summary_completed_at" | "completed_at"
  | "created_at" | "bot_paused_at"
>;

export type Message = Pick<
  Narrow<Tables<"messages">, { direction: (typeof MESSAGE_DIRECTIONS)[number]; status: MessageStatus }>,
  | "id" | "lead_id" | "conversation_id" | "direction" | "kind" | "to_phone" | "from_phone" | "body" | "status"
  | "status_reason" | "error_code" | "error_message" | "send_after" | "sent_at" | "delivered_at" | "created_at" | "sent_by_name"
>;

export type Plan = Pick<
  Narrow<Tables<"plans">, { billing_interval: "month" | "year" | null }>,
  "id" | "name" | "description" | "conversations_per_period" | "price_cents" | "currency" | "billing_interval" | "trial_days" | "stripe_lookup_key" | "sort_order"
>;

export type Subscription = Pick<
  Narrow<Tables<"subscriptions">, { status: SubscriptionStatus }>,
  | "status" | "plan_id" | "current_period_start" | "current_period_end" | "conversation_quota" | "conversations_used"
  | "past_due_since" | "grace_ends_at" | "cancel_at_period_end" | "cancel_at" | "stripe_subscription_id"
> & { plan: Plan | null };

/** A member's own optional emails for one business (no row: both off). */
export type EmailPreference = Pick<Tables<"email_preferences">, "business_id" | "lead_alerts" | "summaries">;
