// Auth's outgoing mail: renders a template and hands it to SMTP (the instance's mail catcher) after the
// request's transaction committed, off the response path, like GoTrue's background mail tasks. The
// response therefore never waits on SMTP, and an address's answer does not depend on whether a mail left.
import nodemailer from "nodemailer";
import type { AuthSettings } from "./settings.ts";
import { DEFAULT_TEMPLATES, renderTemplate, type TemplateData, type TemplateName } from "./templates.ts";

export interface OutgoingMail {
  to: string;
  template: TemplateName;
  data: TemplateData;
}

export interface Mailer {
  /** Sends in the background; failures are logged (the user can ask again), never thrown at the caller. */
  deliver(mails: OutgoingMail[]): void;
  /** Runs work once the current response is written, tracked so close() waits for it. */
  background(work: () => Promise<void>): void;
  /** Resolves once everything queued so far has been sent or has failed. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export function render(settings: AuthSettings, mail: OutgoingMail): { subject: string; html: string } {
  const custom = settings.email.templates[mail.template] ?? {};
  const fallback = DEFAULT_TEMPLATES[mail.template];
  return {
    subject: renderTemplate(custom.subject ?? fallback.subject, mail.data).replace(/[\r\n]+/g, " "),
    html: renderTemplate(custom.content ?? fallback.content, mail.data),
  };
}

export function createMailer(settings: AuthSettings): Mailer {
  const transport = nodemailer.createTransport({
    host: settings.smtp.host,
    port: settings.smtp.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 2,
  });
  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const send = async (mail: OutgoingMail) => {
    const { subject, html } = render(settings, mail);
    await transport.sendMail({
      from: { name: settings.email.sender.name, address: settings.email.sender.address },
      to: mail.to,
      subject,
      html,
    });
  };
  return {
    deliver(mails) {
      for (const mail of mails) {
        track(send(mail).catch((err) => console.error(`[gateway] auth mail (${mail.template}) could not be sent:`, (err as Error).message)));
      }
    },
    background(work) {
      // Started on the next turn of the event loop, once the handler's response has been written.
      const started = new Promise<void>((resolve) => setImmediate(resolve)).then(work);
      track(started.catch((err) => console.error("[gateway] auth background work failed:", err)));
    },
    async drain() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      await this.drain();
      transport.close();
    },
  };
}
