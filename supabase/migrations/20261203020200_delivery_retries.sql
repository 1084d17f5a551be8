-- Retries fast, then patient. A failed send that may succeed later is retried after 1 s, 2 s, 4 s, ...
-- doubling to 4 hours (with jitter, so a recovered Twilio is not hit by every message at once),
-- until the kind's delivery deadline: 24 hours for what the owner and the lead are waiting for. Then, or
-- at once on a permanent error, the message is dead-lettered and the owner is told (notify_owner).
-- sms-dispatch wakes itself for each retry at its own time (next_outbox_due_at); a send whose outcome
-- is unknown (timed out after the request left, or its worker vanished) is looked up in Twilio's
-- message list before it is sent again (messages.unknown_attempt_at).

-- How long after it was written a text is still worth sending.
create or replace function private.delivery_deadline(p_kind text)
returns interval
language sql
immutable
set search_path = ''
as $$
  select case
    when p_kind = 'opt_out_ack' then interval '5 minutes'        -- the confirmation is allowed within 5 minutes only
    when p_kind in ('help', 'opt_in_ack', 'clarify') then interval '1 hour'
    else interval '24 hours' end
$$;
comment on function private.delivery_deadline(text) is 'How long after it was written a text of this kind is retried: 24 hours (owner alerts, text-backs, conversation texts, summaries), 1 hour (HELP, START and clarifying answers), 5 minutes (an opt-out confirmation).';
revoke execute on function private.delivery_deadline(text) from public;

-- The wait before attempt n+1 after n attempts: 1 s * 2^(n-1), at most 4 hours, +-20% jitter. Under 30%
-- failures three attempts in a row fail for 2.7% of texts, so 95% arrive within about 3 s; a six-hour
-- outage is crossed in about 14 attempts, the last ones 4 hours apart.
create or replace function private.retry_delay(p_attempts integer)
returns interval
language plpgsql
volatile
set search_path = ''
as $$
begin
  return (
    select least(interval '4 hours', interval '1 second' * power(2, least(greatest(p_attempts - 1, 0), 14)))
           * (0.8 + random() * 0.4));
end
$$;
comment on function private.retry_delay(integer) is 'Backoff after p_attempts failed attempts: 1 s, 2 s, 4 s, 8 s, ... up to 4 hours, with +-20% jitter.';
revoke execute on function private.retry_delay(integer) from public;

-- A message that will not be sent: failed with its reason, its lead and conversation told, and the owner
-- told once (the attention list; other channels fan out from it). Answers owed to the lead (HELP, the
-- confirmations, the clarifying question) die quietly: the owner can do nothing about them.
create or replace function private.dead_letter(p_message public.messages, p_why text)
returns public.messages
language plpgsql
security definer
set search_path = ''
as $$
declare
  message public.messages;
  lead_name text;
begin
  update public.messages m
     set status = 'failed', lease_until = null, status_reason = left('dead_letter: ' || p_why, 500)
   where m.id = p_message.id
  returning * into message;
  if message.kind = 'owner_alert' then
    update public.leads set owner_alert_status = 'failed' where id = message.lead_id;
  elsif message.kind in ('text_back', 'question', 'nudge') and message.conversation_id is not null then
    perform private.close_conversation(message.conversation_id, 'failed', 'send_failed');
  end if;
  if message.kind in ('owner_alert', 'owner_summary', 'text_back', 'question', 'nudge', 'closing') then
    select l.name into lead_name from public.leads l where l.id = message.lead_id;
    perform private.notify_owner(message.business_id, 'sms.dead_letter', 'dead_letter:' || message.id,
      case message.kind
        when 'owner_alert' then format('The alert about a new lead (%s) could not be texted to you', coalesce(lead_name, 'unknown'))
        when 'owner_summary' then format('The summary of %s''s conversation could not be texted to you', coalesce(lead_name, 'a lead'))
        else format('A text to %s could not be sent', coalesce(lead_name, message.to_phone)) end,
      format('Gave up: %s. Last error: %s.', p_why, coalesce(message.error_code || ' ' || message.error_message, 'none')),
      case when message.kind = 'owner_alert' then 'critical' else 'warning' end,
      jsonb_build_object('kind', message.kind, 'to', message.to_phone, 'error_code', message.error_code, 'attempts', message.attempts),
      message.lead_id, message.id);
  end if;
  return message;
end
$$;
comment on function private.dead_letter(public.messages, text) is 'Gives up on a message: failed with "dead_letter: <why>", the lead''s alert status or the conversation updated, and the owner told once (sms.dead_letter) unless it was an answer owed to the lead.';
revoke execute on function private.dead_letter(public.messages, text) from public;

-- Sends whose worker vanished (a crash, a restart) hold a lease nobody will finish. Whether Twilio got
-- them is unknown: back to the queue at once, to be looked up before they are sent again.
create or replace function private.release_expired_leases(p_now timestamptz default now(), p_batch_size int default 500)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  released integer;
begin
  with expired as (
    select m.id from public.messages m
     where m.status = 'sending' and m.lease_until < p_now
     order by m.lease_until limit p_batch_size
     for update skip locked
  )
  update public.messages m
     set status = 'queued', status_reason = 'lease_expired', lease_until = null, next_attempt_at = p_now,
         unknown_attempt_at = coalesce(m.unknown_attempt_at, m.last_attempt_at)
    from expired where m.id = expired.id;
  get diagnostics released = row_count;
  return released;
end
$$;
comment on function private.release_expired_leases(timestamptz, int) is 'Expired sending leases back to the queue (outcome unknown: reconciled with Twilio before the next send). Called by the claim and by the sweep.';
revoke execute on function private.release_expired_leases(timestamptz, int) from public;

-- When sms-dispatch has something to do next: the earliest retry or quiet-hours end of a queued text,
-- or lease expiry of a send in flight. Null when nothing waits.
create or replace function public.next_outbox_due_at()
returns timestamptz
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select least(
      (select min(greatest(m.next_attempt_at, m.send_after)) from public.messages m where m.status = 'queued'),
      (select min(m.lease_until) from public.messages m where m.status = 'sending')));
end
$$;
comment on function public.next_outbox_due_at() is 'sms-dispatch: the earliest moment a queued text becomes sendable or a lease in flight expires (null: nothing waits), so it can wake itself for a retry at its own time.';
revoke execute on function public.next_outbox_due_at() from public, anon, authenticated;
grant execute on function public.next_outbox_due_at() to service_role;
