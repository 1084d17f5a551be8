// Pure pieces of the emulator: segment counting, the signature algorithm and the TwiML reader.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import twilio from "twilio";
import { countSegments, smsEncoding } from "./segments.ts";
import { optOutKeyword } from "./model.ts";
import { twilioSignature } from "./signature.ts";
import { parseMessagingTwiml } from "./twiml.ts";

describe("segments", () => {
  test("GSM-7 covers the basic and extension tables, anything else is UCS-2", () => {
    assert.equal(smsEncoding("Hello @£$¥ èéùìò ÄÖÑÜ§¿ äöñüà _ {}[]~|^€\\"), "GSM-7");
    assert.equal(smsEncoding("naïve"), "UCS-2"); // ï is not in GSM-7
    assert.equal(smsEncoding("“smart quotes”"), "UCS-2");
    assert.equal(smsEncoding("emoji 👍"), "UCS-2");
  });

  test("single and multipart sizes: 160/153 septets, 70/67 units", () => {
    assert.deepEqual(countSegments("a".repeat(160)), { encoding: "GSM-7", segments: 1, units: 160 });
    assert.deepEqual(countSegments("a".repeat(161)), { encoding: "GSM-7", segments: 2, units: 161 });
    assert.equal(countSegments("a".repeat(459)).segments, 3);
    assert.equal(countSegments("a".repeat(460)).segments, 4);
    assert.deepEqual(countSegments("ł".repeat(70)), { encoding: "UCS-2", segments: 1, units: 70 });
    assert.equal(countSegments("ł".repeat(201)).segments, 3);
    assert.equal(countSegments("ł".repeat(202)).segments, 4);
  });

  test("an escape pair is never split across segments", () => {
    // 152 plain septets then '€' (2 septets) would straddle the 153 boundary: it moves to part two.
    const body = "a".repeat(152) + "€" + "a".repeat(152);
    assert.equal(countSegments(body).units, 306);
    assert.equal(countSegments(body).segments, 3);
    assert.equal(countSegments("a".repeat(151) + "€" + "a".repeat(153)).segments, 2);
  });

  test("a surrogate pair is never split across UCS-2 segments", () => {
    const body = "ł".repeat(66) + "😀" + "ł".repeat(66);
    assert.equal(countSegments(body).units, 134);
    assert.equal(countSegments(body).segments, 3);
  });
});

describe("signature", () => {
  test("matches the twilio library's own algorithm and validator", () => {
    const url = "https://example.test/functions/v1/twilio-inbound?x=1&y=a%20b";
    const params = { Body: "Hi & bye", From: "+15551230000", To: "+15550001111", MessageSid: "SM" + "1".repeat(32), Zeta: "", Alpha: "ü" };
    const signature = twilioSignature("token-123", url, params);
    assert.equal(signature, twilio.getExpectedTwilioSignature("token-123", url, params));
    assert.ok(twilio.validateRequest("token-123", signature, url, params));
    assert.equal(twilio.validateRequest("token-123", signature, url, { ...params, Body: "tampered" }), false);
  });
});

describe("TwiML", () => {
  test("reads <Message> text, <Body>, attributes and entities", () => {
    const parsed = parseMessagingTwiml(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n  <Message>One &amp; two &lt;3</Message>\n  <Message to="+15550000001" statusCallback="https://cb.test/s?a=1&amp;b=2"><Body>Second</Body></Message>\n</Response>`,
    );
    assert.equal(parsed.warning, undefined);
    assert.deepEqual(parsed.messages.map((m) => m.body.trim()), ["One & two <3", "Second"]);
    assert.equal(parsed.messages[1].to, "+15550000001");
    assert.equal(parsed.messages[1].statusCallback, "https://cb.test/s?a=1&b=2");
  });

  test("empty bodies and empty responses mean no reply; other text is a warning", () => {
    assert.deepEqual(parseMessagingTwiml(""), { messages: [] });
    assert.deepEqual(parseMessagingTwiml("<Response/>"), { messages: [] });
    assert.deepEqual(parseMessagingTwiml("<Response></Response>").messages, []);
    const junk = parseMessagingTwiml('{"ok":true}');
    assert.deepEqual(junk.messages, []);
    assert.match(junk.warning ?? "", /12100/);
  });
});

describe("opt-out keywords", () => {
  test("whole-message keywords only, case-insensitive, trailing punctuation ignored", () => {
    assert.equal(optOutKeyword(" stop! "), "STOP");
    assert.equal(optOutKeyword("Quit."), "STOP");
    assert.equal(optOutKeyword("optout"), "STOP");
    assert.equal(optOutKeyword("Yes"), "START");
    assert.equal(optOutKeyword("info?"), "HELP");
    assert.equal(optOutKeyword("stop texting me"), undefined);
    assert.equal(optOutKeyword("I can't stop"), undefined);
  });
});
