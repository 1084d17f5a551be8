// Callbacks are bounded in flight: thousands at once (a busy intake) once filled the one local gateway's
// accept queue. They wait their turn and all arrive.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { newPhone, startTestEmulator } from "./test-support.ts";

test("at most 64 webhook requests are in flight at once, and every callback still arrives", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  let received = 0;
  const slowApp = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    req.resume().on("end", () =>
      setTimeout(() => {
        inFlight--;
        received++;
        res.end("");
      }, 50));
  });
  await new Promise<void>((resolve) => slowApp.listen(0, "127.0.0.1", resolve));
  const emu = await startTestEmulator({ webhookTimeoutMs: 10_000 });
  try {
    const from = newPhone();
    await emu.control.configureNumber({ phoneNumber: from, smsUrl: `http://127.0.0.1:${(slowApp.address() as AddressInfo).port}/sms` });
    const statusCallback = `http://127.0.0.1:${(slowApp.address() as AddressInfo).port}/status`;
    const texts = 150;
    await Promise.all(Array.from({ length: texts }, () => emu.client.messages.create({ to: newPhone(), from, body: "hello", statusCallback })));
    // sent and delivered for each (none for the status a message is created with)
    const deadline = Date.now() + 30_000;
    while (received < texts * 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(received, texts * 2);
    assert.ok(maxInFlight <= 64, `at most 64 in flight, saw ${maxInFlight}`);
    assert.ok(maxInFlight >= 32, `and they do go side by side (saw ${maxInFlight})`);
  } finally {
    await emu.close();
    slowApp.close();
  }
});
