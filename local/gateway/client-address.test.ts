// The client address every service sees is the peer's, whatever the client claims: CF-Connecting-IP and
// X-Real-IP are overwritten and the peer is appended to X-Forwarded-For (Cloudflare + Kong), so the
// request.headers that SQL reads (lead intake's per-address limits) cannot be chosen by the caller.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@supabase/supabase-js";
import WebSocket from "ws";
import { rawRequest, startGatewayFixture, type GatewayFixture } from "./test-support.ts";

let f: GatewayFixture;
let fn: string;
let table: string;

before(async () => {
  f = await startGatewayFixture((s) => `
    create function public.client_headers_${s}() returns json language sql stable
      as $$ select current_setting('request.headers', true)::json $$;
    create table public.seen_${s} (id serial primary key, label text, cf text, real_ip text, xff text);
    create function public.seen_${s}_from_headers() returns trigger language plpgsql as $$
    begin
      new.cf := current_setting('request.headers', true)::json->>'cf-connecting-ip';
      new.real_ip := current_setting('request.headers', true)::json->>'x-real-ip';
      new.xff := current_setting('request.headers', true)::json->>'x-forwarded-for';
      return new;
    end $$;
    create trigger seen_${s}_headers before insert on public.seen_${s} for each row execute function public.seen_${s}_from_headers();
    grant insert (label) on public.seen_${s} to anon;
    grant usage on sequence public.seen_${s}_id_seq to anon;`);
  fn = `client_headers_${f.suffix}`;
  table = `seen_${f.suffix}`;
});
after(async () => {
  await f.sql(`drop table if exists public.${table}; drop function if exists public.${fn}, public.${table}_from_headers`);
  await f.close();
});

type Headers = Record<string, string>;

function spoofingClient(headers: Record<string, string>) {
  return createClient(f.gateway.url, f.config.keys.publishableKey, {
    auth: { persistSession: false },
    realtime: { transport: WebSocket as never },
    global: { headers },
  });
}

/** Raw HTTP, for what fetch cannot send: repeated header lines and odd spellings. */
function rawGet(path: string, headerLines: string[]): Promise<string> {
  const head = [`GET ${path} HTTP/1.1`, "Host: x", `apikey: ${f.config.keys.publishableKey}`, ...headerLines, "Connection: close", "", ""];
  return rawRequest(f.gateway.url, head.join("\r\n"));
}

describe("client address", () => {
  test("supabase-js: spoofed CF-Connecting-IP, X-Real-IP and X-Forwarded-For do not reach SQL as the client", async () => {
    const client = spoofingClient({
      "CF-Connecting-IP": "198.51.100.7",
      "X-Real-IP": "203.0.113.9",
      "X-Forwarded-For": "198.51.100.7, 10.0.0.1",
    });
    const { data, error } = await client.rpc(fn);
    assert.equal(error, null);
    const h = data as Headers;
    assert.equal(h["cf-connecting-ip"], "127.0.0.1");
    assert.equal(h["x-real-ip"], "127.0.0.1");
    assert.equal(h["x-forwarded-for"], "198.51.100.7, 10.0.0.1, 127.0.0.1", "the peer is appended, never replaced");

    const plain = (await f.client().rpc(fn)).data as Headers;
    assert.equal(plain["cf-connecting-ip"], "127.0.0.1");
    assert.equal(plain["x-forwarded-for"], "127.0.0.1");
  });

  test("an insert's triggers see the peer even with junk or spoofed addresses", async () => {
    const cases: Array<Record<string, string>> = [{ "CF-Connecting-IP": "junk" }, { "CF-Connecting-IP": "198.51.100.1", "X-Real-IP": "198.51.100.2" }, { "X-Forwarded-For": "" }];
    for (const headers of cases) {
      const label = JSON.stringify(headers);
      const { error } = await spoofingClient(headers).from(table).insert({ label });
      assert.equal(error, null, label);
      const { rows } = await f.sql(`select cf, real_ip, xff from public.${table} where label = $1`, [label]);
      assert.deepEqual(rows, [{ cf: "127.0.0.1", real_ip: "127.0.0.1", xff: headers["X-Forwarded-For"] ? `${headers["X-Forwarded-For"]}, 127.0.0.1` : "127.0.0.1" }], label);
    }
  });

  test("raw fetch with junk values, and raw HTTP with repeated and oddly spelled header lines", async () => {
    const response = await fetch(`${f.gateway.url}/rest/v1/rpc/${fn}`, {
      method: "POST",
      headers: {
        apikey: f.config.keys.publishableKey,
        "Content-Type": "application/json",
        "cf-connecting-ip": "not an address",
        "x-real-ip": "::1; drop table leads",
        "x-forwarded-for": "junk",
      },
      body: "{}",
    });
    assert.equal(response.status, 200);
    const h = (await response.json()) as Headers;
    assert.deepEqual([h["cf-connecting-ip"], h["x-real-ip"], h["x-forwarded-for"]], ["127.0.0.1", "127.0.0.1", "junk, 127.0.0.1"]);

    const raw = await rawGet(`/rest/v1/rpc/${fn}`, [
      "CF-Connecting-IP: 198.51.100.7",
      "cf-connecting-ip: 198.51.100.8",
      "Cf-Connecting-Ip: 198.51.100.9",
      "X-REAL-IP: 203.0.113.1",
      "X-Forwarded-For: 198.51.100.7",
      "x-forwarded-for: 198.51.100.8",
    ]);
    assert.match(raw, /^HTTP\/1\.1 200/);
    const body = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4)) as Headers;
    assert.equal(body["cf-connecting-ip"], "127.0.0.1");
    assert.equal(body["x-real-ip"], "127.0.0.1");
    assert.equal(body["x-forwarded-for"], "198.51.100.7, 198.51.100.8, 127.0.0.1");
  });
});
