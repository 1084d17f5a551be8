// Which of the user's businesses the dashboard shows: the one picked last on this browser, else the first.
import type { Membership } from "../lib/types.ts";

const KEY = "leadloop-dashboard-business";

export function pickMembership(memberships: Membership[], storedId: string | null = readStoredId()): Membership | null {
  return memberships.find((m) => m.business.id === storedId) ?? memberships[0] ?? null;
}

export function rememberBusiness(businessId: string): void {
  try {
    localStorage.setItem(KEY, businessId);
  } catch {
    // Private mode or full storage: the choice lasts for this page only.
  }
}

function readStoredId(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}
