-- Inbound SMS, the conversation engine's turns and the owner summary (service_role only).

-- What an inbound text means. Keywords are exact whole-message matches (case-insensitive, trimmed,
-- trailing punctuation ignored); the FCC's "reasonable means" wordings are matched as phrases.
create or replace function private.classify_inbound(p_body text, p_opt_out_type text default null)
returns table (intent text, matched_rule text)
language plpgsql
immutable
set search_path = ''
as $$
declare
  normalized text := lower(btrim(regexp_replace(regexp_replace(coalesce(p_body, ''), '[[:space:]]+', ' ', 'g'),
                                               '[[:punct:][:space:]]+$', '')));
begin
  normalized := btrim(regexp_replace(normalized, '^[[:punct:][:space:]]+', ''));
  case upper(coalesce(p_opt_out_type, ''))
    when 'STOP' then intent := 'opt_out'; matched_rule := 'twilio:OptOutType=STOP'; return next; return;
    when 'START' then intent := 'opt_in'; matched_rule := 'twilio:OptOutType=START'; return next; return;
    when 'HELP' then intent := 'help'; matched_rule := 'twilio:OptOutType=HELP'; return next; return;
    else null;
  end case;

  if normalized in ('stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit', 'revoke', 'optout') then
    intent := 'opt_out'; matched_rule := 'keyword:' || upper(normalized);
  elsif normalized in ('start', 'yes', 'unstop') then
    intent := 'opt_in'; matched_rule := 'keyword:' || upper(normalized);
  elsif normalized in ('help', 'info') then
    intent := 'help'; matched_rule := 'keyword:' || upper(normalized);
  elsif normalized ~ '^(please )?(stop|quit|end|cancel|unsubscribe)[[:punct:] ]*(now|please|pls|thanks|thank you|thx|ty|thank u)?( please| now)?$' then
    intent := 'opt_out'; matched_rule := 'phrase:stop + courtesy';
  elsif normalized ~ '\mopt[- ]?out\M' then
    intent := 'opt_out'; matched_rule := 'phrase:opt out';
  elsif normalized ~ '\mstop (texting|txting|messaging|contacting|sending|calling|text|message|sms)' then
    intent := 'opt_out'; matched_rule := 'phrase:stop texting me';
  elsif normalized ~ '\m(do not|don''t|dont|never) (text|txt|message|contact|sms)' then
    intent := 'opt_out'; matched_rule := 'phrase:do not text me';
  elsif normalized ~ '\m(remove me|take me off|unsubscribe me|leave me alone|no more (texts|messages))' then
    intent := 'opt_out'; matched_rule := 'phrase:remove me';
  elsif normalized in ('alto', 'parar', 'para', 'basta', 'cancelar', 'baja', 'darme de baja')
     or normalized ~ '\mno me (escriba|escriban|envíe|envien|envíen|manden|mande)' then
    intent := 'opt_out'; matched_rule := 'phrase:es stop';
  else
    intent := 'message'; matched_rule := null;
  end if;
  return next;
end
$$;
comment on function private.classify_inbound(text, text) is 'opt_out | opt_in | help | message, and which rule matched (keyword:STOP, phrase:stop texting me, twilio:OptOutType=STOP, ...).';

create or replace function private.queue_reply_to_lead(
  p_business public.businesses, p_lead_id uuid, p_conversation_id uuid, p_to text, p_kind text, p_body text, p_dedupe_key text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  message_id uuid;
begin
  insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status, dedupe_key)
  values (p_business.id, p_lead_id, p_conversation_id, 'outbound', p_kind, p_to, p_business.twilio_number, p_body, 'queued', p_dedupe_key)
  on conflict (dedupe_key) do nothing
  returning id into message_id;
  return message_id;
end
$$;

create or replace function public.get_conversation_context(p_conversation_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'conversation_id', c.id,
    'version', c.version,
    'status', c.status,
    'turn_count', c.turn_count,
    'question_count', c.question_count,
    'max_questions', b.max_questions,
    'locale', c.current_locale,
    'slots', jsonb_build_object(
      'need', c.slots -> 'need', 'timing', c.slots -> 'timing', 'location', c.slots -> 'location',
      'constraints', coalesce(c.slots -> 'constraints', '[]'::jsonb)),
    'lead', jsonb_build_object('name', l.name, 'phone', l.phone, 'email', l.email, 'message', l.message, 'source_url', l.source_url),
    'business', jsonb_build_object('name', b.name, 'timezone', b.timezone, 'default_locale', b.default_locale),
    'transcript', coalesce((
      select jsonb_agg(jsonb_build_object('direction', m.direction, 'kind', m.kind, 'body', m.body, 'created_at', m.created_at)
                       order by m.created_at, m.id)
        from public.messages m
       where m.conversation_id = c.id and m.kind not in ('owner_alert', 'owner_summary')
         and m.status not in ('canceled', 'failed')), '[]'::jsonb))
  from public.conversations c
  join public.leads l on l.id = c.lead_id
  join public.businesses b on b.id = c.business_id
  where c.id = p_conversation_id
$$;
comment on function public.get_conversation_context(uuid) is 'Everything the conversation engine needs for the next turn (null when the conversation does not exist).';

-- A lead can text the business number before their deferred text-back goes out (they saw the form's
-- confirmation and wrote first), so a reply cancels that waiting text-back as well as any nudge.
create or replace function public.record_inbound_sms(p_message_sid text, p_from text, p_to text, p_body text, p_opt_out_type text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  business public.businesses;
  conversation public.conversations;
  lead_id uuid;
  message_id uuid;
  existing public.messages;
  classified record;
  locale text;
  was_opted_out boolean;
  removed integer;
  outcome text;
begin
  if p_message_sid is null or length(p_message_sid) not between 10 and 64 then
    raise exception 'p_message_sid must be a Twilio MessageSid' using errcode = '22023';
  end if;
  if p_from is null or p_to is null or length(p_from) > 32 or length(p_to) > 32 then
    raise exception 'p_from and p_to are required phone numbers' using errcode = '22023';
  end if;
  select * into business from public.businesses b where b.twilio_number = p_to;
  if business.id is null then
    return jsonb_build_object('outcome', 'unknown_number', 'message_id', null, 'business_id', null, 'conversation_id', null);
  end if;

  select * into conversation from public.conversations c
   where c.business_id = business.id and c.lead_phone = p_from and c.status in ('pending', 'awaiting_reply', 'active')
   order by c.created_at desc limit 1;
  lead_id := coalesce(conversation.lead_id, (
    select l.id from public.leads l where l.business_id = business.id and l.phone = p_from order by l.created_at desc limit 1));

  -- Idempotency: this INSERT alone decides whether the webhook was already seen.
  insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status, twilio_sid)
  values (business.id, lead_id, conversation.id, 'inbound', 'inbound', p_to, p_from,
          coalesce(nullif(left(p_body, 1600), ''), '(no text)'), 'received', p_message_sid)
  on conflict (twilio_sid) do nothing
  returning id into message_id;
  if message_id is null then
    select * into existing from public.messages m where m.twilio_sid = p_message_sid;
    return jsonb_build_object('outcome', 'duplicate', 'message_id', existing.id, 'business_id', existing.business_id,
                              'conversation_id', existing.conversation_id);
  end if;

  select * into classified from private.classify_inbound(p_body, p_opt_out_type);
  locale := coalesce(conversation.current_locale, (select l.locale from public.leads l where l.id = lead_id), business.default_locale);

  if classified.intent = 'opt_out' then
    was_opted_out := exists (select 1 from public.opt_outs o where o.business_id = business.id and o.phone = p_from);
    if private.is_e164(p_from) then
      insert into public.opt_outs (business_id, phone, source, matched_rule, inbound_message_id)
      values (business.id, p_from, 'keyword', classified.matched_rule, message_id)
      on conflict (business_id, phone) do nothing;
      perform private.close_conversations_for_opt_out(business.id, p_from);
      if business.opt_out_confirmation_by = 'leadloop' and not was_opted_out then
        perform private.queue_reply_to_lead(business, lead_id, null, p_from, 'opt_out_ack',
          private.opt_out_ack_body(locale, business.name), 'opt_out_ack:' || message_id);
      end if;
    end if;
    outcome := 'opted_out';
  elsif classified.intent = 'opt_in' then
    delete from public.opt_outs o where o.business_id = business.id and o.phone = p_from;
    get diagnostics removed = row_count;
    if removed > 0 and business.opt_out_confirmation_by = 'leadloop' and private.is_e164(p_from) then
      -- The START confirmation travels as kind opt_out_ack (the opt-out system's own acknowledgements).
      perform private.queue_reply_to_lead(business, lead_id, null, p_from, 'opt_out_ack',
        private.opt_in_ack_body(locale, business.name), 'opt_in_ack:' || message_id);
    end if;
    outcome := 'opted_in';
  elsif classified.intent = 'help' then
    if business.opt_out_confirmation_by = 'leadloop' and private.is_e164(p_from) then
      perform private.queue_reply_to_lead(business, lead_id, null, p_from, 'help',
        private.help_body(locale, business.name), 'help:' || message_id);
    end if;
    outcome := 'help';
  elsif conversation.id is not null then
    update public.conversations c
       set status = 'active', turn_count = c.turn_count + 1, last_inbound_at = now(),
           next_action_at = now() + make_interval(mins => business.idle_timeout_minutes), version = c.version + 1
     where c.id = conversation.id and c.status in ('pending', 'awaiting_reply', 'active');
    -- A lead who answered needs no reminder, nor a first text (still waiting for quiet hours to end)
    -- that asks what they may just have told us; the engine's next question replaces it.
    update public.messages m set status = 'canceled', status_reason = 'lead_replied'
     where m.conversation_id = conversation.id and m.kind in ('nudge', 'text_back') and m.status in ('queued', 'deferred');
    outcome := 'reply';
  else
    outcome := 'no_conversation';
  end if;

  return jsonb_build_object('outcome', outcome, 'message_id', message_id, 'business_id', business.id,
                            'conversation_id', conversation.id, 'matched_rule', classified.matched_rule)
      || case when outcome = 'reply' then jsonb_build_object('context', public.get_conversation_context(conversation.id)) else '{}'::jsonb end;
end
$$;
comment on function public.record_inbound_sms(text, text, text, text, text) is 'twilio-inbound: store an inbound SMS once per MessageSid and apply STOP/START/HELP or the reply to the open conversation.';

create or replace function public.apply_conversation_turn(
  p_conversation_id uuid, p_expected_version int, p_slots jsonb, p_locale text,
  p_outbound_body text, p_outbound_kind text, p_complete boolean, p_completion_reason text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  conversation public.conversations;
  business public.businesses;
  send_at timestamptz;
begin
  if p_slots is null or jsonb_typeof(p_slots) <> 'object' then
    raise exception 'p_slots must be a JSON object {need, timing, location, constraints}' using errcode = '22023';
  end if;
  if p_locale is null or p_locale not in ('en', 'es') then
    raise exception 'p_locale must be en or es' using errcode = '22023';
  end if;
  if (p_outbound_body is null) <> (p_outbound_kind is null) or (p_outbound_kind is not null and p_outbound_kind not in ('question', 'closing')) then
    raise exception 'p_outbound_kind must be question or closing with a body, or both null' using errcode = '22023';
  end if;
  if p_outbound_body is not null and length(p_outbound_body) not between 1 and 1600 then
    raise exception 'p_outbound_body must be 1 to 1600 characters' using errcode = '22023';
  end if;
  if coalesce(p_complete, false) and (p_completion_reason is null or p_completion_reason not in
      ('slots_filled', 'max_questions', 'call_requested', 'not_interested', 'wrong_number')) then
    raise exception 'p_completion_reason must be slots_filled, max_questions, call_requested, not_interested or wrong_number' using errcode = '22023';
  end if;
  if coalesce(p_complete, false) and p_outbound_kind = 'question' then
    raise exception 'a completing turn cannot ask a question' using errcode = '22023';
  end if;

  update public.conversations c
     set slots = jsonb_build_object('need', p_slots -> 'need', 'timing', p_slots -> 'timing', 'location', p_slots -> 'location',
                                    'constraints', case when jsonb_typeof(p_slots -> 'constraints') = 'array' then p_slots -> 'constraints' else '[]'::jsonb end),
         current_locale = p_locale,
         question_count = c.question_count + case when p_outbound_kind = 'question' then 1 else 0 end,
         version = c.version + 1,
         status = case when p_complete then 'completed' else 'active' end,
         completion_reason = case when p_complete then p_completion_reason end,
         completed_at = case when p_complete then now() end,
         summary_status = case when p_complete then 'due' else c.summary_status end,
         summary_due_at = case when p_complete then now() else c.summary_due_at end,
         next_action_at = case when p_complete then null else now() + make_interval(mins => b.idle_timeout_minutes) end
    from public.businesses b
   where c.id = p_conversation_id and b.id = c.business_id
     and c.version = p_expected_version
     and c.status in ('pending', 'awaiting_reply', 'active')
     and (p_outbound_kind is distinct from 'question' or c.question_count < b.max_questions)
  returning c.* into conversation;

  if conversation.id is null then
    return jsonb_build_object('applied', false,
      'version', (select c.version from public.conversations c where c.id = p_conversation_id));
  end if;

  if p_outbound_body is not null then
    select * into business from public.businesses b where b.id = conversation.business_id;
    -- A reply to the lead's own message is not unsolicited, but quiet hours still apply.
    send_at := private.next_allowed_send_time(now(), business.timezone, business.quiet_hours_start, business.quiet_hours_end);
    insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body,
                                 status, send_after, next_attempt_at, dedupe_key)
    values (business.id, conversation.lead_id, conversation.id, 'outbound', p_outbound_kind, conversation.lead_phone,
            business.twilio_number, p_outbound_body, case when send_at > now() then 'deferred' else 'queued' end,
            send_at, send_at, 'turn:' || conversation.id || ':' || conversation.version);
  end if;
  return jsonb_build_object('applied', true, 'version', conversation.version);
end
$$;
comment on function public.apply_conversation_turn(uuid, int, jsonb, text, text, text, boolean, text) is 'Conversation engine: one version-guarded UPDATE (slots, locale, next question or completion); applied=false changes nothing.';

create or replace function public.claim_due_summaries(p_batch_size int default 10, p_lease_seconds int default 120)
returns setof jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_batch_size is null or p_batch_size < 1 or p_batch_size > 100 then
    raise exception 'p_batch_size must be between 1 and 100' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds < 10 or p_lease_seconds > 3600 then
    raise exception 'p_lease_seconds must be between 10 and 3600' using errcode = '22023';
  end if;
  return query
  with due as (
    select c.id from public.conversations c
     where c.summary_status in ('due', 'claimed') and c.summary_due_at <= now()
       and (c.summary_status = 'due' or c.summary_lease_until < now())
     order by c.summary_due_at
     limit p_batch_size
     for update skip locked
  ), claimed as (
    update public.conversations c
       set summary_status = 'claimed', summary_lease_until = now() + make_interval(secs => p_lease_seconds)
      from due where c.id = due.id
    returning c.*
  )
  select jsonb_build_object(
    'conversation_id', c.id,
    'locale', c.current_locale,
    'now', now(),
    'slots', c.slots,
    'completion_reason', c.completion_reason,
    'business', jsonb_build_object('name', b.name, 'timezone', b.timezone, 'owner_phone', b.owner_phone, 'default_locale', b.default_locale),
    'lead', jsonb_build_object('name', l.name, 'phone', l.phone, 'email', l.email, 'message', l.message,
                               'source_url', l.source_url, 'created_at', l.created_at),
    'messages', coalesce((
      select jsonb_agg(jsonb_build_object('direction', m.direction, 'kind', m.kind, 'body', m.body, 'created_at', m.created_at)
                       order by m.created_at, m.id)
        from public.messages m
       where m.conversation_id = c.id and m.kind not in ('owner_alert', 'owner_summary')
         and m.status not in ('canceled', 'failed')), '[]'::jsonb))
  from claimed c
  join public.businesses b on b.id = c.business_id
  join public.leads l on l.id = c.lead_id;
end
$$;
comment on function public.claim_due_summaries(int, int) is 'summarize: lease due summaries (SKIP LOCKED) with everything the summarizer needs.';

create or replace function public.complete_conversation_summary(p_conversation_id uuid, p_summary jsonb, p_owner_text text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  conversation public.conversations;
  business public.businesses;
  message_id uuid;
begin
  if p_summary is null or jsonb_typeof(p_summary) <> 'object' then
    raise exception 'p_summary must be a JSON object' using errcode = '22023';
  end if;
  if p_owner_text is null or length(btrim(p_owner_text)) = 0 or length(p_owner_text) > 1600 then
    raise exception 'p_owner_text must be 1 to 1600 characters' using errcode = '22023';
  end if;
  select * into conversation from public.conversations c where c.id = p_conversation_id for update;
  if conversation.id is null then
    raise exception 'conversation % not found', p_conversation_id using errcode = 'P0002';
  end if;
  if conversation.summary_status = 'not_due' then
    raise exception 'conversation % has no summary due (status %)', p_conversation_id, conversation.status using errcode = 'P0001';
  end if;
  select * into business from public.businesses b where b.id = conversation.business_id;

  if conversation.summary_status <> 'done' then
    update public.conversations c
       set summary = p_summary, summary_status = 'done', summary_completed_at = now(), summary_lease_until = null
     where c.id = conversation.id;
  end if;
  insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status, dedupe_key)
  values (business.id, conversation.lead_id, conversation.id, 'outbound', 'owner_summary', business.owner_phone,
          business.twilio_number, p_owner_text, 'queued', 'owner_summary:' || conversation.id)
  on conflict (dedupe_key) do nothing
  returning id into message_id;
  return jsonb_build_object('queued', message_id is not null);
end
$$;
comment on function public.complete_conversation_summary(uuid, jsonb, text) is 'summarize: store the summary and queue the owner summary text exactly once per conversation.';
