-- Inbound SMS (twilio-inbound, service_role only): stored once per MessageSid, then STOP/START/HELP
-- handled here, or the reply applied to the lead's open conversation and handed to the engine.

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
revoke execute on function private.classify_inbound(text, text) from public;

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
  changed integer;
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
   where c.business_id = business.id and c.lead_phone = p_from and c.is_open
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
    if private.is_e164(p_from) then
      -- The insert's trigger ends the open conversation and cancels what waits for the number.
      insert into public.opt_outs (business_id, phone, source, matched_rule, inbound_message_id)
      values (business.id, p_from, 'keyword', classified.matched_rule, message_id)
      on conflict (business_id, phone) do nothing;
      get diagnostics changed = row_count;
      if business.opt_out_confirmation_by = 'leadloop' and changed > 0 then
        perform private.enqueue_outbound(business, 'opt_out_ack', p_from,
          private.render_sms('opt_out_ack', locale, jsonb_build_object('business', business.name), '{}', business.id),
          p_lead_id => lead_id, p_dedupe_key => 'opt_out_ack:' || message_id);
      end if;
    end if;
    outcome := 'opted_out';
  elsif classified.intent = 'opt_in' then
    delete from public.opt_outs o where o.business_id = business.id and o.phone = p_from;
    get diagnostics changed = row_count;
    if changed > 0 and business.opt_out_confirmation_by = 'leadloop' and private.is_e164(p_from) then
      -- The START confirmation travels as kind opt_out_ack (the opt-out system's own acknowledgements).
      perform private.enqueue_outbound(business, 'opt_out_ack', p_from,
        private.render_sms('opt_in_ack', locale, jsonb_build_object('business', business.name), '{}', business.id),
        p_lead_id => lead_id, p_dedupe_key => 'opt_in_ack:' || message_id);
    end if;
    outcome := 'opted_in';
  elsif classified.intent = 'help' then
    if business.opt_out_confirmation_by = 'leadloop' and private.is_e164(p_from) then
      perform private.enqueue_outbound(business, 'help', p_from,
        private.render_sms('help', locale, jsonb_build_object('business', business.name), '{}', business.id),
        p_lead_id => lead_id, p_dedupe_key => 'help:' || message_id);
    end if;
    outcome := 'help';
  elsif conversation.id is not null then
    -- The next text answers in the language of this reply (one detector: private.detect_locale).
    update public.conversations c
       set status = 'active', turn_count = c.turn_count + 1, last_inbound_at = now(),
           current_locale = private.detect_locale(p_body, c.current_locale),
           next_action_at = now() + make_interval(mins => business.idle_timeout_minutes), version = c.version + 1
     where c.id = conversation.id and c.is_open;
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
comment on function public.record_inbound_sms(text, text, text, text, text) is 'twilio-inbound: store an inbound SMS once per MessageSid and apply STOP/START/HELP or the reply to the open conversation (its context, with the reply''s locale, comes back for the engine).';
revoke execute on function public.record_inbound_sms(text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.record_inbound_sms(text, text, text, text, text) to service_role;

