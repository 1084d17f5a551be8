// Realtime Authorization for private channels (docs/supabase-standin-spec.md §3.7), the way Realtime runs it: as the
// subscriber's role, with `request.jwt.claims`, `request.headers` and `realtime.topic` set, inside a
// transaction that is always rolled back. Read: two realtime.messages rows (broadcast and presence) are
// inserted for the topic and read back under RLS: the SELECT policies decide which the role sees. Write:
// the role inserts a row; the INSERT policies decide (insufficient_privilege means no).
import { randomUUID } from "node:crypto";
import type pg from "pg";

export interface AuthorizationContext {
  /** The channel topic without the realtime: prefix (what realtime.topic() returns). */
  topic: string;
  role: string;
  claimsJson: string;
  headersJson: string;
}

export class PolicyError extends Error {}

const INSUFFICIENT_PRIVILEGE = "42501";

function setConfigSql(client: pg.PoolClient, ctx: AuthorizationContext): string {
  const lit = (v: string) => client.escapeLiteral(v);
  return `select set_config('role', ${lit(ctx.role)}, true), set_config('realtime.topic', ${lit(ctx.topic)}, true),
                 set_config('request.jwt.claims', ${lit(ctx.claimsJson)}, true), set_config('request.headers', ${lit(ctx.headersJson)}, true)`;
}

export function createPolicies(pool: pg.Pool) {
  async function withRollback<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query("begin");
      return await work(client);
    } finally {
      await client.query("rollback").catch(() => {
        broken = true;
      });
      client.release(broken);
    }
  }

  return {
    /** What the claims may read on the topic; throws PolicyError when a policy fails to run. */
    async readPermissions(ctx: AuthorizationContext): Promise<{ broadcastRead: boolean; presenceRead: boolean }> {
      const broadcastId = randomUUID();
      const presenceId = randomUUID();
      try {
        return await withRollback(async (client) => {
          const lit = (v: string) => client.escapeLiteral(v);
          const results = (await client.query(
            `insert into realtime.messages (id, topic, extension) values (${lit(broadcastId)}, ${lit(ctx.topic)}, 'broadcast'), (${lit(presenceId)}, ${lit(ctx.topic)}, 'presence');
             ${setConfigSql(client, ctx)};
             select id::text from realtime.messages where topic = ${lit(ctx.topic)} and id in (${lit(broadcastId)}, ${lit(presenceId)})`,
          )) as unknown as pg.QueryResult<{ id: string }>[];
          const visible = new Set(results[2].rows.map((r) => r.id));
          return { broadcastRead: visible.has(broadcastId), presenceRead: visible.has(presenceId) };
        });
      } catch (error) {
        throw new PolicyError((error as Error).message);
      }
    },

    /** Whether the claims may write the extension on the topic. */
    async mayWrite(ctx: AuthorizationContext, extension: "broadcast" | "presence"): Promise<boolean> {
      try {
        return await withRollback(async (client) => {
          await client.query(`${setConfigSql(client, ctx)};
            insert into realtime.messages (topic, extension) values (${client.escapeLiteral(ctx.topic)}, ${client.escapeLiteral(extension)})`);
          return true;
        });
      } catch (error) {
        if ((error as { code?: string }).code === INSUFFICIENT_PRIVILEGE) return false;
        console.error(`[realtime] ${extension} write check failed:`, (error as Error).message);
        return false;
      }
    },
  };
}

export type Policies = ReturnType<typeof createPolicies>;
