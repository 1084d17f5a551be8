// Maps one postgres_changes event to the query keys it makes stale. Kept pure so it is testable.
import { billingKeys } from "../billing/queries.ts";
import { leadKeys } from "../leads/queries.ts";
import { webhookKeys } from "../webhooks/keys.ts";

export type WatchedTable = "leads" | "conversations" | "messages" | "subscriptions" | "owner_notifications" | "webhook_endpoints" | "webhook_deliveries";

export interface ChangeEvent {
  table: string;
  eventType: "INSERT" | "UPDATE" | "DELETE" | string;
  new: Record<string, unknown> | null;
  old: Record<string, unknown> | null;
}

/** Refetched when the socket (re)joins: changes made while it was down were never delivered. */
export const resyncKeys: (readonly unknown[])[] = [leadKeys.all, billingKeys.all, webhookKeys.all];

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

export function invalidationsFor(event: ChangeEvent, businessId: string): (readonly unknown[])[] {
  const row = event.new && Object.keys(event.new).length > 0 ? event.new : event.old ?? {};
  const leadId = event.table === "leads" ? str(row.id) : str(row.lead_id);
  const keys: (readonly unknown[])[] = [];
  switch (event.table) {
    case "leads":
      // The unread marker and new leads change the badges too.
      keys.push(leadKeys.list(businessId), leadKeys.counts(businessId));
      if (leadId) keys.push(leadKeys.detail(leadId));
      break;
    case "conversations":
      // The list shows the conversation status chip.
      keys.push(leadKeys.list(businessId));
      if (leadId) keys.push(leadKeys.conversation(leadId));
      break;
    case "messages":
      // A failed or dead-lettered delivery is an attention badge.
      if (str(row.status) === "failed" || str(row.status) === "undelivered") keys.push(leadKeys.counts(businessId));
      if (leadId) keys.push(leadKeys.messages(leadId));
      // Inbound replies may arrive before they are tied to a lead; refresh every open thread.
      else if (str(row.conversation_id) || event.eventType === "DELETE") keys.push([...leadKeys.details()]);
      break;
    case "owner_notifications":
      keys.push(leadKeys.counts(businessId));
      break;
    case "subscriptions":
      // Status, plan, period and usage on the billing page (the webhook and every started conversation write it).
      keys.push(billingKeys.subscription(businessId));
      break;
    case "webhook_endpoints":
      keys.push(webhookKeys.endpoints(businessId));
      break;
    case "webhook_deliveries":
      keys.push(webhookKeys.deliveries(businessId));
      break;
  }
  return keys;
}
