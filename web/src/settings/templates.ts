// The texts an owner may reword: shapes of the database's answers (sms_template_list,
// preview_sms_template) and the editor's pure helpers. What a wording must keep is the database's rule
// (private.sms_template_problem); the editor shows its verdict through the preview.
import { z } from "zod";
import { segmentInfo, type SegmentInfo } from "../../../functions/_shared/sms-segments.ts";

export const templateRowSchema = z.object({
  key: z.string(),
  label: z.string(),
  locale: z.string(),
  audience: z.string(),
  needs_opt_out: z.boolean(),
  placeholders: z.array(z.string()),
  required: z.array(z.string()),
  default_body: z.string(),
  default_body_without_name: z.string().nullable(),
  body: z.string().nullable(),
  body_without_name: z.string().nullable(),
  updated_at: z.string().nullable(),
});
export type TemplateRow = z.infer<typeof templateRowSchema>;

export const templatePreviewSchema = z.object({
  problem: z.string().nullable(),
  text: z.string().nullable(),
  text_without_name: z.string().nullable(),
});
export type TemplatePreview = z.infer<typeof templatePreviewSchema>;

export interface TemplateDraft {
  key: string;
  locale: string;
  body: string;
  bodyWithoutName: string;
}

/** The wording in use: the business's own, else leadloop's. */
export function draftFrom(row: TemplateRow): TemplateDraft {
  return {
    key: row.key,
    locale: row.locale,
    body: row.body ?? row.default_body,
    bodyWithoutName: (row.body === null ? row.default_body_without_name : row.body_without_name) ?? "",
  };
}

export const usesFirstName = (body: string) => body.includes("{first_name}");

/** "1 segment · GSM-7 · 123/160", the way carriers bill it. */
export function describeSegments(text: string): { info: SegmentInfo; label: string } {
  const info = segmentInfo(text);
  const single = info.encoding === "GSM-7" ? 160 : 70;
  const part = info.encoding === "GSM-7" ? 153 : 67;
  const limit = info.segments <= 1 ? single : part * info.segments;
  const unit = info.encoding === "GSM-7" ? "characters" : "UCS-2 characters";
  return {
    info,
    label: `${info.segments} segment${info.segments === 1 ? "" : "s"} · ${info.encoding} · ${info.units}/${limit} ${unit}`,
  };
}
