// Presence as Realtime runs it on Phoenix.Presence (docs/supabase-standin-spec.md §3.7): per topic (public and private
// topics apart), each tracked channel has one entry under its presence key with a `phx_ref`. A joiner with
// presence enabled gets `presence_state`; track, re-track (an update: the old meta leaves, the new one
// joins with `phx_ref_prev`), untrack, leave and disconnect send `presence_diff` to every channel of the
// topic that may read presence.
import { randomBytes } from "node:crypto";
import { send, type Channel, type Connection } from "./connection.ts";

type Meta = Record<string, unknown> & { phx_ref: string; phx_ref_prev?: string };

interface Tracked {
  conn: Connection;
  channel: Channel;
  key: string;
  meta: Meta;
}

type PresenceMap = Record<string, { metas: Meta[] }>;

function newRef(): string {
  return randomBytes(12).toString("base64url");
}

function scope(channel: Channel): string {
  return `${channel.private ? "private" : "public"}:${channel.topic}`;
}

function mayRead(channel: Channel): boolean {
  return !channel.private || channel.permissions?.presenceRead === true;
}

export function createPresence(connections: Set<Connection>) {
  /** scope -> tracked entries, one per tracking channel. */
  const topics = new Map<string, Map<Channel, Tracked>>();

  function stateOf(scopeKey: string): PresenceMap {
    const state: PresenceMap = {};
    for (const entry of topics.get(scopeKey)?.values() ?? []) (state[entry.key] ??= { metas: [] }).metas.push(entry.meta);
    return state;
  }

  function broadcastDiff(channel: Channel, joins: PresenceMap, leaves: PresenceMap): void {
    const scopeKey = scope(channel);
    for (const conn of connections) {
      const target = conn.channels.get(channel.topic);
      if (!target || scope(target) !== scopeKey || !mayRead(target)) continue;
      if (!target.presenceEnabled && !topics.get(scopeKey)?.has(target)) continue;
      send(conn, { joinRef: null, ref: null, topic: target.topic, event: "presence_diff", payload: { joins, leaves } });
    }
  }

  return {
    /** After a join with presence enabled: the current state, to that channel only. */
    sendState(conn: Connection, channel: Channel): void {
      if (!channel.presenceEnabled || !mayRead(channel)) return;
      send(conn, { joinRef: channel.joinRef, ref: null, topic: channel.topic, event: "presence_state", payload: stateOf(scope(channel)) });
    },

    track(conn: Connection, channel: Channel, payload: Record<string, unknown>): void {
      const scopeKey = scope(channel);
      let entries = topics.get(scopeKey);
      if (!entries) topics.set(scopeKey, (entries = new Map()));
      const previous = entries.get(channel);
      const meta: Meta = { ...payload, phx_ref: newRef(), ...(previous ? { phx_ref_prev: previous.meta.phx_ref } : {}) };
      entries.set(channel, { conn, channel, key: channel.presenceKey, meta });
      const leaves: PresenceMap = previous ? { [previous.key]: { metas: [previous.meta] } } : {};
      broadcastDiff(channel, { [channel.presenceKey]: { metas: [meta] } }, leaves);
    },

    /** Untrack, leave, close or disconnect: the channel's presence leaves, if it had one. */
    untrack(channel: Channel): void {
      const scopeKey = scope(channel);
      const entries = topics.get(scopeKey);
      const previous = entries?.get(channel);
      if (!entries || !previous) return;
      entries.delete(channel);
      if (entries.size === 0) topics.delete(scopeKey);
      broadcastDiff(channel, {}, { [previous.key]: { metas: [previous.meta] } });
    },
  };
}

export type Presence = ReturnType<typeof createPresence>;
