import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import {
  DELIVERY_COLUMNS,
  DELIVERY_LOG_SIZE,
  ENDPOINT_COLUMNS,
  type EndpointForm,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEventType,
} from "./model.ts";
import { webhookKeys } from "./keys.ts";

export const webhookQueries = {
  /** The catalog of events (the database's list, with what each one means). */
  eventTypes: (db: Db) =>
    queryOptions({
      queryKey: webhookKeys.eventTypes(),
      staleTime: Infinity,
      queryFn: async (): Promise<WebhookEventType[]> => {
        const { data, error } = await db.from("webhook_event_types").select("type, description").order("sort_order");
        if (error) throw toError(error, "loading the webhook events");
        return data;
      },
    }),

  endpoints: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: webhookKeys.endpoints(businessId),
      queryFn: async (): Promise<WebhookEndpoint[]> => {
        const { data, error } = await db.from("webhook_endpoints").select(ENDPOINT_COLUMNS).eq("business_id", businessId).order("created_at");
        if (error) throw toError(error, "loading webhook endpoints");
        return data;
      },
    }),

  /** The newest deliveries of every endpoint of the business. */
  deliveries: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: webhookKeys.deliveries(businessId),
      queryFn: async (): Promise<WebhookDelivery[]> => {
        const { data, error } = await db
          .from("webhook_deliveries")
          .select(DELIVERY_COLUMNS)
          .eq("business_id", businessId)
          .order("created_at", { ascending: false })
          .order("id", { ascending: false })
          .limit(DELIVERY_LOG_SIZE);
        if (error) throw toError(error, "loading webhook deliveries");
        return data as WebhookDelivery[];
      },
    }),
};

/** Registers an endpoint; resolves to its signing secret, which the database shows this once. */
export function useCreateEndpoint(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (form: EndpointForm): Promise<{ endpointId: string; secret: string }> => {
      const { data, error } = await db
        .rpc("create_webhook_endpoint", { p_business_id: businessId, p_url: form.url.trim(), p_events: form.events, p_description: form.description })
        .single();
      if (error || !data) throw toError(error, "adding the endpoint");
      return { endpointId: data.endpoint_id, secret: data.signing_secret };
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: webhookKeys.endpoints(businessId) }),
  });
}

/** Changes URL, description, events or the on/off switch; RLS lets owners alone, so 0 rows means refused. */
export function useUpdateEndpoint(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, changes }: { id: string; changes: Partial<EndpointForm & { enabled: boolean }> }): Promise<void> => {
      const { error, count } = await db.from("webhook_endpoints").update(changes, { count: "exact" }).eq("id", id);
      if (error) throw toError(error, "saving the endpoint");
      if (count === 0) throw new Error("saving the endpoint: only the business owner can change webhooks");
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: webhookKeys.all }),
  });
}

export function useDeleteEndpoint(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string): Promise<void> => {
      const { error, count } = await db.from("webhook_endpoints").delete({ count: "exact" }).eq("id", id);
      if (error) throw toError(error, "deleting the endpoint");
      if (count === 0) throw new Error("deleting the endpoint: only the business owner can delete webhooks");
    },
    onSuccess: () => Promise.all([
      queryClient.invalidateQueries({ queryKey: webhookKeys.endpoints(businessId) }),
      queryClient.invalidateQueries({ queryKey: webhookKeys.deliveries(businessId) }),
    ]),
  });
}

/** A new signing secret, shown once; the old one keeps working for 24 hours. */
export function useRotateSecret(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string): Promise<string> => {
      const { data, error } = await db.rpc("rotate_webhook_endpoint_secret", { p_endpoint_id: id });
      if (error || !data) throw toError(error, "rotating the secret");
      return data;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: webhookKeys.endpoints(businessId) }),
  });
}

export function useResendDelivery(businessId: string) {
  const db = useDb();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string): Promise<string> => {
      const { data, error } = await db.rpc("resend_webhook_delivery", { p_delivery_id: id });
      if (error) throw toError(error, "resending");
      return data;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: webhookKeys.deliveries(businessId) }),
  });
}
