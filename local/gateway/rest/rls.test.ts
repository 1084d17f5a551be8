// Row Level Security and role isolation through @supabase/supabase-js: denials carry PostgREST's codes
// (42501 as 401 for anon, 403 for a user) and concurrent requests never share a transaction or a role.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { signedInClient, startGatewayFixture, type GatewayFixture } from "../test-support.ts";

let f: GatewayFixture;
let T: (name: string) => string;

const schema = (s: string) => `
create table public.notes_${s} (
  id bigint generated always as identity primary key,
  owner uuid not null default auth.uid() references auth.users(id),
  body text not null
);
alter table public.notes_${s} enable row level security;
create policy owner_all on public.notes_${s} for all to authenticated using (owner = auth.uid()) with check (owner = auth.uid());

-- Like the widget's leads table: anon may insert but never read back.
create table public.inbox_${s} (id bigint generated always as identity primary key, message text not null check (length(message) < 50));
alter table public.inbox_${s} enable row level security;
create policy anon_insert on public.inbox_${s} for insert to anon with check (true);

create table public.secrets_${s} (id int primary key, value text);
revoke all on public.secrets_${s} from anon, authenticated;
insert into public.secrets_${s} values (1, 'hidden');

create function public.whoami_${s}(pause float8 default 0) returns json language plpgsql volatile as $$
begin
  perform pg_sleep(pause);
  return json_build_object('role', current_user, 'uid', auth.uid(), 'txid', txid_current(), 'claims_role', auth.jwt() ->> 'role');
end $$;
`;

before(async () => {
  f = await startGatewayFixture(schema);
  T = (name) => `${name}_${f.suffix}`;
});
after(async () => {
  const s = f.suffix;
  await f.sql(`drop table if exists public.notes_${s}, public.inbox_${s}, public.secrets_${s}; drop function if exists public.whoami_${s}`);
  await f.close();
});

describe("row level security", () => {
  test("anon: insert without return works, reading back or inserting where no policy allows is 42501/401", async () => {
    const anon = f.client();
    const ok = await anon.from(T("inbox")).insert({ message: "call me back" });
    assert.equal(ok.status, 201);
    assert.equal(ok.error, null);
    const withSelect = await anon.from(T("inbox")).insert({ message: "and show it" }).select();
    assert.equal(withSelect.status, 401);
    assert.equal(withSelect.error?.code, "42501");
    const read = await anon.from(T("inbox")).select();
    assert.equal(read.status, 200);
    assert.deepEqual(read.data, []);
    const notes = await anon.from(T("notes")).insert({ body: "no user" });
    assert.equal(notes.status, 401);
    assert.equal(notes.error?.code, "42501");
    const check = await anon.from(T("inbox")).insert({ message: "x".repeat(80) });
    assert.equal(check.status, 400);
    assert.equal(check.error?.code, "23514");
  });

  test("grants: a table revoked from API roles is 42501 (401 anon, 403 user); service_role bypasses", async () => {
    const anon = await f.client().from(T("secrets")).select();
    assert.equal(anon.status, 401);
    assert.equal(anon.error?.code, "42501");
    const user = await signedInClient(f, "grants");
    const denied = await user.client.from(T("secrets")).select();
    assert.equal(denied.status, 403);
    assert.equal(denied.error?.code, "42501");
    await f.sql(`grant select on public.secrets_${f.suffix} to service_role`);
    const service = await f.client(f.config.keys.secretKey).from(T("secrets")).select("value");
    assert.deepEqual(service.data, [{ value: "hidden" }]);
  });

  test("users see and change only their own rows", async () => {
    const a = await signedInClient(f, "owner-a");
    const b = await signedInClient(f, "owner-b");
    const mine = await a.client.from(T("notes")).insert({ body: "a's note" }).select("body, owner").single();
    assert.deepEqual(mine.data, { body: "a's note", owner: a.userId });
    await b.client.from(T("notes")).insert({ body: "b's note" });
    const forged = await b.client.from(T("notes")).insert({ body: "pretend", owner: a.userId });
    assert.equal(forged.status, 403);
    assert.equal(forged.error?.code, "42501");
    assert.deepEqual((await a.client.from(T("notes")).select("body")).data, [{ body: "a's note" }]);
    assert.deepEqual((await b.client.from(T("notes")).select("body")).data, [{ body: "b's note" }]);
    const hijack = await b.client.from(T("notes")).update({ body: "hijacked" }).eq("owner", a.userId).select();
    assert.deepEqual(hijack.data, []);
    const wipe = await b.client.from(T("notes")).delete().eq("owner", a.userId).select();
    assert.deepEqual(wipe.data, []);
    assert.deepEqual((await a.client.from(T("notes")).select("body")).data, [{ body: "a's note" }]);
    const all = await f.client(f.config.keys.secretKey).from(T("notes")).select("body", { count: "exact", head: true }).in("owner", [a.userId, b.userId]);
    assert.equal(all.count, 2);
  });
});

describe("isolation", () => {
  test("50 concurrent requests alternating anon, user and service_role never share a role or a transaction", async () => {
    const user = await signedInClient(f, "concurrent");
    const anon = f.client();
    const service = f.client(f.config.keys.secretKey);
    const legacyService = f.client(f.config.keys.serviceRoleKey);
    const callers = [
      { client: anon, role: "anon", uid: null },
      { client: user.client, role: "authenticated", uid: user.userId },
      { client: service, role: "service_role", uid: null },
      { client: legacyService, role: "service_role", uid: null },
    ];
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const caller = callers[i % callers.length];
        const { data, error } = await caller.client.rpc(T("whoami"), { pause: 0.02 * (i % 5) });
        assert.equal(error, null);
        return { expected: caller, got: data as { role: string; uid: string | null; txid: number; claims_role: string } };
      }),
    );
    for (const { expected, got } of results) {
      assert.equal(got.role, expected.role);
      assert.equal(got.claims_role, expected.role);
      assert.equal(got.uid, expected.uid);
    }
    const txids = new Set(results.map((r) => r.got.txid));
    assert.equal(txids.size, 50);
  });

  test("an unknown role claim is refused, not run as something else", async () => {
    const { signHs256 } = await import("../../keys.ts");
    const token = signHs256({ role: "postgres", exp: Math.floor(Date.now() / 1000) + 600 }, f.config.keys.jwtSecret);
    const c = f.client();
    const res = await c.rpc(T("whoami")).setHeader("Authorization", `Bearer ${token}`);
    assert.ok(res.status === 401 || res.status === 403, `status ${res.status}`);
    assert.equal(res.data, null);
    const ghost = signHs256({ role: "no_such_role", exp: Math.floor(Date.now() / 1000) + 600 }, f.config.keys.jwtSecret);
    const res2 = await c.rpc(T("whoami")).setHeader("Authorization", `Bearer ${ghost}`);
    assert.equal(res2.status, 401);
    assert.equal(res2.error?.code, "22023");
  });
});
