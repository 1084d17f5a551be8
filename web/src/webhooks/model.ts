// The webhook rows the page reads (generated types, RLS: owners only) and what it says about them, kept
// pure so it is tested without a browser. The delivery statuses are spelled once here, and
// tests/db/status-lists.test.ts checks them against the database's constraint.
import type { Tables } from "../../../functions/_shared/database.types.ts";
import type { StatusChip } from "../leads/status.ts";

export const DELIVERY_STATUSES = ["pending", "sending", "succeeded", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const ENDPOINT_COLUMNS =
  "id, url, description, events, secret_hint, previous_secret_expires_at, enabled, failing_since, last_success_at, last_failure_at, disabled_at, disabled_reason, created_at";
export type WebhookEndpoint = Pick<
  Tables<"webhook_endpoints">,
  | "id" | "url" | "description" | "events" | "secret_hint" | "previous_secret_expires_at" | "enabled" | "failing_since"
  | "last_success_at" | "last_failure_at" | "disabled_at" | "disabled_reason" | "created_at"
>;

export const DELIVERY_COLUMNS =
  "id, endpoint_id, webhook_id, event_type, status, attempts, next_attempt_at, expires_at, last_attempt_at, response_status, response_excerpt, latency_ms, error, delivered_at, resent_at, created_at";
export type WebhookDelivery = Omit<
  Pick<
    Tables<"webhook_deliveries">,
    | "id" | "endpoint_id" | "webhook_id" | "event_type" | "status" | "attempts" | "next_attempt_at" | "expires_at" | "last_attempt_at"
    | "response_status" | "response_excerpt" | "latency_ms" | "error" | "delivered_at" | "resent_at" | "created_at"
  >,
  "status"
> & { status: DeliveryStatus };

export type WebhookEventType = Pick<Tables<"webhook_event_types">, "type" | "description">;

/** How many deliveries the log shows (the newest). */
export const DELIVERY_LOG_SIZE = 50;

function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
}

function answer(d: Pick<WebhookDelivery, "response_status" | "error">): string {
  return d.error ?? (d.response_status ? `HTTP ${d.response_status}` : "no answer");
}

export function deliveryChip(
  d: Pick<WebhookDelivery, "status" | "attempts" | "response_status" | "error" | "next_attempt_at">,
  endpointEnabled: boolean,
): StatusChip {
  switch (d.status) {
    case "succeeded":
      return { label: `delivered · ${d.response_status}`, tone: "success", detail: `Your server answered ${d.response_status}.` };
    case "sending":
      return { label: "sending", tone: "progress", detail: "On its way now." };
    case "failed":
      return { label: `failed${d.response_status ? ` · ${d.response_status}` : ""}`, tone: "danger",
        detail: `Gave up after 24 hours of retries. Last answer: ${answer(d)}.` };
    case "pending":
      if (!endpointEnabled) return { label: "paused", tone: "neutral", detail: "The endpoint is turned off; turn it on to continue." };
      if (d.attempts === 0) return { label: "queued", tone: "progress", detail: "Goes out in a moment." };
      return { label: `retrying${d.response_status ? ` · ${d.response_status}` : ""}`, tone: "warning",
        detail: `Attempt ${d.attempts} failed (${answer(d)}). Next attempt at ${clock(d.next_attempt_at)}.` };
  }
}

export function endpointChip(e: Pick<WebhookEndpoint, "enabled" | "failing_since" | "disabled_reason">): StatusChip {
  if (!e.enabled && e.disabled_reason === "failing") {
    return { label: "turned off: failing", tone: "danger", detail: "Every delivery failed for 24 hours, so sending stopped. Fix your server, then turn it back on." };
  }
  if (!e.enabled) return { label: "off", tone: "neutral", detail: "Nothing is sent to it." };
  if (e.failing_since) {
    return { label: "failing", tone: "warning", detail: `Deliveries have failed since ${clock(e.failing_since)}; after 24 hours it is turned off.` };
  }
  return { label: "on", tone: "success", detail: "Receiving events." };
}

/** The host of a URL, for compact lists (the whole URL when it does not parse). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export interface EndpointForm {
  url: string;
  description: string;
  events: string[];
}

export type EndpointFormErrors = Partial<Record<keyof EndpointForm, string>>;

/**
 * What can be told before asking the database, which owns the URL policy (https, hosts, ports) and says
 * why it refuses one: its "url: ..." and "events: ..." messages are shown next to their fields.
 */
export function checkEndpointForm(form: EndpointForm): EndpointFormErrors {
  const errors: EndpointFormErrors = {};
  if (form.url.trim() === "") errors.url = "Enter the address that should receive the webhooks.";
  if (form.events.length === 0) errors.events = "Choose at least one event.";
  if (form.description.length > 200) errors.description = "Keep the description under 200 characters.";
  return errors;
}

/** A database refusal ("url: the address must start with https://") as a field error, or null. */
export function fieldErrorFrom(message: string): EndpointFormErrors | null {
  const match = /\b(url|events): (.+?)(?: \(\w+\))?$/.exec(message);
  if (!match) return null;
  const text = match[2].charAt(0).toUpperCase() + match[2].slice(1);
  return { [match[1]]: text.endsWith(".") ? text : `${text}.` };
}
