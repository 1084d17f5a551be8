// The mail catcher of a local instance: maildev 3 (SMTP in, web inbox and REST API out), standing in for the
// Supabase CLI's inbucket/Mailpit on the same port (base + 4). Auth sends its mail here; so can anything else
// that speaks SMTP. Nothing leaves the machine: relaying stays off.
import { mkdirSync, rmSync } from "node:fs";
import { MailDev } from "maildev";

export interface MailCatcher {
  /** Web inbox and REST API (`GET /api/email`). */
  url: string;
  smtp: { host: string; port: number };
  close(): Promise<void>;
}

/** Newest mail kept; older ones are dropped with their files so a long-running inbox stays bounded. */
const MAX_EMAILS = 2000;

export async function startMailCatcher({
  webPort,
  smtpPort,
  mailDirectory,
  reset = false,
}: {
  webPort: number;
  smtpPort: number;
  /** Where messages are kept across restarts (per instance). */
  mailDirectory: string;
  /** Start with an empty inbox. */
  reset?: boolean;
}): Promise<MailCatcher> {
  if (reset) rmSync(mailDirectory, { recursive: true, force: true });
  mkdirSync(mailDirectory, { recursive: true });
  const host = "127.0.0.1";
  const maildev = new MailDev({
    smtp: smtpPort,
    ip: host,
    web: webPort,
    webIp: host,
    mailDirectory,
    maxEmails: MAX_EMAILS,
    silent: true,
  });
  await maildev.start();
  return {
    url: `http://${host}:${webPort}`,
    smtp: { host, port: smtpPort },
    close: () => maildev.stop(),
  };
}
