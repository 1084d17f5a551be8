import { assertEquals } from "./testing/assert.ts";
import { segmentInfo, toGsmWhenPossible } from "./sms-segments.ts";

Deno.test("GSM-7: 160 in one segment, 153 per part after that, extension chars count twice", () => {
  assertEquals(segmentInfo("a".repeat(160)), { encoding: "GSM-7", units: 160, segments: 1 });
  assertEquals(segmentInfo("a".repeat(161)).segments, 2);
  assertEquals(segmentInfo("a".repeat(306)).segments, 2);
  assertEquals(segmentInfo("a".repeat(307)).segments, 3);
  assertEquals(segmentInfo("€".repeat(80)), { encoding: "GSM-7", units: 160, segments: 1 });
  assertEquals(segmentInfo("ñÑüé¿¡").encoding, "GSM-7");
});

Deno.test("UCS-2: one non-GSM character switches the text; 70 / 67 per part", () => {
  assertEquals(segmentInfo("á" + "a".repeat(69)), { encoding: "UCS-2", units: 70, segments: 1 });
  assertEquals(segmentInfo("á" + "a".repeat(70)).segments, 2);
  assertEquals(segmentInfo("🙂").units, 2);
});

Deno.test("look-alikes are replaced only when that makes the text GSM-7", () => {
  assertEquals(toGsmWhenPossible("Cuándo: mañana — “ok”"), 'Cuando: mañana - "ok"');
  assertEquals(toGsmWhenPossible("á 🙂"), "á 🙂");
});
