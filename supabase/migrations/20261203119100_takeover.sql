-- Takeover: a member answers the lead from the business number (send_owner_reply). The reply goes
-- through the same outbox as every text (private.enqueue_outbound: quiet hours, the SMS pumping guard,
-- the opt-out wording on a first text, the daily cap at commit, the opt-out check at claim) and pauses
-- the bot for that conversation: no more questions, closings or nudges until resume_bot. While paused
-- the lead's replies still fill the slots (for the summary) and the conversation still ends when idle.
-- Each outbound text records who wrote it (messages.sent_by), so the thread shows bot, member or lead.

alter table public.messages
  add column sent_by uuid references auth.users (id) on delete set null,
  add column sent_by_name text check (sent_by_name is null or length(sent_by_name) <= 200);
comment on column public.messages.sent_by is 'The member who wrote an owner_reply (null for the bot''s texts, inbound texts, or a member since removed).';
comment on column public.messages.sent_by_name is 'The author''s name when they wrote the text (kept if the member later leaves).';
create index messages_sent_by_idx on public.messages (sent_by) where sent_by is not null;

alter table public.conversations
  add column bot_paused_at timestamptz,
  add column bot_paused_by uuid references auth.users (id) on delete set null;
comment on column public.conversations.bot_paused_at is 'When a member took the conversation over (send_owner_reply): the bot asks, closes and nudges nothing until resume_bot clears it.';
comment on column public.conversations.bot_paused_by is 'The member who took the conversation over.';
create index conversations_bot_paused_by_idx on public.conversations (bot_paused_by) where bot_paused_by is not null;

-- The lead of one of the caller's businesses, or 42501 (an unknown lead gets the same answer).
create or replace function private.member_lead(p_lead_id uuid)
returns public.leads
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  lead public.leads;
begin
  select * into lead from public.leads l
   where l.id = p_lead_id and l.business_id in (select private.member_business_ids());
  if lead.id is null then
    raise exception 'no lead % in your businesses', p_lead_id using errcode = '42501';
  end if;
  return lead;
end
$$;
comment on function private.member_lead(uuid) is 'The lead if it belongs to one of the calling user''s businesses; 42501 otherwise (unknown leads alike).';
revoke execute on function private.member_lead(uuid) from public;

-- Why the business cannot text this lead at all (null when it can): the composer shows it, and
-- send_owner_reply refuses with it.
create or replace function private.owner_reply_refusal(p_business public.businesses, p_lead public.leads)
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  return case
    when p_business.twilio_number is null then 'no_sending_number'
    when private.is_opted_out(p_business.id, p_lead.phone) then 'opted_out'
    when not private.is_e164(p_lead.phone) then 'invalid_phone'
    -- Without the form's consent the business may still answer a lead who texted it first.
    when not p_lead.sms_consent and not exists (
      select 1 from public.messages m where m.business_id = p_business.id and m.lead_id = p_lead.id and m.direction = 'inbound') then 'no_consent'
    else private.texting_refusal(p_business, p_lead.phone)
  end;
end
$$;
comment on function private.owner_reply_refusal(public.businesses, public.leads) is 'Why an owner reply to the lead cannot be sent: no_sending_number, opted_out, invalid_phone, no_consent (no consent on the form and no text from the lead) or the pumping guard''s reason; null when it can.';
revoke execute on function private.owner_reply_refusal(public.businesses, public.leads) from public;

-- Queues the reply and pauses the bot: shared by send_owner_reply (dashboard) and the owner's SMS
-- command. The caller has checked who p_author is.
create or replace function private.queue_owner_reply(p_lead public.leads, p_body text, p_author uuid)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  body text := btrim(coalesce(p_body, ''));
  business public.businesses;
  conversation public.conversations;
  refusal text;
  message_id uuid;
begin
  if body = '' or length(body) > 1600 then
    raise exception 'a reply is 1 to 1600 characters' using errcode = '22023';
  end if;
  select * into business from public.businesses b where b.id = p_lead.business_id;
  refusal := private.owner_reply_refusal(business, p_lead);
  if refusal is not null then
    raise exception 'this lead cannot be texted: %', refusal using errcode = '55000', hint = refusal;
  end if;

  -- Take the conversation over first, so the bot's waiting texts are gone before the reply is
  -- written (the reply then carries the opt-out wording if it is the lead's first text).
  select * into conversation from public.conversations c where c.lead_id = p_lead.id for update;
  if conversation.is_open then
    update public.conversations c
       set bot_paused_at = coalesce(c.bot_paused_at, now()), bot_paused_by = coalesce(c.bot_paused_by, p_author),
           -- Nothing is nudged now; the conversation still ends after the idle timeout of silence.
           next_action_at = now() + make_interval(mins => business.idle_timeout_minutes), version = c.version + 1
     where c.id = conversation.id;
    update public.messages m set status = 'canceled', status_reason = 'owner_took_over'
     where m.conversation_id = conversation.id and m.kind in ('text_back', 'question', 'nudge', 'closing')
       and m.status in ('queued', 'deferred');
  end if;

  message_id := private.enqueue_outbound(business, 'owner_reply', p_lead.phone, body,
    p_lead_id => p_lead.id, p_conversation_id => conversation.id);
  update public.messages m set sent_by = p_author, sent_by_name = coalesce(private.user_display_name(p_author), 'the owner')
   where m.id = message_id;
  return message_id;
end
$$;
comment on function private.queue_owner_reply(public.leads, text, uuid) is 'Queues a member''s reply to the lead (kind owner_reply, through enqueue_outbound) and pauses the bot of the lead''s open conversation, canceling its waiting texts. 22023 for an empty or too long text, 55000 (hint = reason) when the lead cannot be texted.';
revoke execute on function private.queue_owner_reply(public.leads, text, uuid) from public;

create or replace function public.send_owner_reply(p_lead_id uuid, p_body text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
begin
  return private.queue_owner_reply(private.member_lead(p_lead_id), p_body, (select auth.uid()));
end
$$;
comment on function public.send_owner_reply(uuid, text) is 'Dashboard: a member texts the lead from the business number (the outbox''s quiet hours, opt-out and cap apply) and takes the conversation over from the bot. Returns the message id; 42501 outside the caller''s businesses, 22023 bad text, 55000 (hint = reason) when the lead cannot be texted.';
revoke execute on function public.send_owner_reply(uuid, text) from public, anon;
grant execute on function public.send_owner_reply(uuid, text) to authenticated;

create or replace function public.resume_bot(p_lead_id uuid)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  lead public.leads := private.member_lead(p_lead_id);
begin
  update public.conversations c
     set bot_paused_at = null, bot_paused_by = null, version = c.version + 1
   where c.lead_id = lead.id and c.bot_paused_at is not null;
  return found;
end
$$;
comment on function public.resume_bot(uuid) is 'Dashboard: hand the lead''s conversation back to the bot (it answers the lead''s next reply and nudges again). False when it was not paused; 42501 outside the caller''s businesses.';
revoke execute on function public.resume_bot(uuid) from public, anon;
grant execute on function public.resume_bot(uuid) to authenticated;

-- What the composer tells the member before they write: whether a reply can go, and when.
create or replace function public.owner_reply_window(p_lead_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  lead public.leads := private.member_lead(p_lead_id);
  business public.businesses;
  refusal text;
  slot record;
begin
  select * into business from public.businesses b where b.id = lead.business_id;
  refusal := private.owner_reply_refusal(business, lead);
  -- The same rule enqueue_outbound applies to the reply: the lead's own texting window and state limit.
  select * into slot from private.next_lead_send_time(business, lead, now());
  return jsonb_build_object('can_send', refusal is null, 'refusal', refusal,
                            'send_at', case when refusal is null then slot.send_at end,
                            'deferred', refusal is null and slot.send_at > now(),
                            'wait_reason', case when refusal is null and slot.send_at > now() then slot.reason end,
                            'timezone', coalesce(lead.timezones[1], business.timezone));
end
$$;
comment on function public.owner_reply_window(uuid) is 'Dashboard composer: can_send, refusal (why not), send_at (later than now while the lead''s texting window is closed), deferred, wait_reason (quiet_hours, state_limit), and the lead''s timezone to show send_at in. 42501 outside the caller''s businesses.';
revoke execute on function public.owner_reply_window(uuid) from public, anon;
grant execute on function public.owner_reply_window(uuid) to authenticated;
