// The owner's words for the pipeline statuses (leads.status); the values themselves come from LEAD_STATUSES.
import type { LeadStatus } from "../lib/types.ts";
import type { ChipTone } from "./status.ts";

export const LEAD_STATUS_LABELS: Record<LeadStatus, { label: string; tone: ChipTone }> = {
  new: { label: "New", tone: "info" },
  contacted: { label: "Contacted", tone: "progress" },
  booked: { label: "Booked", tone: "progress" },
  won: { label: "Won", tone: "success" },
  lost: { label: "Lost", tone: "neutral" },
  spam: { label: "Spam", tone: "muted" },
};
