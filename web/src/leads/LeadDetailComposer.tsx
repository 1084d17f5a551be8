// Reply to the lead from the business number (send_owner_reply). Sending takes the conversation over
// from the bot until the member hands it back. The composer shows the SMS segment count as the member
// types (the same arithmetic the summarizer uses) and says why a reply cannot go now.
import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { segmentInfo } from "../../../functions/_shared/sms-segments.ts";
import { useDb } from "../lib/supabase.tsx";
import type { Conversation, Lead } from "../lib/types.ts";
import { ErrorBox } from "../ui/States.tsx";
import { leadDetailQueries, REFUSALS, type ReplyWindow, useResumeBot, useSendOwnerReply } from "./LeadDetailQueries.ts";

const OPEN = new Set(["pending", "awaiting_reply", "active"]);
const MAX_LENGTH = 1600;

/** "8:00 AM" in the given zone, with the day when it is not today there. */
export function formatSendTime(replyWindow: Pick<ReplyWindow, "send_at" | "timezone">, now = new Date()): string {
  if (!replyWindow.send_at) return "";
  const at = new Date(replyWindow.send_at);
  const day = (d: Date) => d.toLocaleDateString("en-US", { timeZone: replyWindow.timezone });
  const time = at.toLocaleTimeString("en-US", { timeZone: replyWindow.timezone, hour: "numeric", minute: "2-digit" });
  return day(at) === day(now) ? time : `${at.toLocaleDateString("en-US", { timeZone: replyWindow.timezone, weekday: "short" })} ${time}`;
}

export function segmentLabel(text: string): string {
  if (text.length === 0) return "0 characters";
  const info = segmentInfo(text);
  return `${text.length} characters · ${info.segments} SMS${info.segments === 1 ? "" : " segments"}${info.encoding === "UCS-2" ? " (Unicode: 70 per SMS)" : ""}`;
}

export function Composer({ lead, conversation }: { lead: Lead; conversation: Conversation | null }) {
  const db = useDb();
  const replyWindow = useQuery(leadDetailQueries.replyWindow(db, lead.id));
  const send = useSendOwnerReply(lead.id);
  const resume = useResumeBot(lead.id);
  const [body, setBody] = useState("");
  const id = useId();
  const open = conversation !== null && OPEN.has(conversation.status);
  const paused = Boolean(conversation?.bot_paused_at);
  const blocked = replyWindow.data && !replyWindow.data.can_send;

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Reply as the business</h2>
      {open && paused && (
        <div className="alert alert-info">
          <span>You took over: the bot asks and nudges nothing more.</span>
          <button type="button" className="btn btn-small" disabled={resume.isPending} onClick={() => resume.mutate()}>Hand back to the bot</button>
        </div>
      )}
      {open && !paused && <p className="small muted">Sending a reply pauses the bot for this conversation.</p>}
      {blocked && (
        <p className="alert alert-warning" role="status">
          Cannot text this lead: {REFUSALS[replyWindow.data.refusal ?? ""] ?? replyWindow.data.refusal}.
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (body.trim() === "") return;
          send.mutate(body, { onSuccess: () => setBody("") });
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-body`}>Message to {lead.name}</label>
          <textarea
            id={`${id}-body`}
            rows={3}
            maxLength={MAX_LENGTH}
            value={body}
            disabled={Boolean(blocked)}
            aria-describedby={`${id}-count`}
            onChange={(e) => setBody(e.target.value)}
          />
          <small id={`${id}-count`} className="muted" data-testid="segment-count" aria-live="polite">{segmentLabel(body)}</small>
        </div>
        {replyWindow.data?.can_send && replyWindow.data.deferred && (
          <p className="small" role="status" data-testid="reply-deferred">
            {replyWindow.data.wait_reason === "state_limit" ? "The lead's state limits texts per day" : "Quiet hours"}: will send at{" "}
            {formatSendTime(replyWindow.data)} the lead's time.
          </p>
        )}
        <span className="actions">
          <button type="submit" className="btn btn-primary" disabled={send.isPending || body.trim() === "" || Boolean(blocked)}>
            {send.isPending ? "Sending…" : "Send"}
          </button>
        </span>
      </form>
      {send.error && <p className="field-error" role="alert">{send.error.message}</p>}
      {resume.error && <ErrorBox error={resume.error} />}
      {replyWindow.error && <ErrorBox error={replyWindow.error} onRetry={() => void replyWindow.refetch()} />}
    </section>
  );
}
