// One chip per lead that says where its follow-up stands, in the owner's words.
import type { ConversationSummaryRow, LeadListRow, MessageStatus, NotTextedReason } from "../lib/types.ts";

export type ChipTone = "neutral" | "info" | "progress" | "success" | "warning" | "danger" | "muted";

export interface StatusChip {
  label: string;
  tone: ChipTone;
  /** Longer explanation for a tooltip or the detail page. */
  detail?: string;
}

export const NOT_TEXTED_REASONS: Record<NotTextedReason, string> = {
  no_consent: "no SMS consent",
  no_active_subscription: "subscription inactive",
  payment_overdue: "payment overdue",
  followup_disabled: "follow-up turned off",
  quota_exhausted: "monthly quota used up",
  opted_out: "number opted out",
  landline: "landline: call, don't text",
  invalid_phone: "invalid phone number",
  country_not_allowed: "country not allowed",
  frequency_cap: "texting limit reached for this number",
  duplicate: "duplicate of a recent lead",
  no_sending_number: "no sending number set up",
  internal_error: "internal error",
  conversation_open: "already in a conversation with this number",
  premium_rate: "premium-rate number (never texted)",
  non_geographic: "toll-free or non-geographic number",
  fictional_number: "fictional number",
  texted_today: "already texted today",
};

export function leadStatusChip(
  lead: Pick<LeadListRow, "is_duplicate" | "followup_status" | "not_texted_reason" | "owner_alert_status"> & { conversation: ConversationSummaryRow | null },
): StatusChip {
  if (lead.is_duplicate) return { label: "duplicate", tone: "muted", detail: "Same phone number as a recent lead; the owner was not alerted again." };
  const conversation = lead.conversation;
  if (conversation) {
    switch (conversation.status) {
      case "opted_out":
        return { label: "opted out", tone: "danger", detail: "The lead replied STOP; no more texts will be sent." };
      case "completed":
        return { label: "completed", tone: "success", detail: completionDetail(conversation.completion_reason) };
      case "no_reply":
        return { label: "no reply", tone: "warning", detail: "The lead never answered the text." };
      case "active":
        return { label: "replied", tone: "info", detail: "The lead is answering questions." };
      case "awaiting_reply":
        return { label: "texting", tone: "progress", detail: "Text sent; waiting for the lead to reply." };
      case "failed":
        return { label: "text failed", tone: "danger", detail: "The text could not be delivered." };
      case "pending":
        return lead.followup_status === "deferred"
          ? { label: "texting later", tone: "progress", detail: "Outside quiet hours; the text goes out when they open." }
          : { label: "texting", tone: "progress", detail: "The first text is on its way." };
    }
  }
  if (lead.followup_status === "not_texted") {
    if (lead.not_texted_reason === "opted_out") {
      return { label: "opted out", tone: "danger", detail: "This number opted out earlier; it is never texted." };
    }
    const reason = lead.not_texted_reason ? NOT_TEXTED_REASONS[lead.not_texted_reason] : "unknown reason";
    return { label: `not texted · ${reason}`, tone: "neutral", detail: `Not texted back: ${reason}.` };
  }
  if (lead.followup_status === "deferred") {
    return { label: "texting later", tone: "progress", detail: "Outside quiet hours; the text goes out when they open." };
  }
  if (lead.owner_alert_status === "sent" || lead.owner_alert_status === "delivered") {
    return { label: "alerted", tone: "info", detail: "The owner was texted about this lead." };
  }
  if (lead.owner_alert_status === "failed") return { label: "alert failed", tone: "danger", detail: "The owner alert could not be sent." };
  if (lead.owner_alert_status === "awaiting_verification") {
    return { label: "alert waiting", tone: "warning", detail: "The owner alert goes out once the owner phone is confirmed." };
  }
  if (lead.owner_alert_status === "skipped_daily_cap") {
    return { label: "alert not sent", tone: "warning", detail: "The daily text limit was reached; the owner was not texted." };
  }
  if (lead.owner_alert_status === "skipped_suspicious") {
    return { label: "suspicious number", tone: "muted", detail: "A premium-rate, fictional or impossible number: saved, nobody texted." };
  }
  return { label: "new", tone: "info", detail: "Saved; the owner alert is queued." };
}

const COMPLETION_REASONS: Record<string, string> = {
  slots_filled: "All details collected.",
  max_questions: "Question limit reached.",
  call_requested: "The lead asked for a call.",
  not_interested: "The lead is not interested.",
  wrong_number: "Wrong number.",
  idle_timeout: "The lead stopped replying.",
  no_reply: "The lead never replied.",
  opted_out: "The lead opted out.",
  send_failed: "A text could not be delivered.",
};

export function completionDetail(reason: string | null): string {
  return (reason && COMPLETION_REASONS[reason]) ?? "Conversation finished.";
}

export const MESSAGE_KIND_LABELS: Record<string, string> = {
  owner_alert: "Owner alert",
  text_back: "Text-back",
  question: "Question",
  nudge: "Nudge",
  closing: "Closing",
  owner_summary: "Owner summary",
  help: "HELP reply",
  opt_out_ack: "Opt-out confirmation",
  opt_in_ack: "Opt-in confirmation",
  clarify: "STOP question",
  inbound: "Lead",
  verification: "Phone code",
  owner_reply: "Reply",
  owner_notice: "Note to you",
  member_alert: "Alert to a team phone",
  member_summary: "Summary to a team phone",
  member_notice: "Note to a team phone",
};

export function messageStatusLabel(
  status: MessageStatus, sendAfter: string | null, now = new Date(), reason: string | null = null,
): { label: string; tone: ChipTone } {
  if (status === "deferred" && reason === "owner_phone_unverified") return { label: "waiting for phone confirmation", tone: "warning" };
  if (status === "canceled" && reason === "daily_sms_cap") return { label: "not sent: daily limit", tone: "warning" };
  if (status === "canceled" && reason === "alert_phone_removed") return { label: "not sent: phone removed", tone: "neutral" };
  switch (status) {
    case "delivered": return { label: "delivered", tone: "success" };
    case "sent": return { label: "sent", tone: "info" };
    case "sending": return { label: "sending", tone: "progress" };
    case "queued": return { label: "queued", tone: "progress" };
    case "deferred": {
      const at = sendAfter ? new Date(sendAfter) : null;
      return at && at > now
        ? { label: `deferred until ${at.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })}`, tone: "warning" }
        : { label: "deferred", tone: "warning" };
    }
    case "undelivered": return { label: "undelivered", tone: "danger" };
    case "failed": return { label: "failed", tone: "danger" };
    case "canceled": return { label: "canceled", tone: "muted" };
    case "received": return { label: "received", tone: "neutral" };
  }
}
