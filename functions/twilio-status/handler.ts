// Twilio's delivery status callback: records the status (never backwards; carrier
// opt-out codes suppress the number in the database). A callback for a SID sms-dispatch has not
// recorded yet is kept by the database and applied when it is (deferred).
import { z } from "zod";
import { type Handler, withErrors } from "../_shared/http.ts";
import { readSignedTwilioForm } from "../_shared/twilio-webhook.ts";
import type { LeadloopRpc } from "../_shared/rpc.ts";
import type { TwilioWebhookEnv } from "../_shared/env.ts";

export const statusFormSchema = z
  .object({
    MessageSid: z.string().min(10, "MessageSid is required").max(64),
    MessageStatus: z.string().optional(),
    SmsStatus: z.string().optional(),
    ErrorCode: z.string().optional(),
  })
  .transform((f, ctx) => {
    const status = (f.MessageStatus ?? f.SmsStatus ?? "").toLowerCase();
    if (!status) ctx.addIssue({ code: "custom", path: ["MessageStatus"], message: "MessageStatus is required" });
    return { sid: f.MessageSid, status, errorCode: f.ErrorCode && f.ErrorCode !== "0" ? f.ErrorCode : null };
  });

export interface StatusDeps {
  rpc: LeadloopRpc;
  env: TwilioWebhookEnv;
}

export function createStatusHandler(deps: StatusDeps): Handler {
  return withErrors("twilio-status", async (req) => {
    const form = statusFormSchema.parse(await readSignedTwilioForm(req, deps.env, "twilio-status"));
    const result = await deps.rpc.recordMessageStatus(form.sid, form.status, form.errorCode);
    // A deferred status is the normal race with sms-dispatch (Twilio calls back before the SID is
    // recorded), kept by the database for later: nothing to warn about.
    if (!result.found && !result.deferred) console.warn(`[twilio-status] no message with sid ${form.sid}`);
    return new Response(null, { status: 204 });
  });
}
