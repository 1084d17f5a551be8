-- Inbound SMS (twilio-inbound, service_role only), raw first: receive_inbound_sms stores the webhook's
-- message once per MessageSid and nothing else, so a STOP that reached us is never lost; then
-- process_inbound_sms applies it (opt-out, opt-in, HELP, wrong number, not interested, the ambiguous
-- question, or the reply to the lead's open conversation, handed to the engine). A message whose
-- processing failed stays unprocessed and the minute sweep processes it (private.process_pending_inbound).
-- What a text means is private.classify_inbound (the inbound_keywords migration).

create table private.inbound_sms (
  message_sid text primary key check (length(message_sid) between 10 and 64),
  from_phone text not null check (length(from_phone) between 1 and 32),
  to_phone text not null check (length(to_phone) between 1 and 32),
  body text not null check (length(body) <= 1600),
  opt_out_type text check (opt_out_type is null or length(opt_out_type) <= 16),
  received_at timestamptz not null default now(),
  attempts integer not null default 0 check (attempts >= 0),
  last_error text check (last_error is null or length(last_error) <= 1000),
  processed_at timestamptz,
  outcome text check (outcome is null or length(outcome) <= 40),
  matched_rule text check (matched_rule is null or length(matched_rule) <= 120),
  business_id uuid references public.businesses (id) on delete cascade,
  message_id uuid references public.messages (id) on delete set null
);
comment on table private.inbound_sms is 'Every inbound SMS webhook, stored raw and first (one row per MessageSid), then processed: outcome, the keyword rule that matched, and the transcript row (message_id). Unprocessed rows are retried by the lifecycle sweep.';
create index inbound_sms_unprocessed_idx on private.inbound_sms (received_at) where processed_at is null;
create index inbound_sms_business_id_idx on private.inbound_sms (business_id) where business_id is not null;
create index inbound_sms_message_id_idx on private.inbound_sms (message_id) where message_id is not null;
alter table private.inbound_sms enable row level security;
revoke all on private.inbound_sms from public, anon, authenticated;

-- Step one: keep the message. One INSERT decides whether the webhook was seen before. A lock it cannot
-- get within 2 s fails it quickly, so Twilio retries (the webhook URL's overrides) within its 15 s budget
-- instead of timing out once.
create or replace function public.receive_inbound_sms(p_message_sid text, p_from text, p_to text, p_body text, p_opt_out_type text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
set lock_timeout = '2s'
as $$
declare
  stored boolean;
begin
  if p_message_sid is null or length(p_message_sid) not between 10 and 64 then
    raise exception 'p_message_sid must be a Twilio MessageSid' using errcode = '22023';
  end if;
  if p_from is null or p_to is null or length(p_from) not between 1 and 32 or length(p_to) not between 1 and 32 then
    raise exception 'p_from and p_to are required phone numbers' using errcode = '22023';
  end if;
  insert into private.inbound_sms (message_sid, from_phone, to_phone, body, opt_out_type)
  values (p_message_sid, p_from, p_to, left(coalesce(p_body, ''), 1600), left(nullif(btrim(p_opt_out_type), ''), 16))
  on conflict (message_sid) do nothing;
  stored := found;
  return jsonb_build_object('stored', stored,
    'processed', (select r.processed_at is not null from private.inbound_sms r where r.message_sid = p_message_sid));
end
$$;
comment on function public.receive_inbound_sms(text, text, text, text, text) is 'twilio-inbound, step one: store the webhook''s message raw, once per MessageSid ({stored: false} for a repeat; processed tells whether it was already applied).';
revoke execute on function public.receive_inbound_sms(text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.receive_inbound_sms(text, text, text, text, text) to service_role;


-- A do-not-text request from the lead (opt-out wording, "wrong number", "not interested"): the
-- conversation ends with that reason (a wrong number or a lost lead still gets the owner its summary;
-- an opt-out ends it as opted_out through the opt_outs trigger), the number goes on the business's
-- list with the rule that matched, and one confirmation follows unless Twilio's Advanced Opt-Out
-- already sends it (only for the carrier keywords, which it understands: phrases are ours to confirm).
create or replace function private.inbound_do_not_text(
  p_business public.businesses, p_raw private.inbound_sms, p_intent text, p_rule text, p_carrier_keyword boolean,
  p_message_id uuid, p_lead_id uuid, p_conversation_id uuid, p_locale text)
returns void
language plpgsql
set search_path = ''
as $$
declare
  confirmation_id uuid;
  added integer;
begin
  if p_intent in ('wrong_number', 'not_interested') and p_conversation_id is not null then
    perform private.close_conversation(p_conversation_id, 'completed', p_intent);
  end if;
  if not private.is_e164(p_raw.from_phone) then
    return;
  end if;
  insert into public.opt_outs (business_id, phone, source, matched_rule, inbound_message_id)
  values (p_business.id, p_raw.from_phone, case when p_intent = 'opt_out' then 'keyword' else 'reply' end, p_rule, p_message_id)
  on conflict (business_id, phone) do nothing;
  get diagnostics added = row_count;
  if added = 0 or (p_business.opt_out_confirmation_by = 'twilio' and p_carrier_keyword) then
    return;
  end if;
  confirmation_id := private.enqueue_outbound(p_business, 'opt_out_ack', p_raw.from_phone,
    private.render_sms(case p_intent when 'opt_out' then 'opt_out_ack' else 'closing.' || p_intent end, p_locale,
                       jsonb_build_object('business', p_business.name), '{}', p_business.id),
    p_lead_id => p_lead_id, p_conversation_id => p_conversation_id, p_dedupe_key => 'opt_out_ack:' || p_message_id);
  -- The one text that may still reach the number (private.suppression_reason).
  update public.opt_outs o set confirmation_message_id = confirmation_id
   where o.business_id = p_business.id and o.phone = p_raw.from_phone;
end
$$;
comment on function private.inbound_do_not_text(public.businesses, private.inbound_sms, text, text, boolean, uuid, uuid, uuid, text) is 'Applies an opt-out, "wrong number" or "not interested" text: ends the conversation, adds the number to the business''s do-not-text list with the matched rule, queues the one confirmation (unless Twilio confirms the carrier keyword itself).';
revoke execute on function private.inbound_do_not_text(public.businesses, private.inbound_sms, text, text, boolean, uuid, uuid, uuid, text) from public;

-- Step two: apply it. Idempotent (a processed message answers duplicate) and holds the raw row, so the
-- handler and the sweep never apply one message twice. A lock the conversation step cannot get within
-- a few seconds fails the call: the raw row stays unprocessed and the sweep tries again.
-- A lead can text the business number before their deferred text-back goes out (they saw the form's
-- confirmation and wrote first), so a reply cancels that waiting text-back as well as any nudge.
create or replace function public.process_inbound_sms(p_message_sid text)
returns jsonb
language plpgsql
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  raw private.inbound_sms;
  business public.businesses;
  conversation public.conversations;
  lead_id uuid;
  stored_id uuid;
  classified record;
  intent text;
  rule text;
  locale text;
  changed integer;
  result text;
begin
  select * into raw from private.inbound_sms r where r.message_sid = p_message_sid for update;
  if raw.message_sid is null then
    raise exception 'no inbound SMS % was received', p_message_sid using errcode = 'P0002';
  end if;
  if raw.processed_at is not null then
    return jsonb_build_object('outcome', 'duplicate', 'message_id', raw.message_id, 'business_id', raw.business_id,
      'conversation_id', (select m.conversation_id from public.messages m where m.id = raw.message_id), 'matched_rule', raw.matched_rule);
  end if;

  select * into business from public.businesses b where b.twilio_number = raw.to_phone;
  if business.id is not null then
    select * into conversation from public.conversations c
     where c.business_id = business.id and c.lead_phone = raw.from_phone and c.is_open
     order by c.created_at desc limit 1;
    lead_id := coalesce(conversation.lead_id, (
      select l.id from public.leads l where l.business_id = business.id and l.phone = raw.from_phone order by l.created_at desc limit 1));
    insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status, twilio_sid)
    values (business.id, lead_id, conversation.id, 'inbound', 'inbound', raw.to_phone, raw.from_phone,
            coalesce(nullif(raw.body, ''), '(no text)'), 'received', raw.message_sid)
    on conflict (twilio_sid) do nothing
    returning id into stored_id;
    stored_id := coalesce(stored_id, (select m.id from public.messages m where m.twilio_sid = raw.message_sid));

    select * into classified from private.classify_inbound(raw.body, raw.opt_out_type);
    intent := classified.intent;
    rule := classified.matched_rule;
    -- Answers go in the language of the text they answer (the conversation's when it says nothing).
    locale := private.detect_locale(raw.body,
      coalesce(conversation.current_locale, (select l.locale from public.leads l where l.id = lead_id), business.default_locale));
    if intent = 'opt_in' and not private.is_opted_out(business.id, raw.from_phone) then
      -- START, YES and UNSTOP opt a number back in only when it is opted out: "Yes" answers a nudge.
      intent := 'message';
      rule := rule || ' (not opted out: a reply)';
    end if;
  end if;

  if business.id is null then
    result := 'unknown_number';
  elsif intent in ('opt_out', 'wrong_number', 'not_interested') then
    perform private.inbound_do_not_text(business, raw, intent, rule, classified.carrier_keyword, stored_id, lead_id, conversation.id, locale);
    result := case intent when 'opt_out' then 'opted_out' else intent end;
  elsif intent = 'opt_in' then
    delete from public.opt_outs o where o.business_id = business.id and o.phone = raw.from_phone;
    get diagnostics changed = row_count;
    insert into private.opt_ins (business_id, phone, opted_in_at, inbound_message_id)
    values (business.id, raw.from_phone, now(), stored_id)
    on conflict (business_id, phone) do update set opted_in_at = excluded.opted_in_at, inbound_message_id = excluded.inbound_message_id;
    if changed > 0 and private.is_e164(raw.from_phone)
       and (business.opt_out_confirmation_by = 'leadloop' or not classified.carrier_keyword) then
      perform private.enqueue_outbound(business, 'opt_in_ack', raw.from_phone,
        private.render_sms('opt_in_ack', locale, jsonb_build_object('business', business.name), '{}', business.id),
        p_lead_id => lead_id, p_dedupe_key => 'opt_in_ack:' || stored_id);
    end if;
    result := 'opted_in';
  elsif intent = 'help' then
    if private.is_e164(raw.from_phone) and (business.opt_out_confirmation_by = 'leadloop' or not classified.carrier_keyword) then
      perform private.enqueue_outbound(business, 'help', raw.from_phone,
        private.render_sms('help', locale, jsonb_build_object('business', business.name), '{}', business.id),
        p_lead_id => lead_id, p_dedupe_key => 'help:' || stored_id);
    end if;
    result := 'help';
  elsif private.is_opted_out(business.id, raw.from_phone) then
    result := 'no_conversation';  -- kept in the transcript; nothing goes back to an opted-out number
  else
    if conversation.id is not null then
      -- The next text answers in the language of this reply (one detector: private.detect_locale).
      update public.conversations c
         set status = 'active', turn_count = c.turn_count + 1, last_inbound_at = now(),
             current_locale = private.detect_locale(raw.body, c.current_locale),
             next_action_at = now() + make_interval(mins => business.idle_timeout_minutes), version = c.version + 1
       where c.id = conversation.id and c.is_open;
      -- A lead who answered needs no reminder, nor a first text (still waiting for quiet hours to end)
      -- that asks what they may just have told us; the engine's next question replaces it.
      update public.messages m set status = 'canceled', status_reason = 'lead_replied'
       where m.conversation_id = conversation.id and m.kind in ('nudge', 'text_back') and m.status in ('queued', 'deferred');
    end if;
    if intent = 'ambiguous' and private.is_e164(raw.from_phone) then
      -- Asked once per conversation (or once for a number without one), never answered by the engine.
      perform private.enqueue_outbound(business, 'clarify', raw.from_phone,
        private.render_sms('clarify_opt_out', locale, jsonb_build_object('business', business.name), '{}', business.id),
        p_lead_id => lead_id, p_conversation_id => conversation.id,
        p_dedupe_key => 'clarify:' || coalesce(conversation.id::text, business.id || ':' || raw.from_phone));
      result := 'ambiguous';
    else
      result := case when conversation.id is not null then 'reply' else 'no_conversation' end;
    end if;
  end if;

  update private.inbound_sms r
     set processed_at = now(), attempts = r.attempts + 1, last_error = null, outcome = result,
         matched_rule = left(rule, 120), business_id = business.id, message_id = stored_id
   where r.message_sid = raw.message_sid;
  return jsonb_build_object('outcome', result, 'message_id', stored_id, 'business_id', business.id,
                            'conversation_id', conversation.id, 'matched_rule', rule)
      || case when result = 'reply' then jsonb_build_object('context', public.get_conversation_context(conversation.id)) else '{}'::jsonb end;
end
$$;
comment on function public.process_inbound_sms(text) is 'twilio-inbound, step two (and the sweep for what failed): apply a received SMS once: opt-out / wrong number / not interested (do-not-text list and one confirmation), opt-in (only for an opted-out number), HELP, the one question for an ambiguous text, or the reply to the open conversation (its context comes back for the engine). A repeat answers duplicate.';
revoke execute on function public.process_inbound_sms(text) from public, anon, authenticated;
grant execute on function public.process_inbound_sms(text) to service_role;

-- The sweep's part: messages received but not processed (their processing failed, or the function
-- stopped between the two steps), oldest first, each in its own subtransaction. A message that keeps
-- failing is reported to the owner once.
create or replace function private.process_pending_inbound(p_now timestamptz default now(), p_batch_size int default 200)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  pending private.inbound_sms;
  processed integer := 0;
  failure text;
  business_id uuid;
begin
  for pending in
    select * from private.inbound_sms r
     where r.processed_at is null and r.received_at < p_now - interval '10 seconds'
     order by r.received_at limit p_batch_size
  loop
    begin
      perform public.process_inbound_sms(pending.message_sid);
      processed := processed + 1;
    exception when others then
      failure := left(sqlerrm, 1000);
      update private.inbound_sms r set attempts = r.attempts + 1, last_error = failure where r.message_sid = pending.message_sid;
      if pending.attempts + 1 = 5 then
        select b.id into business_id from public.businesses b where b.twilio_number = pending.to_phone;
        if business_id is not null then
          perform private.notify_owner(business_id, 'inbound.processing_failed', 'inbound:' || pending.message_sid,
            'A text from a lead could not be processed',
            format('A text from %s could not be applied after 5 tries (%s). It is kept and tried again every minute.', pending.from_phone, failure),
            'critical', jsonb_build_object('message_sid', pending.message_sid));
        end if;
      end if;
    end;
  end loop;
  return processed;
end
$$;
comment on function private.process_pending_inbound(timestamptz, int) is 'Lifecycle sweep: processes inbound SMS received more than 10 s ago and still unprocessed (each in a subtransaction; failures counted, the owner told once at the fifth).';
revoke execute on function private.process_pending_inbound(timestamptz, int) from public;
