// The webhooks' query keys on their own: the shell's realtime hook needs them, and importing them from
// queries.ts would pull the page's queries and model into every page's first load.
export const webhookKeys = {
  all: ["webhooks"] as const,
  eventTypes: () => ["webhooks", "event-types"] as const,
  endpoints: (businessId: string) => ["webhooks", "endpoints", businessId] as const,
  deliveries: (businessId: string) => ["webhooks", "deliveries", businessId] as const,
};
