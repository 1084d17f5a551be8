// Finds when a lead wants the work done: the words ("tomorrow morning") and the start of
// that window as an instant resolved in the business time zone from `now`.
// Chrono finds dates; day parts, "after 3" and urgency words are handled here because
// chrono puts "morning" at 6:00, reads "a las 3" as 3 a.m. and knows no "asap".
import * as chrono from "chrono-node";
import { addDays, localParts, offsetMinutes, zonedTimeToInstant } from "./timezone.ts";

export interface Span {
  start: number;
  end: number;
}

export interface TimingMatch {
  /** The words the lead used, e.g. "next Tuesday after 3". */
  text: string;
  /** ISO instant of the start of the window, or null for "whenever"/"not sure". */
  start: string | null;
  spans: Span[];
}

/** Start hours of day parts: the earliest a business would reasonably show up. */
const dayPartHours = { morning: 8, noon: 12, afternoon: 12, evening: 17, night: 18 } as const;
const startOfBusinessDay = 8;

type DayPart = keyof typeof dayPartHours;

interface Cue {
  span: Span;
  kind: "date" | "daypart" | "hour" | "now" | "vague" | "nextweek" | "thisweek" | "today" | "weekday" | "deadline";
  dayPart?: DayPart;
  /** A date phrase holding "before/by ...": its time of day is a deadline, not the start. */
  deadline?: boolean;
  hour?: number;
  minute?: number;
  date?: { year: number; month: number; day: number; certainDay: boolean };
}

const patterns: { re: RegExp; make: (m: RegExpExecArray) => Omit<Cue, "span"> }[] = [
  {
    re:
      /(?<!\b(?:no es|not|isn'?t|no|nada|not that|no tan|not super)\s+)\b(?:asap|a\.s\.a\.p|as soon as (?:possible|you can)|right away|right now|immediately|urgent(?:ly)?|emergency|lo antes posible|lo mas pronto posible|lo más pronto posible|cuanto antes|urgente|de inmediato|ya mismo|emergencia|ahora mismo)\b/giu,
    make: () => ({ kind: "now" }),
  },
  {
    re:
      /\b(?:whenever|any ?time|anytime|any (?:week)?day|any day of the week|flexible|no rush|no hurry|not in a rush|not urgent|cuando sea|cuando puedan|no hay prisa|sin prisa|no es urgente|cualquier d[ií]a)\b/giu,
    make: () => ({ kind: "vague" }),
  },
  {
    // Holidays are deadlines more than start times: the words matter, the start stays unknown.
    re:
      /\b(?:(?:before|by|until|after|around|antes de|para|despu[eé]s de)\s+)?(?:christmas|xmas|thanksgiving|new year'?s?|easter|the holidays|navidad|a[nñ]o nuevo|semana santa|las fiestas)\b/giu,
    make: () => ({ kind: "vague" }),
  },
  { re: /\b(?:weekdays|on a weekday|entre semana|d[ií]as de semana)\b/giu, make: () => ({ kind: "weekday" }) },
  { re: /\b(?:next week|la pr[oó]xima semana|la semana que viene)\b/giu, make: () => ({ kind: "nextweek" }) },
  { re: /\b(?:this week|esta semana)\b/giu, make: () => ({ kind: "thisweek" }) },
  { re: /\b(?:today|hoy)\b/giu, make: () => ({ kind: "today" }) },
  { re: /\b(?:this morning|esta mañana|esta manana)\b/giu, make: () => ({ kind: "today", dayPart: "morning" }) },
  { re: /\b(?:tonight|esta noche)\b/giu, make: () => ({ kind: "today", dayPart: "night" }) },
  { re: /\b(?:this afternoon|esta tarde)\b/giu, make: () => ({ kind: "today", dayPart: "afternoon" }) },
  { re: /\b(?:this evening)\b/giu, make: () => ({ kind: "today", dayPart: "evening" }) },
  {
    re: /\b(?:in the |early |late )?morning(?:s)?\b|\b(?:por|en|de) la (?:mañana|manana)\b|\btemprano\b/giu,
    make: () => ({ kind: "daypart", dayPart: "morning" }),
  },
  {
    re: /\b(?:in the )?afternoon(?:s)?\b|\b(?:por|en|de) la tarde\b|\bafter lunch\b/giu,
    make: () => ({ kind: "daypart", dayPart: "afternoon" }),
  },
  {
    re: /\b(?:in the )?evening(?:s)?\b|\b(?:por|en|de) la noche\b|\bafter work\b/giu,
    make: () => ({ kind: "daypart", dayPart: "evening" }),
  },
  {
    re: /\b(?:before|by|antes del?)\s+(?:noon|midday|lunch(?:time)?|mediod[ií]a)\b/giu,
    make: () => ({ kind: "deadline" }),
  },
  { re: /\b(?:noon|midday|lunchtime|mediod[ií]a)\b/giu, make: () => ({ kind: "daypart", dayPart: "noon" }) },
  {
    // "after 3", "around 10:30am", "by 5 pm", "después de las 3", "a las 4 de la tarde"
    re:
      /\b(after|around|at|by|from|before|anytime after|despu[eé]s de las?|a partir de las?|a eso de las?|a las?|desde las?|antes de las?)\s+(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?(?![\d/-])/giu,
    make: (m) => {
      // "before 5" / "antes de las 5" is a deadline: the window starts now, not at 5.
      if (/^(?:by|before|antes)/i.test(m[1])) return { kind: "deadline" };
      let hour = Number(m[2]);
      const minute = m[3] ? Number(m[3]) : 0;
      const mer = (m[4] ?? "").replace(/\./g, "").toLowerCase();
      if (mer === "pm" && hour < 12) hour += 12;
      else if (mer === "am" && hour === 12) hour = 0;
      // Without am/pm, trades mean the afternoon for 1-6 ("after 3").
      else if (!mer && hour >= 1 && hour <= 6) hour += 12;
      return { kind: "hour", hour, minute };
    },
  },
  {
    re: /\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)(?=\W|$)/giu,
    make: (m) => {
      let hour = Number(m[1]);
      const mer = m[3].replace(/\./g, "").toLowerCase();
      if (mer === "pm" && hour < 12) hour += 12;
      if (mer === "am" && hour === 12) hour = 0;
      return { kind: "hour", hour, minute: m[2] ? Number(m[2]) : 0 };
    },
  },
];

// Words chrono reads as dates that are not timing in a lead's message.
const chronoFalsePositives =
  /^(?:may|march|sat|sun|second|now|today|tonight|hoy|tarde|noche|mañana por la|la|weekdays?|any weekday)$/i;
const weekdayName =
  /\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b|\b(?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo)\b/iu;

function chronoCues(text: string, now: Date, timeZone: string): Cue[] {
  // Day parts are handled by our own patterns; removing them keeps Spanish "mañana"
  // (tomorrow) apart from "por la mañana" (in the morning).
  const masked = text.replace(
    /\b(?:por|en|de|esta) la (?:mañana|manana|tarde|noche)\b|\besta (?:mañana|manana|tarde|noche)\b/giu,
    (m) => " ".repeat(m.length),
  );
  const ref = { instant: now, timezone: offsetMinutes(now, timeZone) };
  const cues: Cue[] = [];
  const seen: Span[] = [];
  for (const parser of [chrono.en.casual, chrono.es.casual]) {
    for (const r of parser.parse(masked, ref, { forwardDate: true })) {
      const span = { start: r.index, end: r.index + r.text.length };
      if (seen.some((s) => s.start < span.end && span.start < s.end)) continue;
      const words = r.text.trim();
      if (chronoFalsePositives.test(words)) continue;
      const c = r.start;
      // "next week" is Monday of next week and "this week" is now; chrono adds 7 days instead.
      if (/\b(?:week|semana)\b/iu.test(words) && !weekdayName.test(words)) continue;
      // Bare times ("3pm") carry no date; our hour patterns handle them.
      if (
        !c.isCertain("day") && !c.isCertain("weekday") && !c.isCertain("month") &&
        !/\b(?:tomorrow|mañana|manana|pasado|weekend|fin de semana|week|semana|month|mes)\b/iu.test(words)
      ) continue;
      seen.push(span);
      const cue: Cue = {
        span,
        kind: "date",
        date: {
          year: c.get("year") ?? 0,
          month: c.get("month") ?? 1,
          day: c.get("day") ?? 1,
          certainDay: c.isCertain("day") || c.isCertain("weekday") || /tomorrow|mañana|manana|pasado/iu.test(words),
        },
      };
      // "tomorrow before noon" is a deadline: keep the day, not the hour.
      if (c.isCertain("hour") && !/\b(?:before|by|until|antes|hasta)\b/iu.test(words)) {
        let hour = c.get("hour") ?? startOfBusinessDay;
        if (!c.isCertain("meridiem") && hour >= 1 && hour <= 6) hour += 12;
        cue.hour = hour;
        cue.minute = c.get("minute") ?? 0;
      }
      cues.push(cue);
    }
  }
  return cues;
}

function collectCues(text: string, now: Date, timeZone: string): Cue[] {
  const cues: Cue[] = chronoCues(text, now, timeZone);
  for (const p of patterns) {
    p.re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = p.re.exec(text))) {
      const span = { start: m.index, end: m.index + m[0].length };
      // A date chrono found may already contain the hour ("tuesday at 3pm").
      const inside = cues.find((c) => c.span.start <= span.start && span.end <= c.span.end);
      const cue = { span, ...p.make(m) };
      if (inside) {
        if (inside.kind === "date" && cue.kind === "deadline") inside.deadline = true;
        if (inside.kind === "date" && cue.kind === "hour" && inside.hour === undefined && !inside.deadline) {
          inside.hour = cue.hour;
          inside.minute = cue.minute;
        }
        if (inside.kind === "date" && cue.kind === "daypart" && !inside.deadline) inside.dayPart = cue.dayPart;
        continue;
      }
      // "Sunday" inside "this week" etc: keep the longer one.
      if (cues.some((c) => span.start <= c.span.start && c.span.end <= span.end && c.kind === "date") && cue.kind !== "hour") {
        continue;
      }
      cues.push(cue);
    }
  }
  return cues.sort((a, b) => a.span.start - b.span.start);
}

/** Groups cues that belong to one phrase ("next Tuesday" + "after 3"). */
function clusters(text: string, cues: Cue[]): Cue[][] {
  const groups: Cue[][] = [];
  for (const cue of cues) {
    const last = groups.at(-1);
    const prev = last?.at(-1);
    if (last && prev) {
      const gap = text.slice(prev.span.end, cue.span.start);
      if (gap.length <= 25 && !/[.!?;\n]/.test(gap)) {
        last.push(cue);
        continue;
      }
    }
    groups.push([cue]);
  }
  return groups;
}

function resolveGroup(group: Cue[], now: Date, timeZone: string): string | null {
  const today = localParts(now, timeZone);
  let date: { year: number; month: number; day: number } | null = null;
  let isToday = false;
  let immediate = false;
  let vagueOnly = true;
  let hour: number | undefined;
  let minute = 0;
  let dayPart: DayPart | undefined;
  let dayFixed = false;
  for (const cue of group) {
    if (cue.kind !== "vague") vagueOnly = false;
    const setsDay = ["now", "today", "thisweek", "nextweek", "date", "weekday"].includes(cue.kind);
    if (setsDay && dayFixed) {
      // Only the time of day may still be refined by a later cue.
      if (cue.kind === "date" && cue.hour === undefined && cue.dayPart) dayPart ??= cue.dayPart;
      continue;
    }
    if (setsDay) dayFixed = true;
    switch (cue.kind) {
      case "now":
        immediate = true;
        break;
      case "today":
        isToday = true;
        dayPart = cue.dayPart ?? dayPart;
        break;
      case "thisweek":
        immediate = true;
        break;
      case "weekday":
        // On a weekend "weekdays" starts Monday; on a weekday it starts today.
        if (today.weekday === 6 || today.weekday === 0) {
          date ??= addDays(today.year, today.month, today.day, today.weekday === 6 ? 2 : 1);
        }
        break;
      case "nextweek": {
        // Monday of next week.
        const delta = ((8 - today.weekday) % 7) || 7;
        date ??= addDays(today.year, today.month, today.day, delta);
        break;
      }
      case "date":
        if (cue.dayPart) dayPart = cue.dayPart;
        if (cue.date) {
          date = { year: cue.date.year, month: cue.date.month, day: cue.date.day };
          if (cue.hour !== undefined) {
            hour = cue.hour;
            minute = cue.minute ?? 0;
          }
        }
        break;
      case "daypart":
        dayPart = cue.dayPart;
        break;
      case "hour":
        hour = cue.hour;
        minute = cue.minute ?? 0;
        break;
    }
  }
  if (vagueOnly) return null;
  const startHour = hour ?? (dayPart ? dayPartHours[dayPart] : undefined);
  if (!date && (isToday || immediate || startHour !== undefined)) {
    if (startHour === undefined) return new Date(now.getTime()).toISOString();
    const candidate = zonedTimeToInstant(today.year, today.month, today.day, startHour, minute, timeZone);
    if (candidate.getTime() >= now.getTime()) return candidate.toISOString();
    // "after 3" said at 5 p.m. means now for "today"/"asap", otherwise tomorrow.
    if (isToday || immediate) return new Date(now.getTime()).toISOString();
    const t = addDays(today.year, today.month, today.day, 1);
    return zonedTimeToInstant(t.year, t.month, t.day, startHour, minute, timeZone).toISOString();
  }
  if (!date) return null;
  return zonedTimeToInstant(date.year, date.month, date.day, startHour ?? startOfBusinessDay, minute, timeZone).toISOString();
}

function tidy(text: string): string {
  return text
    .replace(/^[\s,;:-]+|[\s,;:.!?-]+$/g, "")
    .replace(/\s+/g, " ")
    .replace(/^(?:and|or|y|o|but|pero)\s+/i, "");
}

/** Finds the first timing phrase in `text`; null when the text says nothing about time. */
export function findTiming(text: string, now: Date, timeZone: string): TimingMatch | null {
  const cues = collectCues(text, now, timeZone);
  if (cues.length === 0) return null;
  const groups = clusters(text, cues);
  // Prefer a group that pins down a time over a lone "flexible".
  const scored = groups.map((g) => ({ g, start: resolveGroup(g, now, timeZone) }));
  const best = scored.find((s) => s.start !== null) ?? scored[0];
  const first = best.g[0].span.start;
  const last = best.g.at(-1)!.span.end;
  return { text: tidy(text.slice(first, last)), start: best.start, spans: best.g.map((c) => c.span) };
}

/** Resolves timing words alone (e.g. from an LLM) into a start instant. */
export function resolveTimingWords(words: string, now: Date, timeZone: string): string | null {
  return findTiming(words, now, timeZone)?.start ?? null;
}
