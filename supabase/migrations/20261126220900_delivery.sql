-- Delivery: sms-dispatch claims sendable texts (leased, SKIP LOCKED), records what Twilio answered,
-- and twilio-status applies delivery callbacks, including those that beat the SID. The RPCs here are
-- service_role only; each Twilio error code's consequences for the number, lead and account are in
-- apply_error_side_effects.

-- The claim takes due texts in order (owner alerts first, then oldest), SKIP LOCKED so concurrent claims
-- never wait on each other, and checks each against the current state before leasing it: a text the
-- opt-out state no longer allows is canceled (private.suppression_reason), a conversation text outside
-- the lead's texting window now (a retry, a recovered lease, an outage that ran into the evening) goes
-- back to deferred with its reason. It keeps going until it has a batch, so texts it set aside never
-- make the batch look drained while sendable ones wait behind them. Expired leases are released first.
create or replace function public.claim_outbound_messages(p_batch_size int default 25, p_lease_seconds int default 60)
returns table (id uuid, business_id uuid, lead_id uuid, conversation_id uuid, kind text, to_phone text,
               from_phone text, body text, attempts int, unknown_attempt_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  candidate public.messages;
  leased public.messages;
  business public.businesses;
  lead public.leads;
  slot record;
  reason text;
  taken integer := 0;
begin
  if p_batch_size is null or p_batch_size < 1 or p_batch_size > 500 then
    raise exception 'p_batch_size must be between 1 and 500' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds < 5 or p_lease_seconds > 3600 then
    raise exception 'p_lease_seconds must be between 5 and 3600' using errcode = '22023';
  end if;
  perform private.answer_wake('sms-dispatch');
  perform private.release_expired_leases(now(), 100);

  for candidate in
    select m.* from public.messages m
     where m.status = 'queued' and private.is_sendable_now(m)
     order by (m.kind = 'owner_alert') desc, m.created_at
     for update of m skip locked
  loop
    reason := private.suppression_reason(candidate);
    if reason is not null then
      update public.messages m set status = 'canceled', status_reason = reason where m.id = candidate.id;
      continue;
    end if;
    if private.is_limited_lead_text(candidate.kind) then
      select * into business from public.businesses b where b.id = candidate.business_id;
      select * into lead from public.leads l where l.id = candidate.lead_id;
      select * into slot from private.next_lead_send_time(business, lead, now(), candidate.id);
      if slot.send_at > now() then
        update public.messages m
           set status = 'deferred', send_after = slot.send_at, next_attempt_at = slot.send_at, status_reason = slot.reason
         where m.id = candidate.id;
        continue;
      end if;
    end if;
    update public.messages m
       set status = 'sending', lease_until = now() + make_interval(secs => p_lease_seconds),
           attempts = m.attempts + 1, last_attempt_at = now()
     where m.id = candidate.id
    returning * into leased;
    id := leased.id; business_id := leased.business_id; lead_id := leased.lead_id;
    conversation_id := leased.conversation_id; kind := leased.kind; to_phone := leased.to_phone;
    from_phone := leased.from_phone; body := leased.body; attempts := leased.attempts;
    unknown_attempt_at := leased.unknown_attempt_at;
    return next;
    taken := taken + 1;
    exit when taken >= p_batch_size;
  end loop;
end
$$;
comment on function public.claim_outbound_messages(int, int) is 'sms-dispatch: lease due queued messages (owner alerts first, then oldest; SKIP LOCKED), checking each at send time: canceled when the opt-out state forbids it, deferred again when outside the lead''s texting window. unknown_attempt_at set: look the text up in Twilio before sending.';
revoke execute on function public.claim_outbound_messages(int, int) from public, anon, authenticated;
grant execute on function public.claim_outbound_messages(int, int) to service_role;

-- Conversation bookkeeping when one of its texts has gone out.
create or replace function private.after_outbound_sent(p_message public.messages)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_message.kind = 'owner_alert' then
    update public.leads set owner_alert_status = 'sent' where id = p_message.lead_id and owner_alert_status = 'queued';
  end if;
  if p_message.conversation_id is null then
    return;
  end if;
  if p_message.kind = 'text_back' then
    update public.conversations c
       set status = 'awaiting_reply',
           last_outbound_at = now(),
           next_action_at = now() + make_interval(mins => b.nudge_delay_minutes),
           version = c.version + 1
      from public.businesses b
     where c.id = p_message.conversation_id and b.id = c.business_id and c.status = 'pending';
  else
    update public.conversations set last_outbound_at = now() where id = p_message.conversation_id;
  end if;
end
$$;
comment on function private.after_outbound_sent(public.messages) is 'Bookkeeping once a text has gone out: the lead shows its owner alert sent; a sent text-back moves its conversation to awaiting_reply and schedules the nudge.';
revoke execute on function private.after_outbound_sent(public.messages) from public;

-- Twilio answers 201 and starts delivering at once, so a status callback can arrive before
-- sms-dispatch has recorded the SID with mark_message_sent. Such callbacks wait here and are applied
-- when the SID is recorded; rows nobody claims (the SID was never ours, or the first SID was kept)
-- are purged by the lifecycle sweep after a day.
create table private.early_message_statuses (
  twilio_sid text not null check (length(twilio_sid) between 10 and 64),
  status text not null check (status in ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'canceled')),
  error_code text check (length(error_code) <= 16),
  received_at timestamptz not null default now(),
  primary key (twilio_sid, status)
);
comment on table private.early_message_statuses is 'Twilio status callbacks that arrived before mark_message_sent recorded their SID; applied (in rank order) and deleted by mark_message_sent, purged by the lifecycle sweep after a day.';
create index early_message_statuses_received_at_idx on private.early_message_statuses (received_at);
alter table private.early_message_statuses enable row level security;
revoke all on private.early_message_statuses from public, anon, authenticated;

-- Serialises "is this SID known yet?" between record_message_status and mark_message_sent, so an
-- early callback is either seen by mark_message_sent or finds the SID already recorded: never lost
-- between the two.
create or replace function private.lock_twilio_sid(p_twilio_sid text)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('leadloop.twilio_sid:' || p_twilio_sid, 0));
end
$$;
comment on function private.lock_twilio_sid(text) is 'Transaction lock on one Twilio SID (record_message_status vs mark_message_sent).';
revoke execute on function private.lock_twilio_sid(text) from public;

create or replace function public.mark_message_sent(p_message_id uuid, p_twilio_sid text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  message public.messages;
begin
  if p_twilio_sid is null or length(p_twilio_sid) not between 10 and 64 then
    raise exception 'p_twilio_sid must be a Twilio message SID' using errcode = '22023';
  end if;
  perform private.lock_twilio_sid(p_twilio_sid);
  update public.messages m
     set status = 'sent', twilio_sid = coalesce(m.twilio_sid, p_twilio_sid), sent_at = now(), lease_until = null,
         error_code = null, error_message = null, unknown_attempt_at = null
   where m.id = p_message_id
     -- sending: ours; queued without a SID: our lease expired and it waits to go again, but it went
     -- (sending it again would text twice); deferred or canceled since: it went all the same.
     and (m.status = 'sending' or (m.status in ('queued', 'deferred', 'canceled') and m.twilio_sid is null and m.attempts > 0))
  returning * into message;
  if message.id is null then
    update public.messages m set twilio_sid = p_twilio_sid where m.id = p_message_id and m.twilio_sid is null
    returning * into message;
    if message.id is not null then
      perform private.apply_early_message_statuses(message);
    end if;
    return false;
  end if;
  perform private.after_outbound_sent(message);
  if message.twilio_sid = p_twilio_sid then
    perform private.apply_early_message_statuses(message);
  end if;
  return true;
end
$$;
comment on function public.mark_message_sent(uuid, text) is 'sms-dispatch: Twilio accepted the message. A message whose lease expired meanwhile and waits to go again is recorded as sent too (it went). False when it had already been settled with another SID or status; the SID is kept if none was. Status callbacks that arrived before the SID was recorded are applied now.';
revoke execute on function public.mark_message_sent(uuid, text) from public, anon, authenticated;
grant execute on function public.mark_message_sent(uuid, text) to service_role;

-- What a Twilio error means for the number, the lead and the account (docs/sms-compliance.md).
create or replace function private.apply_error_side_effects(p_message public.messages, p_error_code text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- A carrier opt-out about a text that left before the number opted back in (START) is stale.
  if p_error_code in ('21610', '30005', '30006') and not exists (
       select 1 from private.opt_ins i
        where i.business_id = p_message.business_id and i.phone = p_message.to_phone
          and i.opted_in_at > coalesce(p_message.sent_at, p_message.last_attempt_at, p_message.created_at)) then
    insert into public.opt_outs (business_id, phone, source, matched_rule)
    values (p_message.business_id, p_message.to_phone, 'carrier', 'carrier:' || p_error_code)
    on conflict do nothing;
  end if;
  if p_error_code = '21211' then
    update public.leads set phone_status = 'invalid'
     where business_id = p_message.business_id and phone = p_message.to_phone;
  elsif p_error_code in ('21614', '21635', '30006') then
    update public.leads set phone_status = 'landline', delivery_problem = 'Landline number: call, don''t text.'
     where business_id = p_message.business_id and phone = p_message.to_phone;
  elsif p_error_code = '30007' then
    update public.leads set delivery_problem = 'Carrier filtered the text (30007): check message content and sender registration.'
     where id = p_message.lead_id;
  elsif p_error_code in ('30034', '30032') then
    update public.businesses
       set sending_problem = format('Twilio %s: the sending number is not registered (10DLC / toll-free verification). Texts cannot be delivered until it is.', p_error_code),
           sending_problem_at = now()
     where id = p_message.business_id;
  end if;
end
$$;
comment on function private.apply_error_side_effects(public.messages, text) is 'A Twilio error''s consequences, applied once per state change by the caller: 21610/30005/30006 opt the number out (unless it opted back in after the text left), 21211 invalid, 21614/21635/30006 landline, 30007 filtered (shown on the lead), 30032/30034 unregistered sender (shown on the business).';
revoke execute on function private.apply_error_side_effects(public.messages, text) from public;

-- A failed send. Permanent errors and anything past its delivery deadline are dead-lettered; the rest
-- wait private.retry_delay and go again. p_outcome_unknown: the request may have reached Twilio (a
-- timeout after it left): the next attempt looks for it first. The error's side effects apply once,
-- here, on the move out of sending.
create or replace function public.mark_message_failed(
  p_message_id uuid, p_error_code text, p_error_message text, p_retryable boolean, p_outcome_unknown boolean default false)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  message public.messages;
  attempt_limit integer;
  retry_at timestamptz;
begin
  select * into message from public.messages m where m.id = p_message_id for update;
  if message.id is null then
    raise exception 'message % not found', p_message_id using errcode = 'P0002';
  end if;
  if message.status <> 'sending' then
    return message.status;  -- not ours any more (settled, or its lease expired and it was requeued): nothing to undo
  end if;
  attempt_limit := case
    when p_error_code = '30008' then least(message.max_attempts, 2)   -- unknown: retry once
    when p_error_code = '30003' then least(message.max_attempts, 3)   -- unreachable: retry sparingly
    else message.max_attempts end;
  retry_at := now() + private.retry_delay(message.attempts);

  update public.messages m
     set status = 'queued', lease_until = null,
         error_code = left(p_error_code, 16), error_message = left(p_error_message, 1000),
         next_attempt_at = retry_at, status_reason = 'retrying',
         unknown_attempt_at = case when coalesce(p_outcome_unknown, false) then coalesce(m.unknown_attempt_at, m.last_attempt_at) end
   where m.id = message.id
  returning * into message;
  perform private.apply_error_side_effects(message, p_error_code);

  if not coalesce(p_retryable, false)
     or p_error_code in ('21211', '21408', '21610', '21612', '21614', '21635', '30005', '30006', '30007', '30032', '30034') then
    message := private.dead_letter(message, format('Twilio refused it for good (%s)', p_error_code));
  elsif message.attempts >= attempt_limit then
    message := private.dead_letter(message, format('gave up after %s attempts', message.attempts));
  elsif retry_at > message.created_at + private.delivery_deadline(message.kind) then
    message := private.dead_letter(message, format('still failing %s after it was written', private.delivery_deadline(message.kind)));
  end if;
  return message.status;
end
$$;
comment on function public.mark_message_failed(uuid, text, text, boolean, boolean) is 'sms-dispatch: a send failed. Returns queued (retried after private.retry_delay; p_outcome_unknown: looked up in Twilio first) or failed (permanent error, attempts exhausted or past private.delivery_deadline: dead-lettered, owner told). Error side effects apply once.';
revoke execute on function public.mark_message_failed(uuid, text, text, boolean, boolean) from public, anon, authenticated;
grant execute on function public.mark_message_failed(uuid, text, text, boolean, boolean) to service_role;

create or replace function private.twilio_status_rank(p_status text)
returns integer
language plpgsql
immutable
set search_path = ''
as $$
begin
  return (
    select case p_status
      when 'queued' then 1 when 'deferred' then 1 when 'sending' then 2 when 'sent' then 3
      when 'undelivered' then 4 when 'failed' then 4 when 'delivered' then 5 when 'canceled' then 6
      else 0 end);
end
$$;
comment on function private.twilio_status_rank(text) is 'Order of delivery statuses: a status only ever moves to a higher rank.';
revoke execute on function private.twilio_status_rank(text) from public;

-- One delivery status applied to a locked message row: only forward moves of a message that has
-- left our hands (a late "sent" never replaces "delivered"), then the error code's side effects.
create or replace function private.apply_message_status(p_message public.messages, p_new_status text, p_error_code text)
returns public.messages
language plpgsql
security definer
set search_path = ''
as $$
declare
  message public.messages := p_message;
begin
  if message.status in ('sent', 'sending', 'undelivered', 'failed')
     and private.twilio_status_rank(p_new_status) > private.twilio_status_rank(message.status)
     and p_new_status in ('sent', 'delivered', 'undelivered', 'failed') then
    update public.messages m
       set status = p_new_status,
           delivered_at = case when p_new_status = 'delivered' then now() else m.delivered_at end,
           error_code = coalesce(left(p_error_code, 16), m.error_code),
           lease_until = null
     where m.id = message.id
    returning * into message;
    if message.kind = 'owner_alert' and p_new_status = 'delivered' then
      update public.leads set owner_alert_status = 'delivered' where id = message.lead_id;
    elsif message.kind = 'owner_alert' and p_new_status in ('undelivered', 'failed') then
      update public.leads set owner_alert_status = 'failed' where id = message.lead_id;
    end if;
    -- Once, on the change: a replayed or late callback changes no status and so re-applies nothing.
    if p_error_code is not null then
      perform private.apply_error_side_effects(message, p_error_code);
    end if;
  end if;
  return message;
end
$$;
comment on function private.apply_message_status(public.messages, text, text) is 'Applies one Twilio delivery status to a locked message (never backwards) and, only when the status changed, its error side effects; shared by record_message_status and mark_message_sent.';
revoke execute on function private.apply_message_status(public.messages, text, text) from public;

-- The callbacks that beat mark_message_sent, applied in rank order (sent before delivered, whatever
-- order Twilio posted them in) and then forgotten. The caller holds the SID lock and the row.
create or replace function private.apply_early_message_statuses(p_message public.messages)
returns public.messages
language plpgsql
security definer
set search_path = ''
as $$
declare
  message public.messages := p_message;
  early record;
begin
  for early in
    select e.status, e.error_code from private.early_message_statuses e
     where e.twilio_sid = p_message.twilio_sid
     order by private.twilio_status_rank(e.status), e.received_at
  loop
    message := private.apply_message_status(message, early.status, early.error_code);
  end loop;
  delete from private.early_message_statuses e where e.twilio_sid = p_message.twilio_sid;
  return message;
end
$$;
comment on function private.apply_early_message_statuses(public.messages) is 'mark_message_sent: applies, in rank order, the status callbacks that arrived before the SID was recorded, then deletes them.';
revoke execute on function private.apply_early_message_statuses(public.messages) from public;

-- Twilio's MessageStatus values mapped onto ours; null for anything else.
create or replace function private.twilio_message_status(p_status text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return (
    select case lower(p_status)
      when 'accepted' then 'queued' when 'scheduled' then 'queued' when 'queued' then 'queued'
      when 'sending' then 'sending' when 'sent' then 'sent' when 'delivered' then 'delivered' when 'read' then 'delivered'
      when 'undelivered' then 'undelivered' when 'failed' then 'failed' when 'canceled' then 'canceled' end);
end
$$;
comment on function private.twilio_message_status(text) is 'Twilio''s MessageStatus mapped onto messages.status (null when unknown).';
revoke execute on function private.twilio_message_status(text) from public;

create or replace function public.record_message_status(p_twilio_sid text, p_status text, p_error_code text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  message public.messages;
  new_status text := private.twilio_message_status(p_status);
begin
  if new_status is null then
    raise exception 'unknown Twilio message status "%"', p_status using errcode = '22023';
  end if;
  if p_twilio_sid is null or length(p_twilio_sid) not between 10 and 64 then
    raise exception 'p_twilio_sid must be a Twilio message SID' using errcode = '22023';
  end if;
  select * into message from public.messages m where m.twilio_sid = p_twilio_sid for update;
  if message.id is null then
    -- Maybe mark_message_sent is recording this SID right now: wait for it, then look again.
    perform private.lock_twilio_sid(p_twilio_sid);
    select * into message from public.messages m where m.twilio_sid = p_twilio_sid for update;
  end if;
  if message.id is null then
    insert into private.early_message_statuses as e (twilio_sid, status, error_code)
    values (p_twilio_sid, new_status, left(p_error_code, 16))
    on conflict (twilio_sid, status) do update set error_code = coalesce(excluded.error_code, e.error_code);
    return jsonb_build_object('found', false, 'status', null, 'deferred', true);
  end if;
  message := private.apply_message_status(message, new_status, p_error_code);
  return jsonb_build_object('found', true, 'status', message.status);
end
$$;
comment on function public.record_message_status(text, text, text) is 'twilio-status: apply a delivery callback; never moves backwards; 21610/30005/30006 suppress the number. A callback for a SID not recorded yet is kept and applied by mark_message_sent ({found:false, deferred:true}).';
revoke execute on function public.record_message_status(text, text, text) from public, anon, authenticated;
grant execute on function public.record_message_status(text, text, text) to service_role;
