// SMTP through the real nodemailer on Deno: the URL's options, how answers are classified, and whole
// conversations with a small scripted SMTP server (and with nothing listening at all).
import { assert, assertEquals, assertMatch } from "../_shared/testing/assert.ts";
import { ConfigError } from "../_shared/http.ts";
import { parseSender } from "./mailer.ts";
import { classifySmtpError, createSmtpMailer, parseSmtpUrl } from "./smtp.ts";

Deno.test("MAIL_SMTP_URL: scheme, host, port, credentials and STARTTLS", () => {
  assertEquals(parseSmtpUrl("smtp://127.0.0.1:54328"), { host: "127.0.0.1", port: 54328, secure: false, starttls: "auto", auth: null });
  assertEquals(parseSmtpUrl("smtps://apikey:p%40ss%3Aword@smtp.example.com"),
    { host: "smtp.example.com", port: 465, secure: true, starttls: "auto", auth: { user: "apikey", pass: "p@ss:word" } });
  assertEquals(parseSmtpUrl("smtp://u:p@smtp.example.com?starttls=required").port, 587);
  assertEquals(parseSmtpUrl("smtp://u:p@smtp.example.com?starttls=required").starttls, "required");
  assertEquals(parseSmtpUrl("smtp://[::1]:2525?starttls=never"), { host: "::1", port: 2525, secure: false, starttls: "never", auth: null });
});

Deno.test("MAIL_SMTP_URL: mistakes are configuration errors that never echo the password", () => {
  for (const bad of ["smtp//x", "http://smtp.example.com", "smtp://u:secret@host/path", "smtp://u:secret@host?tls=1",
    "smtp://u:secret@host?starttls=maybe", "smtps://u:secret@host?starttls=required", "smtp://u:%E0%A4%A@host"]) {
    try {
      parseSmtpUrl(bad);
      throw new Error(`accepted ${bad}`);
    } catch (error) {
      assert(error instanceof ConfigError, `${bad}: ${error}`);
      assert(!String((error as Error).message).includes("secret"), (error as Error).message);
    }
  }
});

Deno.test("SMTP answers: 5xx about the message is final; 4xx, connection, TLS and login trouble are retried", () => {
  assertEquals(classifySmtpError({ code: "EENVELOPE", responseCode: 550, response: "550 5.1.1 no such user" }).retryable, false);
  assertEquals(classifySmtpError({ code: "EMESSAGE", responseCode: 552, response: "552 message too big" }).retryable, false);
  assertEquals(classifySmtpError({ code: "EENVELOPE", responseCode: 451, response: "451 try later" }).retryable, true);
  assertEquals(classifySmtpError({ code: "EAUTH", responseCode: 535, response: "535 bad credentials" }).retryable, true);
  assertEquals(classifySmtpError({ code: "ESOCKET", message: "connect ECONNREFUSED" }).retryable, true);
  assertEquals(classifySmtpError(new Error("something else")).retryable, true);
  assertMatch(classifySmtpError({ code: "EENVELOPE", responseCode: 550, response: "550 no\r\nsuch user" }).error, /^EENVELOPE 550 550 no such user$/);
});

interface Received {
  from: string;
  to: string[];
  data: string;
}

/** A tiny SMTP server: EHLO/MAIL/RCPT/DATA/QUIT, with the RCPT answer and the EHLO extensions scripted. */
function smtpServer(script: { rcpt?: string; extensions?: string[] } = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: Received[] = [];
  const encoder = new TextEncoder();
  const serve = async (conn: Deno.Conn) => {
    const write = (line: string) => conn.write(encoder.encode(line + "\r\n"));
    const decoder = new TextDecoder();
    let buffer = "";
    let current: Received = { from: "", to: [], data: "" };
    let inData = false;
    await write("220 fake.test ESMTP");
    const chunk = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) break;
        buffer += decoder.decode(chunk.subarray(0, n), { stream: true });
        let at: number;
        while ((at = buffer.indexOf("\r\n")) >= 0) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          if (inData) {
            if (line === ".") {
              inData = false;
              received.push(current);
              current = { from: "", to: [], data: "" };
              await write(`250 2.0.0 queued as Q${received.length}`);
            } else current.data += (line.startsWith("..") ? line.slice(1) : line) + "\n";
            continue;
          }
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === "EHLO") {
            const lines = ["fake.test", ...(script.extensions ?? []), "8BITMIME"];
            for (let i = 0; i < lines.length; i++) await write(`250${i === lines.length - 1 ? " " : "-"}${lines[i]}`);
          } else if (verb === "MAIL") {
            current.from = line;
            await write("250 OK");
          } else if (verb === "RCPT") {
            current.to.push(line);
            await write(script.rcpt ?? "250 OK");
          } else if (verb === "DATA") {
            inData = true;
            await write("354 go ahead");
          } else if (verb === "QUIT") {
            await write("221 bye");
            break;
          } else await write("250 OK");
        }
      }
    } catch {
      // the client went away
    } finally {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };
  (async () => {
    for await (const conn of listener) void serve(conn);
  })().catch(() => undefined);
  const port = (listener.addr as Deno.NetAddr).port;
  return { url: `smtp://127.0.0.1:${port}?starttls=never`, port, received, close: () => listener.close() };
}

const sender = parseSender("Leadloop Alerts <alerts@mail.leadloop.test>");
const email = {
  id: "11111111-2222-4333-8444-555555555555",
  to: "owner@example.com",
  subject: "Nuevo cliente: José <script>",
  text: "Line one\n.\nLine three",
  html: "<p>Hi</p>",
};
const smtpTest = (name: string, fn: () => Promise<void>) =>
  // nodemailer's pool closes its sockets after the test body returns.
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

smtpTest("an email reaches the server with its headers, Message-ID and both bodies", async () => {
  const server = smtpServer();
  const mailer = createSmtpMailer(parseSmtpUrl(server.url), sender, 5000);
  try {
    const outcome = await mailer.send(email);
    assertEquals(outcome, { ok: true, providerMessageId: "250 2.0.0 queued as Q1" });
    const [got] = server.received;
    assertMatch(got.from, /<alerts@mail\.leadloop\.test>/);
    assertEquals(got.to.length, 1);
    assertMatch(got.to[0], /<owner@example\.com>/);
    assertMatch(got.data, /^Message-ID: <11111111-2222-4333-8444-555555555555@mail\.leadloop\.test>$/m);
    assertMatch(got.data, /^Auto-Submitted: auto-generated$/m);
    assertMatch(got.data, /^From: Leadloop Alerts <alerts@mail\.leadloop\.test>$/m);
    assertMatch(got.data, /^Subject: =\?UTF-8\?/m, "a non-ASCII subject is encoded");
    assertMatch(got.data, /Content-Type: multipart\/alternative/);
    assertMatch(got.data, /Line one\n\.\nLine three/, "a lone dot in the text survives (dot-stuffed on the wire)");
  } finally {
    mailer.close();
    server.close();
  }
});

smtpTest("a recipient the server refuses (550) is a final failure", async () => {
  const server = smtpServer({ rcpt: "550 5.1.1 no such user here" });
  const mailer = createSmtpMailer(parseSmtpUrl(server.url), sender, 5000);
  try {
    const outcome = await mailer.send(email);
    assertEquals(outcome.ok, false);
    if (!outcome.ok) {
      assertEquals(outcome.retryable, false);
      assertMatch(outcome.error, /550 5\.1\.1 no such user here/);
    }
  } finally {
    mailer.close();
    server.close();
  }
});

smtpTest("a temporary refusal (451) is retried", async () => {
  const server = smtpServer({ rcpt: "451 4.7.1 greylisted, try again" });
  const mailer = createSmtpMailer(parseSmtpUrl(server.url), sender, 5000);
  try {
    const outcome = await mailer.send(email);
    assertEquals(outcome.ok === false && outcome.retryable, true);
  } finally {
    mailer.close();
    server.close();
  }
});

smtpTest("nothing listening (a closed port) is a failure worth retrying", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const mailer = createSmtpMailer(parseSmtpUrl(`smtp://127.0.0.1:${port}`), sender, 5000);
  try {
    const outcome = await mailer.send(email);
    assertEquals(outcome.ok, false);
    if (!outcome.ok) {
      assertEquals(outcome.retryable, true);
      assertMatch(outcome.error, /ECONNREFUSED/);
    }
  } finally {
    mailer.close();
  }
});

smtpTest("starttls=required will not send over a connection that cannot be upgraded", async () => {
  const server = smtpServer();
  const mailer = createSmtpMailer(parseSmtpUrl(`smtp://127.0.0.1:${server.port}?starttls=required`), sender, 5000);
  try {
    const outcome = await mailer.send(email);
    assertEquals(outcome.ok === false && outcome.retryable, true);
    assertEquals(server.received.length, 0, "nothing was sent in the clear");
  } finally {
    mailer.close();
    server.close();
  }
});

smtpTest("smtps:// speaks TLS from the first byte: a plain-text server is never sent anything", async () => {
  const server = smtpServer();
  const mailer = createSmtpMailer(parseSmtpUrl(`smtps://127.0.0.1:${server.port}`), sender, 2000);
  try {
    const outcome = await mailer.send(email);
    assertEquals(outcome.ok === false && outcome.retryable, true);
    assertEquals(server.received.length, 0);
  } finally {
    mailer.close();
    server.close();
  }
});
