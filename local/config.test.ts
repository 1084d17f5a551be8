import assert from "node:assert/strict";
import { test } from "node:test";
import { jwtVerify } from "jose";
import { instanceConfig } from "./config.ts";

test("dev and test instances never share a port", () => {
  const dev = Object.values(instanceConfig("dev").ports);
  const testPorts = Object.values(instanceConfig("test").ports);
  assert.equal(new Set([...dev, ...testPorts]).size, dev.length + testPorts.length);
  assert.equal(instanceConfig("dev").ports.gateway, 54321, "the gateway uses Supabase's local API port");
  assert.equal(instanceConfig("dev").ports.db, 54322, "the database uses Supabase's local DB port");
  assert.equal(instanceConfig("dev").ports.mail, 54324, "the mail inbox uses Supabase's local mail catcher port");
});

test("instance names are validated so they cannot escape .local/", () => {
  assert.throws(() => instanceConfig("../etc"), /invalid instance name/);
});

test("the local anon and service keys are HS256 JWTs of the project secret with Supabase's claims", async () => {
  const { keys } = instanceConfig("dev");
  const secret = new TextEncoder().encode(keys.jwtSecret);
  const anon = await jwtVerify(keys.anonKey, secret, { algorithms: ["HS256"] });
  const service = await jwtVerify(keys.serviceRoleKey, secret, { algorithms: ["HS256"] });
  assert.equal(anon.payload.role, "anon");
  assert.equal(service.payload.role, "service_role");
  assert.equal(anon.payload.iss, "supabase-demo");
  await assert.rejects(jwtVerify(keys.anonKey, new TextEncoder().encode("another-secret-of-sufficient-length!!"), { algorithms: ["HS256"] }));
});
