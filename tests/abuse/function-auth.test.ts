// Issue 12: sms-dispatch and summarize work for the whole platform, so only the service role (its legacy
// key or a secret key) may call them; every other valid project credential gets 401 with a code.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient } from "@supabase/supabase-js";
import ws from "ws";
import { loadStack } from "../support/stack.ts";

const stack = loadStack();
const functions = ["sms-dispatch", "summarize"] as const;

async function call(name: string, headers: Record<string, string>) {
  const res = await fetch(`${stack.functionsUrl}/${name}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: "{}" });
  const text = await res.text();
  return { status: res.status, text, body: (() => { try { return JSON.parse(text); } catch { return null; } })() };
}

async function userJwt(): Promise<string> {
  const client = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
  const { data, error } = await client.auth.signInWithPassword({ email: stack.demo.email, password: stack.demo.password });
  assert.equal(error, null);
  return data.session!.access_token;
}

test("the anon key, a signed-in user, a publishable key or nothing: 401 with a code and a safe message", async () => {
  const jwt = await userJwt();
  const callers: Record<string, Record<string, string>> = {
    "no credentials": {},
    "the anon key": { apikey: stack.anonKey, Authorization: `Bearer ${stack.anonKey}` },
    "a user's JWT": { apikey: stack.anonKey, Authorization: `Bearer ${jwt}` },
    "the publishable key": { apikey: stack.publishableKey, Authorization: `Bearer ${stack.publishableKey}` },
    "a made-up secret key": { apikey: "sb_secret_made_up", Authorization: "Bearer sb_secret_made_up" },
  };
  for (const name of functions) {
    for (const [who, headers] of Object.entries(callers)) {
      const r = await call(name, headers);
      assert.equal(r.status, 401, `${name} with ${who}: ${r.text}`);
      assert.equal(r.body?.error, "unauthorized", `${name} with ${who}`);
      assert.doesNotMatch(r.text, /claimed|sent|completed/, "no platform counts leak");
    }
  }
});

test("supabase-js with the anon key gets a FunctionsHttpError 401", async () => {
  const client = createClient(stack.supabaseUrl, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
  for (const name of functions) {
    const { error } = await client.functions.invoke(name, { body: {} });
    assert.equal((error as { context?: Response })?.context?.status, 401, name);
  }
});

test("the service role key and the secret key are accepted", async () => {
  for (const name of functions) {
    const legacy = await call(name, { apikey: stack.serviceRoleKey, Authorization: `Bearer ${stack.serviceRoleKey}` });
    assert.equal(legacy.status, 200, `${name}: ${legacy.text}`);
    const secret = await call(name, { apikey: stack.secretKey, Authorization: `Bearer ${stack.secretKey}` });
    assert.equal(secret.status, 200, `${name}: ${secret.text}`);
  }
});
