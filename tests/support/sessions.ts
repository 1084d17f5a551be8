// Several sessions on the instance's database for one test file: races between transactions are forced by
// holding one session's transaction open while another acts. Opened before the file's tests with one
// committed business of their own, which is removed after them.
import { after, before } from "node:test";
import pg from "pg";
import { instanceConfig } from "../../local/config.ts";
import { type BusinessOptions, createBusiness, deleteBusiness, type TestBusiness } from "./fixtures.ts";

export interface Sessions {
  connections: pg.Client[];
  business: TestBusiness;
}

/**
 * Registers the file's before and after hooks; the connections and the business are there once the tests run.
 * `prepare` runs in the same hook, once they are: Node 20 runs a file's top-level before hooks side by side,
 * so a second hook could not count on them.
 */
export function useSessions(count: number, options: BusinessOptions, prepare?: (sessions: Sessions) => Promise<void>): Sessions {
  const sessions = { connections: [] } as unknown as Sessions;
  before(async () => {
    for (let i = 0; i < count; i++) {
      const client = new pg.Client({ connectionString: instanceConfig().dbUrl });
      await client.connect();
      sessions.connections.push(client);
    }
    sessions.business = await createBusiness(sessions.connections[0], options);
    await prepare?.(sessions);
  });
  after(async () => {
    try {
      if (sessions.business) await deleteBusiness(sessions.connections[0], sessions.business.id);
    } finally {
      await Promise.all(sessions.connections.map((client) => client.end()));
    }
  });
  return sessions;
}
