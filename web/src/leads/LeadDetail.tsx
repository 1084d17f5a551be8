import { useQuery } from "@tanstack/react-query";
import { getRouteApi, Link } from "@tanstack/react-router";
import { useDb } from "../lib/supabase.tsx";
import { formatDateTime } from "../lib/format.ts";
import { usePhoneFormat } from "../lib/usePhoneFormat.ts";
import type { Business, Conversation, Lead, Message } from "../lib/types.ts";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { NotFoundCard } from "../shell/RouteStates.tsx";
import { useMembership } from "../shell/membership.tsx";
import { Chip } from "../ui/Chip.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { Composer } from "./LeadDetailComposer.tsx";
import { PipelineCard } from "./LeadDetailPipeline.tsx";
import { leadQueries } from "./queries.ts";
import { completionDetail, leadStatusChip, MESSAGE_KIND_LABELS, messageStatusLabel, NOT_TEXTED_REASONS } from "./status.ts";
import { readOwnerSummary } from "./summary.ts";

const CONVERSATION_STATUS: Record<Conversation["status"], string> = {
  pending: "Waiting to send the first text",
  awaiting_reply: "Waiting for the lead to reply",
  active: "Lead is replying",
  completed: "Completed",
  no_reply: "No reply",
  opted_out: "Opted out",
  failed: "Texting failed",
};

const route = getRouteApi("/app/leads/$leadId");

export function LeadDetail() {
  const { business } = useMembership();
  const { leadId } = route.useParams();
  const db = useDb();
  const lead = useQuery(leadQueries.detail(db, leadId));
  const conversation = useQuery(leadQueries.conversation(db, leadId));
  const conversationId = conversation.data?.id ?? null;
  const messages = useQuery({ ...leadQueries.messages(db, leadId, conversationId), enabled: conversation.isSuccess });

  useDocumentTitle(lead.data ? lead.data.name : "Lead");
  if (lead.isPending) return <Loading what="lead" />;
  if (lead.error) return <ErrorBox error={lead.error} onRetry={() => void lead.refetch()} />;
  if (!lead.data || lead.data.business_id !== business.id) return <NotFoundCard what="lead" />;
  const l = lead.data;
  const chip = leadStatusChip({ ...l, conversation: conversation.data ?? null });

  return (
    <article className="detail" aria-labelledby="lead-title">
      <Link to="/" className="back">← All leads</Link>
      <header className="detail-head">
        <div>
          <h1 id="lead-title">{l.name}</h1>
          <p className="muted">Received {formatDateTime(l.created_at)}</p>
        </div>
        <Chip tone={chip.tone} label={chip.label} title={chip.detail} />
      </header>
      <div className="detail-grid">
        <div className="stack">
          <LeadCard lead={l} />
          <PipelineCard lead={l} />
          <ConsentCard lead={l} />
        </div>
        <div className="stack">
          {conversation.error && <ErrorBox error={conversation.error} onRetry={() => void conversation.refetch()} />}
          <ConversationCard lead={l} conversation={conversation.data ?? null} maxQuestions={business.max_questions} />
          <SummaryCard conversation={conversation.data ?? null} />
          <section className="card" aria-labelledby="thread-title">
            <h2 id="thread-title">SMS thread</h2>
            {messages.isPending && <Loading what="messages" />}
            {messages.error && <ErrorBox error={messages.error} onRetry={() => void messages.refetch()} />}
            {messages.data && <Thread messages={messages.data} business={business} leadName={l.name} />}
          </section>
          <Composer lead={l} conversation={conversation.data ?? null} />
        </div>
      </div>
    </article>
  );
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function LeadCard({ lead }: { lead: Lead }) {
  const digits = lead.phone;
  const formatPhone = usePhoneFormat([lead.phone]);
  return (
    <section className="card" aria-labelledby="form-title">
      <h2 id="form-title">Form</h2>
      <dl className="rows">
        <Row label="Phone">
          <span className="phone-actions">
            <span>{formatPhone(lead.phone)}</span>
            {/* Big enough to tap on a phone: calling back is the point of the page. */}
            <a className="btn btn-touch" href={`tel:${digits}`} aria-label={`Call ${lead.name}`}>Call</a>
            <a className="btn btn-touch" href={`sms:${digits}`} aria-label={`Text ${lead.name}`}>Text</a>
            {lead.phone_status === "landline" && <Chip tone="warning" label="landline: call, don't text" />}
            {lead.phone_status === "invalid" && <Chip tone="danger" label="invalid number" />}
          </span>
        </Row>
        <Row label="Email">{lead.email ? <a href={`mailto:${lead.email}`}>{lead.email}</a> : <span className="muted">—</span>}</Row>
        <Row label="Message"><span className="pre">{lead.message ?? "—"}</span></Row>
        <Row label="Page">{lead.source_url ? <a href={lead.source_url} target="_blank" rel="noreferrer noopener">{lead.source_url}</a> : "—"}</Row>
        {lead.is_duplicate && <Row label="Duplicate">{lead.duplicate_of ? <Link to="/leads/$leadId" params={{ leadId: lead.duplicate_of }}>of an earlier lead</Link> : "yes"}</Row>}
        {lead.followup_status === "not_texted" && lead.not_texted_reason && (
          <Row label="Not texted">{NOT_TEXTED_REASONS[lead.not_texted_reason]}</Row>
        )}
        {lead.delivery_problem && <Row label="Delivery">{lead.delivery_problem}</Row>}
      </dl>
    </section>
  );
}

function ConsentCard({ lead }: { lead: Lead }) {
  return (
    <section className="card" aria-labelledby="consent-title">
      <h2 id="consent-title">Consent evidence</h2>
      <dl className="rows">
        <Row label="SMS consent">
          {lead.sms_consent ? <Chip tone="success" label="given" /> : <Chip tone="neutral" label="not given" />}
        </Row>
        <Row label="Text shown">{lead.consent_text ? <q className="consent-quote">{lead.consent_text}</q> : "—"}</Row>
        <Row label="Agreed at">{formatDateTime(lead.consent_at)}</Row>
        <Row label="IP address">{lead.ip ?? "—"}</Row>
        <Row label="Browser"><span className="small">{lead.user_agent ?? "—"}</span></Row>
      </dl>
    </section>
  );
}

function ConversationCard({ lead, conversation, maxQuestions }: { lead: Lead; conversation: Conversation | null; maxQuestions: number }) {
  if (!conversation) {
    return (
      <section className="card" aria-labelledby="conv-title">
        <h2 id="conv-title">Follow-up</h2>
        <p className="muted">
          {lead.followup_status === "not_texted"
            ? `Not texted back${lead.not_texted_reason ? `: ${NOT_TEXTED_REASONS[lead.not_texted_reason]}` : ""}.`
            : "No conversation yet."}
        </p>
      </section>
    );
  }
  const slots = conversation.slots ?? {};
  const constraints = Array.isArray(slots.constraints) ? slots.constraints : [];
  return (
    <section className="card" aria-labelledby="conv-title">
      <h2 id="conv-title">Follow-up</h2>
      <dl className="rows">
        <Row label="Status">
          {CONVERSATION_STATUS[conversation.status]}
          {conversation.completion_reason && <span className="muted"> · {completionDetail(conversation.completion_reason)}</span>}
        </Row>
        <Row label="Questions">{conversation.question_count} of {maxQuestions} asked · {conversation.turn_count} {conversation.turn_count === 1 ? "reply" : "replies"}</Row>
        {conversation.next_action_at && <Row label="Next step">{formatDateTime(conversation.next_action_at)}</Row>}
        <Row label="Need">{slots.need ?? <span className="muted">not yet known</span>}</Row>
        <Row label="Timing">{slots.timing ?? <span className="muted">not yet known</span>}</Row>
        <Row label="Location">{slots.location ?? <span className="muted">not yet known</span>}</Row>
        <Row label="Constraints">{constraints.length ? constraints.join(", ") : <span className="muted">none</span>}</Row>
      </dl>
    </section>
  );
}

function SummaryCard({ conversation }: { conversation: Conversation | null }) {
  if (!conversation) return null;
  const summary = readOwnerSummary(conversation.summary);
  return (
    <section className="card" aria-labelledby="summary-title">
      <h2 id="summary-title">Owner summary</h2>
      {!summary ? (
        <p className="muted">
          {conversation.summary_status === "not_due" ? "Sent when the questions are answered, a while after the lead's last reply, or once the nudge has gone unanswered." : "Being written…"}
        </p>
      ) : (
        <>
          {summary.text && <p className="pre summary-text">{summary.text}</p>}
          <dl className="rows">
            <Row label="Need">{summary.need ?? "—"}</Row>
            <Row label="Timing">{summary.timing ?? "—"}</Row>
            <Row label="Location">{summary.location ?? "—"}</Row>
            {summary.constraints.length > 0 && <Row label="Constraints">{summary.constraints.join(", ")}</Row>}
            {summary.missing.length > 0 && <Row label="Still missing">{summary.missing.join(", ")}</Row>}
          </dl>
        </>
      )}
    </section>
  );
}

/** Who wrote a text: the lead, a member (owner replies carry their name), or the bot. */
function author(m: Message, leadName: string, toOwner: boolean): string {
  if (m.direction === "inbound") return leadName;
  if (m.kind === "owner_reply") return m.sent_by_name ?? "Your team";
  return toOwner ? "leadloop · to you" : "Bot";
}

function Thread({ messages, business, leadName }: { messages: Message[]; business: Business; leadName: string }) {
  if (messages.length === 0) return <p className="muted">No texts yet.</p>;
  return (
    <ol className="thread" data-testid="sms-thread">
      {messages.map((m) => {
        const toOwner = m.direction === "outbound" && m.to_phone === business.owner_phone;
        const status = messageStatusLabel(m.status, m.send_after, undefined, m.status_reason);
        const side = m.direction === "inbound" ? "in" : toOwner ? "owner" : "out";
        return (
          <li key={m.id} className={`bubble bubble-${side}`}>
            <div className="bubble-head">
              <span>
                <span className="bubble-author">{author(m, leadName, toOwner)}</span>
                {m.direction === "outbound" && ` · ${MESSAGE_KIND_LABELS[m.kind] ?? m.kind}`}
              </span>
              <time dateTime={m.created_at}>{formatDateTime(m.created_at)}</time>
            </div>
            <p className="pre">{m.body}</p>
            {m.direction === "outbound" && (
              <div className="bubble-foot">
                <Chip tone={status.tone} label={status.label} />
                {m.error_code && <span className="small muted"> error {m.error_code}{m.error_message ? `: ${m.error_message}` : ""}</span>}
                {m.status_reason && <span className="small muted"> {m.status_reason}</span>}
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}
