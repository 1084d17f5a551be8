import { assertEquals } from "./testing/assert.ts";
import { findTiming } from "./timing.ts";
import { offsetMinutes, zonedTimeToInstant } from "./timezone.ts";

const chicagoThu9am = new Date("2026-11-26T15:00:00Z");
const start = (text: string, now = chicagoThu9am, tz = "America/Chicago") => findTiming(text, now, tz)?.start ?? null;

Deno.test("relative phrases resolve to the start of the window in the business zone", () => {
  assertEquals(start("tomorrow morning"), "2026-11-27T14:00:00.000Z");
  assertEquals(start("next Tuesday after 3"), "2026-12-01T21:00:00.000Z");
  assertEquals(start("mañana por la tarde"), "2026-11-27T18:00:00.000Z");
  assertEquals(start("el viernes a las 10"), "2026-11-27T16:00:00.000Z");
  assertEquals(start("asap"), chicagoThu9am.toISOString());
  assertEquals(start("next week"), "2026-11-30T14:00:00.000Z");
  assertEquals(start("this weekend"), "2026-11-28T14:00:00.000Z");
});

Deno.test("vague or absent timing has no start", () => {
  assertEquals(start("whenever, no rush"), null);
  assertEquals(start("cuando tengan espacio, no es urgente"), null);
  assertEquals(start("before Christmas if possible"), null);
  assertEquals(findTiming("before Christmas if possible", chicagoThu9am, "America/Chicago")?.text, "before Christmas");
  assertEquals(findTiming("my sink is clogged", chicagoThu9am, "America/Chicago"), null);
});

Deno.test("a deadline ('today before 5') starts now, not at the deadline", () => {
  assertEquals(start("today before 5 if at all possible"), chicagoThu9am.toISOString());
  assertEquals(start("tomorrow before noon"), "2026-11-27T14:00:00.000Z");
});

Deno.test("'after 3' said after 3 p.m. means tomorrow", () => {
  assertEquals(start("after 3", new Date("2026-11-26T23:00:00Z")), "2026-11-27T21:00:00.000Z");
});

Deno.test("daylight saving: a morning after the spring change uses the new offset", () => {
  // New York switched to EDT on 2026-03-08.
  assertEquals(start("tomorrow morning", new Date("2026-03-07T17:00:00Z"), "America/New_York"), "2026-03-08T12:00:00.000Z");
  assertEquals(offsetMinutes(new Date("2026-03-09T12:00:00Z"), "America/New_York"), -240);
  assertEquals(zonedTimeToInstant(2026, 1, 5, 8, 0, "Europe/London").toISOString(), "2026-01-05T08:00:00.000Z");
});
