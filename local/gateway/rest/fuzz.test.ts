// Generated requests (valid-looking select trees, embeds, filters, order, limits, mutations, rpc) with a fixed
// seed: whatever the input, the gateway answers with PostgREST's client errors or results, never a 5xx and
// never an error that means it built bad SQL itself (syntax, unused or untyped parameters, ambiguity).
// Raw HTTP because the point is shapes the typed client would not produce.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startGatewayFixture, type GatewayFixture } from "../test-support.ts";

let f: GatewayFixture;

before(async () => {
  f = await startGatewayFixture(
    (s) => `
create table public.a_${s} (id int primary key, name text, data jsonb, tags text[], n numeric, ts timestamptz default now(), flag boolean);
create table public.b_${s} (id int primary key, a_id int references public.a_${s}(id), title text, meta json);
create table public.c_${s} (id int primary key, label text);
create table public.bc_${s} (b_id int references public.b_${s}(id), c_id int references public.c_${s}(id), primary key (b_id, c_id));
insert into public.a_${s} values (1, 'x', '{"k":1,"arr":[1,2]}', '{a,b}', 1.5, now(), true), (2, null, null, '{}', null, null, false);
insert into public.b_${s} values (1, 1, 't1', '{"z":2}'), (2, 1, 't2', null), (3, null, 't3', null);
insert into public.c_${s} values (1, 'c1'), (2, 'c2');
insert into public.bc_${s} values (1, 1), (1, 2), (3, 2);
create function public.fa_${s}(x int default 1) returns setof public.a_${s} language sql stable as $$ select * from public.a_${s} where id >= x $$;
create function public.fs_${s}(x text) returns text language sql immutable as $$ select upper(x) $$;`,
  );
});

after(async () => {
  const s = f.suffix;
  await f.sql(`drop function public.fa_${s}, public.fs_${s}; drop table public.bc_${s}, public.c_${s}, public.b_${s}, public.a_${s}`);
  await f.close();
});

// SQLSTATEs that can only come from SQL the gateway generated wrongly, whatever the user asked for.
const GATEWAY_BUGS = ["42601", "42P18", "42P08", "42702", "42712", "42803", "0A000", "08P01"];

test("800 generated requests: no 5xx and no gateway-made SQL errors; mutations roll back", async () => {
  const s = f.suffix;
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)];
  const columns: Record<string, string[]> = {
    [`a_${s}`]: ["id", "name", "data", "tags", "n", "ts", "flag", "data->k", "data->>k", "data->arr->0"],
    [`b_${s}`]: ["id", "a_id", "title", "meta", "meta->>z"],
    [`c_${s}`]: ["id", "label"],
  };
  const embeds: Record<string, string[]> = { [`a_${s}`]: [`b_${s}`], [`b_${s}`]: [`a_${s}`, `c_${s}`, "a_id"], [`c_${s}`]: [`b_${s}`] };
  const embedTarget = (embed: string) => (embed === "a_id" ? `a_${s}` : embed);
  const select = (table: string, depth: number): string => {
    const items: string[] = [];
    for (let i = 0, n = 1 + Math.floor(rand() * 3); i < n; i++) {
      const r = rand();
      if (r < 0.2) items.push("*");
      else if (r < 0.7 || depth > 1) items.push(pick(["", "al:"]) + pick(columns[table]) + pick(["", "", "::text"]));
      else {
        const e = pick(embeds[table]);
        items.push(`${pick(["", "x:", "..."])}${e}${pick(["", "!inner", "!left"])}(${select(embedTarget(e), depth + 1)})`);
      }
    }
    return items.join(",");
  };
  const values = ["1", "x", "null", "true", "(1,2)", "{a,b}", "%x%", "*x*", "a b", "2025-01-01", '{"k":1}', "-1", "1.5", ""];
  const ops = ["eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "in", "is", "isdistinct", "fts", "plfts", "cs", "cd", "ov", "not.eq", "eq(any)", "like(all)"];
  const wrong: string[] = [];
  const statuses = new Set<number>();
  for (let i = 0; i < 800; i++) {
    const table = pick(Object.keys(columns));
    const p = new URLSearchParams();
    p.set("select", select(table, 0));
    for (let j = 0, n = Math.floor(rand() * 3); j < n; j++) p.append(pick(columns[table]), `${pick(ops)}.${pick(values)}`);
    if (rand() < 0.3) p.set("order", `${pick(columns[table])}.${pick(["asc", "desc"])}.${pick(["nullsfirst", "nullslast"])}`);
    if (rand() < 0.3) p.set("or", `(${pick(columns[table])}.${pick(ops)}.${pick(values)},${pick(columns[table])}.is.null)`);
    if (rand() < 0.3) p.set("limit", pick(["0", "1", "5"]));
    if (rand() < 0.2) p.set("offset", pick(["0", "1", "9"]));
    const method = pick(["GET", "GET", "HEAD", "POST", "PATCH", "DELETE"]);
    const rpc = rand() < 0.1;
    const path = rpc ? pick([`rpc/fa_${s}`, `rpc/fs_${s}`]) : table;
    const res = await fetch(`${f.gateway.url}/rest/v1/${path}?${p}`, {
      method,
      headers: {
        apikey: f.config.keys.secretKey,
        "Content-Type": "application/json",
        Prefer: pick(["return=representation", "count=exact", "return=minimal", "resolution=merge-duplicates,return=representation"]) + ",tx=rollback",
        Accept: pick(["application/json", "application/vnd.pgrst.object+json", "text/csv", "*/*"]),
      },
      body:
        method === "POST"
          ? pick(['{"id": 9}', '[{"id":10,"name":"q"},{"id":11,"name":null}]', '{"x": 9}', rpc ? '{"x": 2}' : '{"id": 1}'])
          : method === "PATCH"
            ? pick(['{"name":"z"}', "{}", '{"title":"u"}'])
            : undefined,
    });
    const text = await res.text();
    statuses.add(res.status);
    let code = "";
    try {
      code = JSON.parse(text).code ?? "";
    } catch {
      // HEAD, CSV and empty bodies
    }
    if (res.status >= 500 || GATEWAY_BUGS.includes(code)) wrong.push(`${method} ${path}?${p} -> ${res.status} ${text.slice(0, 300)}`);
  }
  assert.deepEqual(wrong, []);
  // The generator reaches successes, partial pages and client errors alike, not just parse failures.
  for (const status of [200, 201, 204, 206, 400, 404, 406, 409]) assert.ok(statuses.has(status), `no ${status} seen`);
  const { data } = await f.client(f.config.keys.secretKey).from(`a_${s}`).select("id").order("id");
  assert.deepEqual(data, [{ id: 1 }, { id: 2 }]);
});
