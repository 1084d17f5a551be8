import assert from "node:assert/strict";
import { test } from "node:test";
import { startLlmFake } from "./server.ts";

const ask = (url: string, signal?: AbortSignal) =>
  fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "m",
      response_format: { type: "json_object" },
      messages: [
        { role: "system", content: "extract" },
        { role: "user", content: JSON.stringify({ form: { message: "Water heater leaking. In Austin" }, transcript: [{ from: "lead", text: "tomorrow morning, 78745" }] }) },
      ],
    }),
    signal,
  });

test("ok mode answers a chat completion whose content is the extraction JSON", async () => {
  const fake = await startLlmFake({ port: 0, mode: "ok" });
  try {
    const res = await ask(fake.url);
    assert.equal(res.status, 200);
    const content = JSON.parse((await res.json()).choices[0].message.content);
    assert.equal(content.need, "(llm) Water heater leaking");
    assert.equal(content.timing, "tomorrow morning");
    assert.equal(content.location, "78745");
    assert.equal(fake.requests(), 1);
  } finally {
    await fake.close();
  }
});

test("garbage mode answers non-JSON content; down mode drops the connection; mode switches at runtime", async () => {
  const fake = await startLlmFake({ port: 0, mode: "garbage" });
  try {
    const content = (await (await ask(fake.url)).json()).choices[0].message.content;
    assert.throws(() => JSON.parse(content));
    const switched = await fetch(fake.url.replace(/\/v1$/, "/fake/mode"), { method: "POST", body: JSON.stringify({ mode: "down" }) });
    assert.equal(switched.status, 200);
    await assert.rejects(ask(fake.url));
    const bad = await fetch(fake.url.replace(/\/v1$/, "/fake/mode"), { method: "POST", body: JSON.stringify({ mode: "sideways" }) });
    assert.equal(bad.status, 400);
  } finally {
    await fake.close();
  }
});

test("slow mode does not answer before the caller's timeout", async () => {
  const fake = await startLlmFake({ port: 0, mode: "slow", slowMs: 5_000 });
  try {
    const started = Date.now();
    await assert.rejects(ask(fake.url, AbortSignal.timeout(200)), /TimeoutError|aborted/i);
    assert.ok(Date.now() - started < 2_000);
  } finally {
    await fake.close();
  }
});
