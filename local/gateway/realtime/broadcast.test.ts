// Broadcast, presence and private channels through the gateway with the unmodified supabase-js, on both
// serializers (docs/supabase-standin-spec.md §3.7): binary broadcast frames on vsn 2.0.0 and JSON on 1.0.0,
// channel.send() with the client's default settings, httpSend() and the batch REST endpoint, presence
// sync/join/leave, and private channels authorized by RLS policies on realtime.messages.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { RealtimeChannel, SupabaseClient } from "@supabase/supabase-js";
import { RawSocket, realtimeClient, sleep, waitFor } from "./test-harness.ts";
import { startRealtimeSuite, type RealtimeSuite } from "./test-suite.ts";

type Vsn = "1.0.0" | "2.0.0";
type Received = { event: string; payload: unknown; meta?: unknown };

function join(channel: RealtimeChannel): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.subscribe((status, error) => {
      if (status === "SUBSCRIBED") resolve();
      else if (status === "CHANNEL_ERROR" || status === "TIMED_OUT") reject(error ?? new Error(status));
    });
  });
}

function joinError(channel: RealtimeChannel): Promise<string> {
  return new Promise((resolve, reject) => {
    channel.subscribe((status, error) => {
      if (status === "CHANNEL_ERROR") resolve(error?.message ?? "");
      else if (status === "SUBSCRIBED") reject(new Error("the join was accepted"));
    });
  });
}

describe("realtime broadcast, presence and private channels", { timeout: 120_000 }, () => {
  let s: RealtimeSuite;
  const extra: SupabaseClient[] = [];
  const policies: string[] = [];

  before(async () => {
    s = await startRealtimeSuite();
  });
  after(async () => {
    for (const c of extra) await c.removeAllChannels();
    for (const name of policies) await s.f.db.query(`drop policy if exists "${name}" on realtime.messages`);
    await s.stop();
  });

  async function client(vsn: Vsn, token = s.ownerA.accessToken): Promise<SupabaseClient> {
    const c = await realtimeClient(s.h, token, vsn);
    extra.push(c);
    return c;
  }

  function listen(channel: RealtimeChannel, into: Received[]): RealtimeChannel {
    return channel.on("broadcast", { event: "*" }, (message) => into.push(message as unknown as Received));
  }

  for (const [from, to] of [["2.0.0", "1.0.0"], ["1.0.0", "2.0.0"], ["2.0.0", "2.0.0"]] as Array<[Vsn, Vsn]>) {
    it(`channel.send() from vsn ${from} reaches vsn ${to} with the client's default settings`, async () => {
      const topic = `room-${randomUUID()}`;
      const got: Received[] = [];
      const sender = (await client(from)).channel(topic);
      await join(sender);
      await join(listen((await client(to)).channel(topic), got));
      assert.equal(await sender.send({ type: "broadcast", event: "cursor", payload: { x: 1, text: "héllo" } }), "ok");
      const message = await waitFor(got, () => true);
      assert.deepEqual(message, { type: "broadcast", event: "cursor", payload: { x: 1, text: "héllo" } });
    });
  }

  it("acks a broadcast when asked (binary push on vsn 2.0.0), echoes to self only with self: true", async () => {
    const topic = `ack-${randomUUID()}`;
    const own: Received[] = [];
    const noSelf: Received[] = [];
    const a = (await client("2.0.0")).channel(topic, { config: { broadcast: { ack: true, self: true } } });
    const b = (await client("2.0.0")).channel(topic, { config: { broadcast: { ack: true } } });
    await join(listen(a, own));
    await join(listen(b, noSelf));
    assert.equal(await a.send({ type: "broadcast", event: "e", payload: { n: 1 } }), "ok");
    assert.equal(await b.send({ type: "broadcast", event: "e", payload: { n: 2 } }), "ok");
    await waitFor(own, (m) => (m.payload as { n: number }).n === 2);
    assert.deepEqual(own.map((m) => (m.payload as { n: number }).n).sort(), [1, 2]);
    await sleep(200);
    assert.deepEqual(noSelf.map((m) => (m.payload as { n: number }).n), [1]);
  });

  it("sends kind 4 binary frames to a vsn 2.0.0 socket and takes a raw kind 3 push", async () => {
    const topic = `raw-${randomUUID()}`;
    const raw = await RawSocket.open(s.h, { apikey: s.h.config.keys.publishableKey, vsn: "2.0.0" });
    s.sockets.push(raw);
    const binaries: Buffer[] = [];
    raw.ws.on("message", (data, isBinary) => {
      if (isBinary) binaries.push(data as Buffer);
    });
    raw.send(["1", "1", `realtime:${topic}`, "phx_join", { config: { broadcast: { self: true, ack: true } } }]);
    await raw.waitFor((m) => m[1] === "1" && m[3] === "phx_reply");
    // kind 3: join_ref "1", ref "2", the topic, event "hi", no metadata, JSON payload
    const fields = ["1", "2", `realtime:${topic}`, "hi", ""].map((f) => Buffer.from(f));
    raw.ws.send(Buffer.concat([Buffer.from([3, ...fields.map((f) => f.length), 1]), ...fields, Buffer.from('{"a":[1,2]}')]));
    const ack = await raw.waitFor((m) => m[1] === "2");
    assert.deepEqual(ack, ["1", "2", `realtime:${topic}`, "phx_reply", { status: "ok", response: {} }]);
    await waitFor(binaries, () => true);
    const frame = binaries[0];
    assert.equal(frame[0], 4);
    const [topicLength, eventLength, metaLength, encoding] = [frame[1], frame[2], frame[3], frame[4]];
    assert.equal(encoding, 1);
    assert.equal(metaLength, 0);
    assert.equal(frame.subarray(5, 5 + topicLength).toString(), `realtime:${topic}`);
    assert.equal(frame.subarray(5 + topicLength, 5 + topicLength + eventLength).toString(), "hi");
    assert.deepEqual(JSON.parse(frame.subarray(5 + topicLength + eventLength).toString()), { a: [1, 2] });
    // A truncated binary frame is dropped without harming the socket.
    raw.ws.send(Buffer.from([3, 9, 9, 9, 9, 0, 1, 65]));
    raw.send([null, "3", "phoenix", "heartbeat", {}]);
    assert.equal((await raw.waitFor((m) => m[1] === "3"))[4].status, "ok");
  });

  it("httpSend() delivers JSON and bytes; the batch endpoint answers 202, 422 and 401", async () => {
    const topic = `http-${randomUUID()}`;
    const v2: Received[] = [];
    const v1: Received[] = [];
    await join(listen((await client("2.0.0")).channel(topic), v2));
    await join(listen((await client("1.0.0")).channel(topic), v1));
    const sender = (await client("2.0.0")).channel(topic);
    assert.deepEqual(await sender.httpSend("json", { ok: true }), { success: true });
    assert.deepEqual(await sender.httpSend("bytes", new Uint8Array([1, 2, 250])), { success: true });
    await waitFor(v2, (m) => m.event === "bytes");
    assert.deepEqual(v2.find((m) => m.event === "json")?.payload, { ok: true });
    const bytes = v2.find((m) => m.event === "bytes")?.payload as ArrayBuffer;
    assert.deepEqual([...new Uint8Array(bytes)], [1, 2, 250]);
    await waitFor(v1, (m) => m.event === "json");
    await sleep(200);
    assert.equal(v1.filter((m) => m.event === "bytes").length, 0, "vsn 1.0.0 cannot carry bytes");

    const url = `${s.h.url}/realtime/v1/api/broadcast`;
    const headers = { apikey: s.h.config.keys.publishableKey, "Content-Type": "application/json" };
    const ok = await fetch(url, { method: "POST", headers, body: JSON.stringify({ messages: [{ topic, event: "batch", payload: { n: 1 } }] }) });
    assert.equal(ok.status, 202);
    await waitFor(v2, (m) => m.event === "batch");
    const invalid = await fetch(url, { method: "POST", headers, body: JSON.stringify({ messages: [{ topic, event: "x", payload: "not an object" }] }) });
    assert.equal(invalid.status, 422);
    assert.match(((await invalid.json()) as { message: string }).message, /payload/);
    const anonymous = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    assert.equal(anonymous.status, 401);
    // channel.send() on a channel that never joined falls back to the batch endpoint, as realtime-js does.
    const unjoined = (await client("2.0.0")).channel(topic);
    assert.equal(await unjoined.send({ type: "broadcast", event: "fallback", payload: { via: "rest" } }), "ok");
    await waitFor(v2, (m) => m.event === "fallback");
  });

  for (const vsn of ["2.0.0", "1.0.0"] as Vsn[]) {
    it(`presence on vsn ${vsn}: state on join, joins on track, leaves on untrack and disconnect`, async () => {
      const topic = `presence-${randomUUID()}`;
      const watcherClient = await client(vsn);
      const watcher = watcherClient.channel(topic, { config: { presence: { key: "watcher" } } });
      const joins: string[] = [];
      const leaves: string[] = [];
      watcher
        .on("presence", { event: "join" }, ({ key }) => joins.push(key))
        .on("presence", { event: "leave" }, ({ key }) => leaves.push(key));
      const trackerClient = await client(vsn, s.ownerB.accessToken);
      const tracker = trackerClient.channel(topic, { config: { presence: { key: "owner-b" } } });
      tracker.on("presence", { event: "sync" }, () => undefined);
      await join(tracker);
      assert.equal(await tracker.track({ status: "online" }), "ok");
      await join(watcher);
      // presence_state on join already holds owner-b
      await waitFor([watcher.presenceState()], (state) => "owner-b" in state);
      assert.equal((watcher.presenceState()["owner-b"][0] as unknown as { status: string }).status, "online");
      assert.equal(await tracker.untrack(), "ok");
      await waitFor(leaves, (k) => k === "owner-b");
      assert.ok(!("owner-b" in watcher.presenceState()));
      assert.equal(await tracker.track({ status: "back" }), "ok");
      await waitFor([0], () => "owner-b" in watcher.presenceState());
      trackerClient.realtime.disconnect();
      await waitFor([0], () => !("owner-b" in watcher.presenceState()));
      assert.ok(joins.includes("owner-b"));
    });
  }

  it("a second track is an update: the diff leaves the old meta and joins the new one with phx_ref_prev", async () => {
    const topic = `realtime:presence-raw-${randomUUID()}`;
    const raw = await RawSocket.open(s.h, { apikey: s.h.config.keys.publishableKey, vsn: "2.0.0" });
    s.sockets.push(raw);
    raw.send(["1", "1", topic, "phx_join", { config: { presence: { key: "me", enabled: true } } }]);
    assert.deepEqual((await raw.waitFor((m) => m[3] === "presence_state"))[4], {});
    raw.send(["1", "2", topic, "presence", { type: "presence", event: "track", payload: { v: 1 } }]);
    const first = await raw.waitFor((m) => m[3] === "presence_diff");
    const ref1 = first[4].joins.me.metas[0].phx_ref;
    assert.deepEqual(first[4], { joins: { me: { metas: [{ v: 1, phx_ref: ref1 }] } }, leaves: {} });
    raw.send(["1", "3", topic, "presence", { type: "presence", event: "track", payload: { v: 2 } }]);
    const second = await raw.waitFor((m) => m[3] === "presence_diff" && m[4].joins.me?.metas[0].v === 2);
    const ref2 = second[4].joins.me.metas[0].phx_ref;
    assert.notEqual(ref2, ref1);
    assert.deepEqual(second[4], { joins: { me: { metas: [{ v: 2, phx_ref: ref2, phx_ref_prev: ref1 }] } }, leaves: { me: { metas: [{ v: 1, phx_ref: ref1 }] } } });
    raw.send(["1", "4", topic, "phx_leave", {}]);
    await raw.waitFor((m) => m[3] === "phx_close");
  });

  it("private channels: RLS on realtime.messages decides who reads and writes, broadcast and presence alike", async () => {
    const topic = `private-${randomUUID()}`;
    const tag = randomUUID().slice(0, 8);
    policies.push(`rt test ${tag} read`, `rt test ${tag} write`);
    await s.f.db.query(`
      create policy "rt test ${tag} read" on realtime.messages for select to authenticated
        using (realtime.topic() = '${topic}' and (select auth.uid()) in ('${s.ownerA.userId}', '${s.ownerB.userId}'));
      create policy "rt test ${tag} write" on realtime.messages for insert to authenticated
        with check (realtime.topic() = '${topic}' and extension = 'broadcast' and (select auth.uid()) = '${s.ownerA.userId}');`);

    // Signed out (anon): no policy lets it read.
    const anonClient = await realtimeClient(s.h, undefined);
    extra.push(anonClient);
    const refused = await joinError(anonClient.channel(topic, { config: { private: true } }));
    assert.match(refused, new RegExp(`Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`));

    const gotB: Received[] = [];
    const gotPublic: Received[] = [];
    const a = (await client("2.0.0")).channel(topic, { config: { private: true, broadcast: { ack: true } } });
    const b = (await client("1.0.0", s.ownerB.accessToken)).channel(topic, { config: { private: true, broadcast: { ack: true } } });
    await join(a);
    await join(listen(b, gotB));
    await join(listen((await client("2.0.0")).channel(topic), gotPublic));
    assert.equal(await a.send({ type: "broadcast", event: "secret", payload: { n: 1 } }), "ok");
    await waitFor(gotB, (m) => m.event === "secret");
    // B may read but not write: its broadcast is refused (ack error) and reaches nobody.
    assert.equal(await b.send({ type: "broadcast", event: "from-b", payload: {} }), "error");
    // Nor may B track presence: the insert policy only allows broadcast.
    assert.equal(await b.track({ here: true }), "error");
    // httpSend on the private channel: A's goes out, B's is dropped (still 202, as Realtime answers).
    assert.deepEqual(await a.httpSend("http-secret", { n: 2 }), { success: true });
    await waitFor(gotB, (m) => m.event === "http-secret");
    const bHttp = (await client("2.0.0", s.ownerB.accessToken)).channel(topic, { config: { private: true } });
    assert.deepEqual(await bHttp.httpSend("http-from-b", { n: 3 }), { success: true });
    await sleep(300);
    assert.ok(!gotB.some((m) => m.event === "from-b" || m.event === "http-from-b"));
    assert.equal(gotPublic.length, 0, "a public channel of the same name never sees private messages");
  });
});
