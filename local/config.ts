// One place that says where each local instance lives and which ports it uses.
// Instances keep `npm start` (dev) and `npm test` (test) apart so both can run at once.
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { localKeys, type LocalKeys } from "./keys.ts";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface InstanceConfig {
  name: string;
  /** Git-ignored folder for this instance: stack.json, logs, env files. */
  stateDir: string;
  portBase: number;
  ports: {
    gateway: number;
    db: number;
    dashboard: number;
    /** maildev's web inbox and REST API (like the CLI's mail catcher on 54324). */
    mail: number;
    twilio: number;
    llm: number;
    stripe: number;
    /** maildev's SMTP listener, where Auth sends its mail. */
    smtp: number;
  };
  /** Superuser URL (what `supabase db push --db-url` and tests use). */
  dbUrl: string;
  /** URL of the `authenticator` login role, which the gateway uses like PostgREST does. */
  authenticatorDbUrl: string;
  supabaseUrl: string;
  keys: LocalKeys;
  /** Leads supabase/seed.sql generates for the demo business (setting leadloop.demo_leads): dev only. */
  demoLeads: number;
  twilio: { accountSid: string; authToken: string };
  /** Env file the functions runner passes to every edge function (like supabase/functions/.env). */
  functionsEnvFile: string;
  stackFile: string;
}

const defaultPortBases: Record<string, number> = { dev: 54320, test: 54420 };

export function instanceConfig(name = process.env.LEADLOOP_INSTANCE ?? "dev"): InstanceConfig {
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(name)) throw new Error(`invalid instance name "${name}"`);
  // LEADLOOP_PORT_BASE moves only the instance LEADLOOP_INSTANCE names, never dev or test behind its back.
  const override = name === process.env.LEADLOOP_INSTANCE ? process.env.LEADLOOP_PORT_BASE : undefined;
  const portBase = Number(override ?? defaultPortBases[name] ?? hashedPortBase(name));
  const ports = {
    gateway: portBase + 1,
    db: portBase + 2,
    dashboard: portBase + 3,
    mail: portBase + 4,
    twilio: portBase + 5,
    llm: portBase + 6,
    stripe: portBase + 7,
    smtp: portBase + 8,
  };
  const stateDir = join(projectRoot, ".local", name);
  const supabaseUrl = `http://127.0.0.1:${ports.gateway}`;
  return {
    name,
    stateDir,
    portBase,
    ports,
    dbUrl: `postgresql://postgres:postgres@127.0.0.1:${ports.db}/postgres`,
    authenticatorDbUrl: `postgresql://authenticator:postgres@127.0.0.1:${ports.db}/postgres`,
    supabaseUrl,
    keys: localKeys(),
    // The demo's history is for people; tests and benchmarks make their own rows and must not wait for it.
    demoLeads: name === "dev" ? 2000 : 0,
    // Same shape as real Twilio credentials; only the emulator accepts them.
    twilio: { accountSid: "AC" + "0".repeat(31) + "1", authToken: "local-emulator-auth-token-0000001" },
    functionsEnvFile: join(stateDir, "functions.env"),
    stackFile: join(stateDir, "stack.json"),
  };
}

function hashedPortBase(name: string): number {
  const n = createHash("sha256").update(name).digest().readUInt16BE(0);
  return 55000 + (n % 200) * 20;
}
