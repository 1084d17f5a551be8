// The dashboard's only realtime subscription: row changes the owner may see (RLS-filtered by
// Realtime) become query invalidations, so every screen refetches what changed and nothing else.
import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { RealtimePostgresChangesPayload } from "@supabase/supabase-js";
import { useDb } from "../lib/supabase.tsx";
import { invalidationsFor, resyncKeys, type WatchedTable } from "./invalidations.ts";

export type LiveState = "connecting" | "live" | "offline";

const TABLES: WatchedTable[] = ["leads", "conversations", "messages", "subscriptions", "owner_notifications", "webhook_endpoints", "webhook_deliveries"];

export function useRealtimeInvalidation(businessId: string | null): LiveState {
  const db = useDb();
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");

  useEffect(() => {
    if (!businessId) return;
    setState("connecting");
    let everSubscribed = false;
    let channel = db.channel(`dashboard:${businessId}`);
    for (const table of TABLES) {
      channel = channel.on(
        "postgres_changes",
        { event: "*", schema: "public", table, filter: `business_id=eq.${businessId}` },
        (payload: RealtimePostgresChangesPayload<Record<string, unknown>>) => {
          const keys = invalidationsFor(
            { table: payload.table, eventType: payload.eventType, new: payload.new as Record<string, unknown>, old: payload.old as Record<string, unknown> },
            businessId,
          );
          for (const queryKey of keys) void queryClient.invalidateQueries({ queryKey });
        },
      );
    }
    channel.subscribe((status) => {
      if (status === "SUBSCRIBED") {
        // Changes made while the socket was down were never delivered: refetch once on (re)join.
        if (everSubscribed) for (const queryKey of resyncKeys) void queryClient.invalidateQueries({ queryKey });
        everSubscribed = true;
        setState("live");
      } else if (status === "CHANNEL_ERROR" || status === "TIMED_OUT" || status === "CLOSED") {
        setState("offline");
      }
    });
    return () => {
      void db.removeChannel(channel);
    };
  }, [db, queryClient, businessId]);

  return state;
}
