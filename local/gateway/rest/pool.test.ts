// The REST pool keeps an idle connection past pg.Pool's 10 s default, as PostgREST keeps them 30 s
// (db-pool-max-idletime): a new one costs a SCRAM handshake and a backend that plans every trigger again.
import assert from "node:assert/strict";
import { test } from "node:test";
import { instanceConfig } from "../../config.ts";
import { createRestPool } from "./transaction.ts";

test("an idle pooled connection is still the same backend 11 s later", { timeout: 30_000 }, async () => {
  const pool = createRestPool(instanceConfig().authenticatorDbUrl, 2);
  try {
    const backend = async () => {
      const client = await pool.connect();
      try {
        return (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0].pid;
      } finally {
        client.release();
      }
    };
    const first = await backend();
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    assert.equal(pool.idleCount, 1, "the idle connection is still open");
    assert.equal(await backend(), first, "and serves the next request");
  } finally {
    await pool.end();
  }
});
