// Realtime across restarts: a supabase-js subscription rejoins by itself after the gateway comes back on
// the same port, the replication slot is temporary and gone after close, and neither a leftover slot nor
// a gateway killed with SIGKILL stops the next one from starting and delivering.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import type { RealtimePostgresChangesPayload } from "@supabase/supabase-js";
import { instanceConfig, projectRoot } from "../../config.ts";
import { SLOT_PREFIX } from "./capture.ts";
import {
  createTenantFixture,
  realtimeClient,
  signedInUser,
  startRealtimeHarness,
  startTestGateway,
  waitFor,
  type TenantFixture,
} from "./test-harness.ts";

type Change = RealtimePostgresChangesPayload<Record<string, unknown>>;

describe("realtime restarts", { timeout: 120_000 }, () => {
  const config = instanceConfig();
  const db = new pg.Client({ connectionString: config.dbUrl });
  before(() => db.connect());
  after(() => db.end());

  async function ourSlots(): Promise<Array<{ slot_name: string; temporary: boolean; active: boolean }>> {
    const { rows } = await db.query("select slot_name, temporary, active from pg_replication_slots where starts_with(slot_name, $1)", [SLOT_PREFIX]);
    return rows;
  }

  it("a supabase-js subscription comes back by itself after the gateway restarts", async () => {
    let h = await startTestGateway();
    const owner = await signedInUser(h);
    const f: TenantFixture = await createTenantFixture(config, { userA: owner.userId, userB: randomUUID() });
    const events: Change[] = [];
    const systemOks: number[] = [];
    const statuses: string[] = [];
    try {
      owner.client
        .channel("restart")
        .on("postgres_changes", { event: "INSERT", schema: "public", table: f.items }, (p) => events.push(p as Change))
        .on("system", {}, (p: { extension?: string; status?: string }) => {
          if (p.extension === "postgres_changes" && p.status === "ok") systemOks.push(Date.now());
        })
        .subscribe((status) => statuses.push(status));
      await waitFor(systemOks, () => true);
      await f.db.query(`insert into public.${f.items} (business_id, title) values ($1, 'before')`, [f.businessA]);
      await waitFor(events, (e) => (e.new as Record<string, unknown>).title === "before");

      const port = h.port;
      await h.stop();
      await waitFor(statuses, (s) => s === "CHANNEL_ERROR" || s === "CLOSED", 10_000);
      h = await startTestGateway(port);
      // realtime-js retries after 1 s, 2 s, 5 s, then every 10 s.
      await waitFor(systemOks, () => systemOks.length >= 2, 30_000);
      await f.db.query(`insert into public.${f.items} (business_id, title) values ($1, 'after')`, [f.businessA]);
      const afterRestart = await waitFor(events, (e) => (e.new as Record<string, unknown>).title === "after");
      assert.equal((afterRestart.new as Record<string, unknown>).business_id, f.businessA);
    } finally {
      await owner.client.removeAllChannels();
      await f.drop();
      await h.stop();
    }
  });

  it("uses a temporary slot that is gone after close, and drops leftover slots nobody uses", async () => {
    const stale = `${SLOT_PREFIX}stale_${randomUUID().replace(/-/g, "").slice(0, 8)}`;
    await db.query("select pg_create_logical_replication_slot($1, 'wal2json', false)", [stale]);
    const h = await startRealtimeHarness();
    try {
      const slots = await ourSlots();
      assert.ok(!slots.some((s) => s.slot_name === stale), "the leftover permanent slot was dropped");
      const mine = slots.filter((s) => s.slot_name.startsWith(`${SLOT_PREFIX}${process.pid}_`));
      assert.equal(mine.length, 1);
      assert.equal(mine[0].temporary, true);
      assert.equal(mine[0].active, true);
    } finally {
      await h.stop();
    }
    assert.equal((await ourSlots()).filter((s) => s.slot_name.startsWith(`${SLOT_PREFIX}${process.pid}_`)).length, 0);
  });

  it("a gateway killed with SIGKILL does not block the next one", async () => {
    const script = `
      import { createRealtime } from ${JSON.stringify(join(projectRoot, "local/gateway/realtime/index.ts"))};
      import { instanceConfig } from ${JSON.stringify(join(projectRoot, "local/config.ts"))};
      await createRealtime({ config: instanceConfig() });
      console.log("ready");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: projectRoot,
      env: process.env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
      child.once("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const childSlots = () => ourSlots().then((slots) => slots.filter((s) => s.slot_name.startsWith(`${SLOT_PREFIX}${child.pid}_`)));
    assert.equal((await childSlots()).length, 1);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));

    const h = await startRealtimeHarness();
    const f = await createTenantFixture(config);
    const client = await realtimeClient(h, h.config.keys.serviceRoleKey);
    try {
      const events: Change[] = [];
      const ok: boolean[] = [];
      client
        .channel("after-crash")
        .on("postgres_changes", { event: "INSERT", schema: "public", table: f.items }, (p) => events.push(p as Change))
        .on("system", {}, (p: { status?: string }) => ok.push(p.status === "ok"))
        .subscribe();
      await waitFor(ok, (v) => v);
      await f.db.query(`insert into public.${f.items} (business_id, title) values ($1, 'after crash')`, [f.businessA]);
      await waitFor(events, (e) => (e.new as Record<string, unknown>).title === "after crash");
      // The crashed process's session ended, and its temporary slot with it.
      const deadline = Date.now() + 10_000;
      while ((await childSlots()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal((await childSlots()).length, 0);
    } finally {
      await client.removeAllChannels();
      await f.drop();
      await h.stop();
    }
  });
});
