-- The conversation engine's RPCs (service_role only). twilio-inbound runs the engine in TypeScript:
-- it reads the context, decides the slots and WHAT to ask next (or that the conversation is done), and
-- applies the turn here; the wording is rendered from private.sms_copy in the conversation's locale
-- and the text records what it asks (messages.asks).

-- The transcript the engine and the summarizer read: the lead's thread, oldest first, without the
-- owner's texts and without texts that never went out.
create or replace function private.transcript(p_conversation_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('direction', m.direction, 'kind', m.kind, 'body', m.body, 'asks', to_jsonb(m.asks),
                                               'created_at', m.created_at)
                            order by m.created_at, m.id), '[]'::jsonb)
    from public.messages m
   where m.conversation_id = p_conversation_id and not private.is_owner_text(m.kind)
     and m.status not in ('canceled', 'failed')
$$;
comment on function private.transcript(uuid) is 'The lead''s thread of a conversation as JSON, oldest first: direction, kind, body, asks, created_at (owner texts and canceled or failed texts left out).';
revoke execute on function private.transcript(uuid) from public;

create or replace function private.lead_json(p_lead public.leads)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select jsonb_build_object('name', p_lead.name, 'phone', p_lead.phone, 'email', p_lead.email, 'message', p_lead.message,
                            'source_url', p_lead.source_url, 'created_at', p_lead.created_at)
$$;
comment on function private.lead_json(public.leads) is 'What the engine and the summarizer know of a lead: the form fields and when it arrived.';
revoke execute on function private.lead_json(public.leads) from public;

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
    'lead', private.lead_json(l),
    'business', jsonb_build_object('name', b.name, 'timezone', b.timezone, 'default_locale', b.default_locale),
    'transcript', private.transcript(c.id))
  from public.conversations c
  join public.leads l on l.id = c.lead_id
  join public.businesses b on b.id = c.business_id
  where c.id = p_conversation_id
$$;
comment on function public.get_conversation_context(uuid) is 'Everything the conversation engine needs for the next turn (null when the conversation does not exist); locale is the language of the lead''s latest text.';
revoke execute on function public.get_conversation_context(uuid) from public, anon, authenticated;
grant execute on function public.get_conversation_context(uuid) to service_role;

-- One version-guarded turn: the slots the engine found, then either the next question (p_asks names
-- the one slot it asks for; p_acknowledge thanks the lead for what the last message filled) or, with
-- p_complete, the end of the conversation and its closing text. A turn applied twice, or decided on a
-- stale context, changes nothing (applied=false).
create or replace function public.apply_conversation_turn(
  p_conversation_id uuid, p_expected_version int, p_slots jsonb, p_asks text[], p_acknowledge boolean,
  p_complete boolean, p_completion_reason text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  asks text[] := coalesce(p_asks, '{}');
  conversation public.conversations;
  business public.businesses;
  vars jsonb;
  message_id uuid;
begin
  if p_slots is null or jsonb_typeof(p_slots) <> 'object' then
    raise exception 'p_slots must be a JSON object {need, timing, location, constraints}' using errcode = '22023';
  end if;
  if cardinality(asks) > 1 or not asks <@ array['need', 'timing', 'location'] then
    raise exception 'p_asks must name at most one slot: need, timing or location' using errcode = '22023';
  end if;
  if coalesce(p_complete, false) and (p_completion_reason is null or p_completion_reason not in
      ('slots_filled', 'max_questions', 'call_requested', 'not_interested', 'wrong_number')) then
    raise exception 'p_completion_reason must be slots_filled, max_questions, call_requested, not_interested or wrong_number' using errcode = '22023';
  end if;
  if coalesce(p_complete, false) and cardinality(asks) > 0 then
    raise exception 'a completing turn cannot ask a question' using errcode = '22023';
  end if;

  -- A conversation a member took over (takeover migration) keeps the slots the lead's replies fill,
  -- but the bot neither asks nor closes.
  if exists (select 1 from public.conversations c where c.id = p_conversation_id and c.bot_paused_at is not null) then
    asks := '{}';
    p_complete := false;
  end if;

  update public.conversations c
     set slots = jsonb_build_object('need', p_slots -> 'need', 'timing', p_slots -> 'timing', 'location', p_slots -> 'location',
                                    'constraints', case when jsonb_typeof(p_slots -> 'constraints') = 'array' then p_slots -> 'constraints' else '[]'::jsonb end),
         question_count = c.question_count + cardinality(asks),
         version = c.version + 1,
         status = 'active',
         next_action_at = now() + make_interval(mins => b.idle_timeout_minutes)
    from public.businesses b
   where c.id = p_conversation_id and b.id = c.business_id
     and c.version = p_expected_version and c.is_open
     and (cardinality(asks) = 0 or c.question_count < b.max_questions)
  returning c.* into conversation;
  if conversation.id is null then
    return jsonb_build_object('applied', false,
      'version', (select c.version from public.conversations c where c.id = p_conversation_id));
  end if;

  select * into business from public.businesses b where b.id = conversation.business_id;
  vars := jsonb_build_object('business', business.name,
    'first_name', (select private.first_name(l.name) from public.leads l where l.id = conversation.lead_id));
  if cardinality(asks) > 0 then
    message_id := private.enqueue_outbound(business, 'question', conversation.lead_phone,
      private.render_sms(case when p_acknowledge then 'question.acknowledged' else 'question' end,
                         conversation.current_locale, vars, asks, business.id),
      p_lead_id => conversation.lead_id, p_conversation_id => conversation.id, p_asks => asks,
      p_dedupe_key => 'turn:' || conversation.id || ':' || conversation.version);
  elsif p_complete then
    perform private.close_conversation(conversation.id, 'completed', p_completion_reason);
    message_id := private.enqueue_outbound(business, 'closing', conversation.lead_phone,
      private.render_sms('closing.' || p_completion_reason, conversation.current_locale, vars, '{}', business.id),
      p_lead_id => conversation.lead_id, p_conversation_id => conversation.id,
      p_dedupe_key => 'turn:' || conversation.id || ':' || conversation.version);
  end if;
  return jsonb_build_object('applied', true,
    'version', (select c.version from public.conversations c where c.id = conversation.id), 'message_id', message_id);
end
$$;
comment on function public.apply_conversation_turn(uuid, int, jsonb, text[], boolean, boolean, text) is 'Conversation engine: one version-guarded turn (slots, then the question for p_asks or the completion and its closing text, rendered in the conversation''s locale); applied=false changes nothing.';
revoke execute on function public.apply_conversation_turn(uuid, int, jsonb, text[], boolean, boolean, text) from public, anon, authenticated;
grant execute on function public.apply_conversation_turn(uuid, int, jsonb, text[], boolean, boolean, text) to service_role;
