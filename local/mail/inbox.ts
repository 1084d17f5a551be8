// Reads the mail catcher's REST API (maildev's `GET /api/email`) the way a person reads the inbox: tests wait
// for the message sent to one address instead of sleeping.
import { z } from "zod";

const addressSchema = z.object({ address: z.string(), name: z.string().optional() });
export const caughtMailSchema = z.object({
  id: z.string(),
  time: z.string(),
  subject: z.string(),
  from: z.array(addressSchema),
  to: z.array(addressSchema),
  html: z.string().optional().default(""),
  text: z.string().optional().default(""),
  envelope: z.object({ from: addressSchema.partial(), to: z.array(addressSchema.partial()) }).partial().optional(),
});
export type CaughtMail = z.infer<typeof caughtMailSchema>;

export class Inbox {
  constructor(private readonly url: string) {}

  async list(): Promise<CaughtMail[]> {
    const res = await fetch(`${this.url}/api/email`);
    if (!res.ok) throw new Error(`mail catcher answered ${res.status}`);
    return z.array(caughtMailSchema).parse(await res.json());
  }

  /** Every message to `address` (case-insensitive), oldest first. */
  async to(address: string): Promise<CaughtMail[]> {
    const wanted = address.toLowerCase();
    const all = await this.list();
    return all
      .filter((m) => m.to.some((t) => t.address.toLowerCase() === wanted))
      .sort((a, b) => a.time.localeCompare(b.time));
  }

  /** Waits until `address` has received `count` messages (default: one more than `after`), and returns them. */
  async waitFor(address: string, { count = 1, timeoutMs = 10_000 } = {}): Promise<CaughtMail[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await this.to(address);
      if (found.length >= count) return found;
      if (Date.now() > deadline) throw new Error(`no mail #${count} to ${address} within ${timeoutMs} ms (have ${found.length})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The first link in a message's HTML, with HTML entities of the query string undone. */
export function firstLink(mail: CaughtMail): string {
  const m = /href="([^"]+)"/.exec(mail.html);
  if (!m) throw new Error(`no link in "${mail.subject}"`);
  return m[1].replace(/&amp;/g, "&").replace(/&#43;/g, "+").replace(/&#39;/g, "'");
}

/** The 6-digit (or longer) one-time code in a message. */
export function oneTimeCode(mail: CaughtMail): string {
  const m = /\b(\d{6,10})\b/.exec(mail.html.replace(/<[^>]+>/g, " "));
  if (!m) throw new Error(`no code in "${mail.subject}"`);
  return m[1];
}
