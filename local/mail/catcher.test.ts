// The mail catcher: the running instance's inbox (SMTP in, REST and web inbox out, listed in stack.json), and
// a catcher of its own to show that mail survives a restart and that a reset empties the inbox.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import nodemailer from "nodemailer";
import { loadStack } from "../../tests/support/stack.ts";
import { instanceConfig } from "../config.ts";
import { startMailCatcher } from "./catcher.ts";
import { Inbox } from "./inbox.ts";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function sendTo(smtp: { host: string; port: number }, to: string, subject: string): Promise<void> {
  const transport = nodemailer.createTransport({ ...smtp, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ from: "tester@example.test", to, subject, html: `<p>${subject}</p>` });
  } finally {
    transport.close();
  }
}

test("the instance's catcher takes SMTP on base + 8 and lists it at base + 4, as stack.json says", async () => {
  const config = instanceConfig();
  const stack = loadStack(config.name);
  assert.equal(stack.mailUrl, `http://127.0.0.1:${config.ports.mail}`);
  assert.deepEqual(stack.smtp, { host: "127.0.0.1", port: config.ports.smtp });
  const to = `catcher-${randomBytes(4).toString("hex")}@example.test`;
  await sendTo(stack.smtp, to, "Hello from the test");
  const [mail] = await new Inbox(stack.mailUrl).waitFor(to);
  assert.equal(mail.subject, "Hello from the test");
  assert.equal(mail.from[0].address, "tester@example.test");
  assert.match(mail.html, /Hello from the test/);
  const page = await fetch(stack.mailUrl, { headers: { Accept: "text/html" } });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<html/i, "the web inbox");
});

test("mail survives a restart of the catcher; a reset starts from an empty inbox", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "catcher-")), "mail");
  const ports = { webPort: await freePort(), smtpPort: await freePort() };
  let catcher = await startMailCatcher({ ...ports, mailDirectory: dir });
  await sendTo(catcher.smtp, "keep@example.test", "Kept");
  await new Inbox(catcher.url).waitFor("keep@example.test");
  await catcher.close();
  catcher = await startMailCatcher({ ...ports, mailDirectory: dir });
  try {
    assert.equal((await new Inbox(catcher.url).to("keep@example.test")).length, 1);
  } finally {
    await catcher.close();
  }
  catcher = await startMailCatcher({ ...ports, mailDirectory: dir, reset: true });
  try {
    assert.deepEqual(await new Inbox(catcher.url).list(), []);
  } finally {
    await catcher.close();
  }
});
