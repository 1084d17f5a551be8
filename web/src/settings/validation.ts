// Mirrors the businesses table's checks so the owner sees what is wrong before saving. The legal
// bounds of the texting window (08:00-21:00) are the database's alone: its refusal names them.
import { z } from "zod";
import type { Business } from "../lib/types.ts";
import { toTimeInput } from "../lib/format.ts";

export interface SettingsForm {
  followup_enabled: boolean;
  quiet_hours_start: string;
  quiet_hours_end: string;
  nudge_delay_minutes: string;
  idle_timeout_minutes: string;
  max_questions: string;
  daily_sms_cap: string;
}

/** The platform's ceiling for the daily text cap (private.max_daily_sms_cap() in the database). */
export const MAX_DAILY_SMS_CAP = 10000;

export type SettingsUpdate = {
  followup_enabled: boolean;
  quiet_hours_start: string;
  quiet_hours_end: string;
  nudge_delay_minutes: number;
  idle_timeout_minutes: number;
  max_questions: number;
  daily_sms_cap: number;
};

const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "Use a time like 08:00");
const wholeNumber = (min: number, max: number, what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));

const settingsSchema = z
  .object({
    followup_enabled: z.boolean(),
    quiet_hours_start: time,
    quiet_hours_end: time,
    nudge_delay_minutes: wholeNumber(5, 10080, "Nudge delay"),
    idle_timeout_minutes: wholeNumber(15, 20160, "Idle timeout"),
    max_questions: wholeNumber(1, 6, "Questions"),
    daily_sms_cap: wholeNumber(1, MAX_DAILY_SMS_CAP, "Texts per day"),
  })
  .refine((s) => s.quiet_hours_start < s.quiet_hours_end, {
    path: ["quiet_hours_end"],
    message: "Texting must end after it starts (same day)",
  });

export function settingsFormFrom(business: Business): SettingsForm {
  return {
    followup_enabled: business.followup_enabled,
    quiet_hours_start: toTimeInput(business.quiet_hours_start),
    quiet_hours_end: toTimeInput(business.quiet_hours_end),
    nudge_delay_minutes: String(business.nudge_delay_minutes),
    idle_timeout_minutes: String(business.idle_timeout_minutes),
    max_questions: String(business.max_questions),
    daily_sms_cap: String(business.daily_sms_cap),
  };
}

export function validateSettings(form: SettingsForm):
  | { ok: true; value: SettingsUpdate }
  | { ok: false; errors: Partial<Record<keyof SettingsForm, string>> } {
  const result = settingsSchema.safeParse(form);
  if (result.success) return { ok: true, value: result.data };
  const errors: Partial<Record<keyof SettingsForm, string>> = {};
  for (const issue of result.error.issues) {
    const key = issue.path[0] as keyof SettingsForm;
    errors[key] ??= issue.message;
  }
  return { ok: false, errors };
}

/** Only the columns that changed, so a save never overwrites a concurrent edit of another field. */
export function changedSettings(business: Business, update: SettingsUpdate): Partial<SettingsUpdate> {
  const current = settingsFormFrom(business);
  const changes: Partial<SettingsUpdate> = {};
  if (update.followup_enabled !== current.followup_enabled) changes.followup_enabled = update.followup_enabled;
  if (update.quiet_hours_start !== current.quiet_hours_start) changes.quiet_hours_start = update.quiet_hours_start;
  if (update.quiet_hours_end !== current.quiet_hours_end) changes.quiet_hours_end = update.quiet_hours_end;
  if (update.nudge_delay_minutes !== business.nudge_delay_minutes) changes.nudge_delay_minutes = update.nudge_delay_minutes;
  if (update.idle_timeout_minutes !== business.idle_timeout_minutes) changes.idle_timeout_minutes = update.idle_timeout_minutes;
  if (update.max_questions !== business.max_questions) changes.max_questions = update.max_questions;
  if (update.daily_sms_cap !== business.daily_sms_cap) changes.daily_sms_cap = update.daily_sms_cap;
  return changes;
}
