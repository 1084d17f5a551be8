// The summarizer's output as stored in conversations.summary; shape checked, never trusted.
export interface OwnerSummary {
  need: string | null;
  timing: string | null;
  location: string | null;
  constraints: string[];
  missing: string[];
  text: string | null;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

function list(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((v) => (typeof v === "string" ? v.trim() : "")).filter(Boolean);
}

export function readOwnerSummary(raw: unknown): OwnerSummary | null {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return null;
  const obj = raw as Record<string, unknown>;
  return {
    need: text(obj.need),
    timing: text(obj.timing),
    location: text(obj.location),
    constraints: list(obj.constraints),
    missing: list(obj.missing),
    text: text(obj.text) ?? text(obj.owner_text),
  };
}
