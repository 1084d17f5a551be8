-- Outbox RPCs for sms-dispatch (service_role only). See RPC-CONTRACT.md.

-- The claim first cancels every due text to an opted-out number (SKIP LOCKED, so concurrent claims
-- never wait on each other) and then leases a batch of what can really be sent. A batch made only of
-- suppressed texts would come back empty, which tells sms-dispatch "drained" while sendable
-- messages still wait behind it.
create or replace function public.claim_outbound_messages(p_batch_size int default 25, p_lease_seconds int default 60)
returns table (id uuid, business_id uuid, lead_id uuid, conversation_id uuid, kind text, to_phone text,
               from_phone text, body text, attempts int)
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_batch_size is null or p_batch_size < 1 or p_batch_size > 500 then
    raise exception 'p_batch_size must be between 1 and 500' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds < 5 or p_lease_seconds > 3600 then
    raise exception 'p_lease_seconds must be between 5 and 3600' using errcode = '22023';
  end if;
  -- Answering the pending wake first: a transaction that skipped its own wake holds this row until
  -- it commits, so the claim below sees its messages.
  update private.dispatch_wake_state set wake_pending = false, last_claim_at = now() where singleton;

  -- The send-time opt-out check: due texts to a number the business may no longer text are canceled.
  with suppressed as (
    select m.id from public.messages m
     where m.status = 'queued' and m.send_after <= now() and m.next_attempt_at <= now() and m.kind <> 'opt_out_ack'
       and exists (select 1 from public.opt_outs o where o.business_id = m.business_id and o.phone = m.to_phone)
     for update of m skip locked
  )
  update public.messages m set status = 'canceled', status_reason = 'opted_out'
    from suppressed where m.id = suppressed.id;

  return query
  with due as (
    select m.id
      from public.messages m
     where m.status = 'queued' and m.send_after <= now() and m.next_attempt_at <= now()
       and (m.kind = 'opt_out_ack'
            or not exists (select 1 from public.opt_outs o where o.business_id = m.business_id and o.phone = m.to_phone))
     order by (m.kind = 'owner_alert') desc, m.created_at
     limit p_batch_size
     for update of m skip locked
  ), leased as (
    update public.messages m
       set status = 'sending',
           lease_until = now() + make_interval(secs => p_lease_seconds), attempts = m.attempts + 1
      from due
     where m.id = due.id
    returning m.id, m.business_id, m.lead_id, m.conversation_id, m.kind, m.to_phone, m.from_phone, m.body, m.attempts, m.created_at
  )
  select l.id, l.business_id, l.lead_id, l.conversation_id, l.kind, l.to_phone, l.from_phone, l.body, l.attempts
    from leased l
   order by (l.kind = 'owner_alert') desc, l.created_at;
end
$$;
comment on function public.claim_outbound_messages(int, int) is 'sms-dispatch: cancel due texts to opted-out numbers, then lease due queued messages (owner alerts first, then oldest) with FOR UPDATE SKIP LOCKED.';

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
  update public.messages m
     set status = 'sent', twilio_sid = coalesce(m.twilio_sid, p_twilio_sid), sent_at = now(), lease_until = null,
         error_code = null, error_message = null
   where m.id = p_message_id and m.status = 'sending'
  returning * into message;
  if message.id is null then
    update public.messages m set twilio_sid = p_twilio_sid where m.id = p_message_id and m.twilio_sid is null;
    return false;
  end if;
  perform private.after_outbound_sent(message);
  return true;
end
$$;
comment on function public.mark_message_sent(uuid, text) is 'sms-dispatch: Twilio accepted the message. False when it was no longer sending (lease expired); the SID is still kept.';

-- What a Twilio error means for the number, the lead and the account (sms-compliance.md).
create or replace function private.apply_error_side_effects(p_message public.messages, p_error_code text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_error_code in ('21610', '30005', '30006') then
    insert into public.opt_outs (business_id, phone, source, matched_rule)
    values (p_message.business_id, p_message.to_phone, 'carrier', 'carrier:' || p_error_code)
    on conflict do nothing;
    perform private.close_conversations_for_opt_out(p_message.business_id, p_message.to_phone);
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

create or replace function public.mark_message_failed(p_message_id uuid, p_error_code text, p_error_message text, p_retryable boolean)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  message public.messages;
  attempt_limit integer;
  permanent boolean;
begin
  select * into message from public.messages m where m.id = p_message_id for update;
  if message.id is null then
    raise exception 'message % not found', p_message_id using errcode = 'P0002';
  end if;
  if message.status not in ('sending', 'queued') then
    return message.status;  -- already settled (sent, delivered, canceled, failed): nothing to undo
  end if;
  attempt_limit := case
    when p_error_code = '30008' then least(message.max_attempts, 2)   -- unknown: retry once
    when p_error_code = '30003' then least(message.max_attempts, 3)   -- unreachable: retry sparingly
    else message.max_attempts end;
  permanent := not coalesce(p_retryable, false)
    or p_error_code in ('21211', '21408', '21610', '21612', '21614', '21635', '30005', '30006', '30007', '30032', '30034')
    or message.attempts >= attempt_limit;

  update public.messages m
     set status = case when permanent then 'failed' else 'queued' end,
         lease_until = null,
         error_code = left(p_error_code, 16),
         error_message = left(p_error_message, 1000),
         status_reason = case when permanent and message.attempts >= attempt_limit and coalesce(p_retryable, false)
                              then 'dead_letter: gave up after ' || message.attempts || ' attempts' else m.status_reason end,
         -- 30 s, 60 s, 120 s, ... capped at one hour
         next_attempt_at = case when permanent then m.next_attempt_at
                                else now() + least(interval '1 hour', interval '30 seconds' * power(2, greatest(message.attempts - 1, 0))) end
   where m.id = message.id
  returning * into message;

  perform private.apply_error_side_effects(message, p_error_code);
  if permanent then
    if message.kind = 'owner_alert' then
      update public.leads set owner_alert_status = 'failed' where id = message.lead_id;
    elsif message.kind in ('text_back', 'question', 'nudge') and message.conversation_id is not null then
      update public.conversations
         set status = 'failed', completion_reason = 'send_failed', next_action_at = null, completed_at = now(),
             version = version + 1
       where id = message.conversation_id and status in ('pending', 'awaiting_reply', 'active');
    end if;
  end if;
  return message.status;
end
$$;
comment on function public.mark_message_failed(uuid, text, text, boolean) is 'sms-dispatch: a send failed. Returns queued (retry with exponential backoff) or failed (permanent or dead letter), applying the Twilio error side effects.';

create or replace function private.close_conversations_for_opt_out(p_business_id uuid, p_phone text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.messages
     set status = 'canceled', status_reason = 'opted_out'
   where business_id = p_business_id and to_phone = p_phone and status in ('queued', 'deferred')
     and kind <> 'opt_out_ack';
  update public.conversations
     set status = 'opted_out', completion_reason = 'opted_out', next_action_at = null, completed_at = now(),
         version = version + 1
   where business_id = p_business_id and lead_phone = p_phone and status in ('pending', 'awaiting_reply', 'active');
end
$$;

-- Whatever adds a number to a business's suppression list (STOP, a carrier error, the owner in the
-- dashboard) ends that number's open conversations and cancels texts still waiting for it, so no
-- conversation is left pending behind a text that will never be sent.
create or replace function private.opt_outs_close_conversations()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.close_conversations_for_opt_out(new.business_id, new.phone);
  return null;
end
$$;
comment on function private.opt_outs_close_conversations() is 'AFTER INSERT on opt_outs: close open conversations with the number and cancel its queued texts (except the opt-out confirmation).';

create trigger opt_outs_close_conversations after insert on public.opt_outs
  for each row execute function private.opt_outs_close_conversations();

create or replace function private.twilio_status_rank(p_status text)
returns integer
language sql
immutable
set search_path = ''
as $$
  select case p_status
    when 'queued' then 1 when 'deferred' then 1 when 'sending' then 2 when 'sent' then 3
    when 'undelivered' then 4 when 'failed' then 4 when 'delivered' then 5 when 'canceled' then 6
    else 0 end
$$;

create or replace function public.record_message_status(p_twilio_sid text, p_status text, p_error_code text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  message public.messages;
  new_status text := case lower(p_status)
    when 'accepted' then 'queued' when 'scheduled' then 'queued' when 'queued' then 'queued'
    when 'sending' then 'sending' when 'sent' then 'sent' when 'delivered' then 'delivered' when 'read' then 'delivered'
    when 'undelivered' then 'undelivered' when 'failed' then 'failed' when 'canceled' then 'canceled' end;
begin
  if new_status is null then
    raise exception 'unknown Twilio message status "%"', p_status using errcode = '22023';
  end if;
  select * into message from public.messages m where m.twilio_sid = p_twilio_sid for update;
  if message.id is null then
    return jsonb_build_object('found', false, 'status', null);
  end if;
  -- Only forward moves of a message that has left our hands; a late "sent" never replaces "delivered".
  if message.status in ('sent', 'sending', 'undelivered', 'failed')
     and private.twilio_status_rank(new_status) > private.twilio_status_rank(message.status)
     and new_status in ('sent', 'delivered', 'undelivered', 'failed') then
    update public.messages m
       set status = new_status,
           delivered_at = case when new_status = 'delivered' then now() else m.delivered_at end,
           error_code = coalesce(left(p_error_code, 16), m.error_code),
           lease_until = null
     where m.id = message.id
    returning * into message;
    if message.kind = 'owner_alert' and new_status = 'delivered' then
      update public.leads set owner_alert_status = 'delivered' where id = message.lead_id;
    elsif message.kind = 'owner_alert' and new_status in ('undelivered', 'failed') then
      update public.leads set owner_alert_status = 'failed' where id = message.lead_id;
    end if;
  end if;
  if p_error_code is not null then
    perform private.apply_error_side_effects(message, p_error_code);
  end if;
  return jsonb_build_object('found', true, 'status', message.status);
end
$$;
comment on function public.record_message_status(text, text, text) is 'twilio-status: apply a delivery callback; never moves backwards; 21610/30005/30006 suppress the number.';
