// Row shapes the dashboard reads (subset of supabase/migrations; RLS limits them to the member's businesses).
export type ConversationStatus =
  | "pending" | "awaiting_reply" | "active" | "completed" | "no_reply" | "opted_out" | "failed";

export type NotTextedReason =
  | "no_consent" | "no_active_subscription" | "followup_disabled" | "quota_exhausted" | "opted_out"
  | "landline" | "invalid_phone" | "country_not_allowed" | "frequency_cap" | "duplicate"
  | "no_sending_number" | "internal_error" | "conversation_open";

export interface Business {
  id: string;
  name: string;
  owner_phone: string;
  timezone: string;
  twilio_number: string | null;
  followup_enabled: boolean;
  nudge_delay_minutes: number;
  idle_timeout_minutes: number;
  max_questions: number;
  quiet_hours_start: string;
  quiet_hours_end: string;
  sending_problem: string | null;
}

export interface Membership {
  role: "owner" | "staff";
  business: Business;
}

export interface ConversationSummaryRow {
  id: string;
  status: ConversationStatus;
  completion_reason: string | null;
  question_count: number;
  last_inbound_at: string | null;
}

export interface LeadListRow {
  id: string;
  name: string;
  phone: string;
  email: string | null;
  message: string | null;
  created_at: string;
  is_duplicate: boolean;
  followup_status: "started" | "deferred" | "not_texted";
  not_texted_reason: NotTextedReason | null;
  owner_alert_status: "queued" | "sent" | "delivered" | "failed" | "skipped_duplicate";
  phone_status: "unverified" | "mobile" | "invalid" | "landline";
  conversation: ConversationSummaryRow | null;
}

export interface Lead extends Omit<LeadListRow, "conversation"> {
  business_id: string;
  widget_id: string | null;
  source_url: string | null;
  sms_consent: boolean;
  consent_text: string | null;
  consent_at: string | null;
  ip: string | null;
  user_agent: string | null;
  locale: string;
  duplicate_of: string | null;
  delivery_problem: string | null;
}

export interface Slots {
  need: string | null;
  timing: string | null;
  location: string | null;
  constraints: string[];
}

export interface Conversation extends ConversationSummaryRow {
  lead_id: string;
  current_locale: string;
  slots: Partial<Slots> | null;
  turn_count: number;
  nudge_count: number;
  next_action_at: string | null;
  summary_status: "not_due" | "due" | "claimed" | "done";
  summary: Record<string, unknown> | null;
  summary_completed_at: string | null;
  completed_at: string | null;
  created_at: string;
}

export type MessageStatus =
  | "queued" | "deferred" | "sending" | "sent" | "delivered" | "undelivered" | "failed" | "received" | "canceled";

export interface Message {
  id: string;
  lead_id: string | null;
  conversation_id: string | null;
  direction: "outbound" | "inbound";
  kind: string;
  to_phone: string;
  from_phone: string;
  body: string;
  status: MessageStatus;
  status_reason: string | null;
  error_code: string | null;
  error_message: string | null;
  send_after: string;
  sent_at: string | null;
  delivered_at: string | null;
  created_at: string;
}
