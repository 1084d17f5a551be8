-- Outgoing webhooks, part 2: capturing events. Triggers of this migration on leads, conversations and
-- opt_outs write the event and one delivery per subscribed, enabled endpoint in the same transaction
-- as the change, so an event exists exactly when its change committed. Nothing else writes them.
--
-- Payloads are built here and nowhere else, from explicit column lists: no internal column (IP, user
-- agent, leases, versions, vault ids) ever leaves. Their shapes are documented in docs/webhooks.md;
-- a change that is not purely additive bumps webhook_event_types.payload_version.
--
-- A business without a subscribed endpoint pays one index probe per change. Capturing never costs
-- the change that caused it: a failure is logged as a warning and the event is lost, never the lead
-- (or the conversation turn, or the opt-out).

create or replace function private.webhook_time(p_at timestamptz)
returns text
language sql
stable
set search_path = ''
as $$
  select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
comment on function private.webhook_time(timestamptz) is 'A time as webhook payloads carry it: ISO 8601 in UTC with milliseconds (2026-12-03T14:05:09.120Z).';
revoke execute on function private.webhook_time(timestamptz) from public;

create or replace function private.has_webhook_subscribers(p_business_id uuid, p_type text)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select exists (select 1 from public.webhook_endpoints e
                    where e.business_id = p_business_id and e.enabled and p_type = any (e.events)));
end
$$;
comment on function private.has_webhook_subscribers(uuid, text) is 'True when an enabled endpoint of the business subscribes to the event type (the capture triggers'' cheap first test).';
revoke execute on function private.has_webhook_subscribers(uuid, text) from public;

-- What the conversation learned, as the payloads carry it whatever the slots hold.
create or replace function private.webhook_details(p_slots jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select jsonb_build_object(
    'need', p_slots ->> 'need',
    'timing', p_slots ->> 'timing',
    'location', p_slots ->> 'location',
    'constraints', case when jsonb_typeof(p_slots -> 'constraints') = 'array'
                        then (select coalesce(jsonb_agg(c), '[]'::jsonb) from jsonb_array_elements_text(p_slots -> 'constraints') c)
                        else '[]'::jsonb end)
$$;
comment on function private.webhook_details(jsonb) is 'need, timing, location (text or null) and constraints (array of text) from conversation slots, for payloads.';
revoke execute on function private.webhook_details(jsonb) from public;

create or replace function private.webhook_lead(p_lead public.leads, p_slots jsonb)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_lead.id,
    'widget_id', p_lead.widget_id,
    'created_at', private.webhook_time(p_lead.created_at),
    'name', p_lead.name,
    'phone', p_lead.phone,
    'email', p_lead.email,
    'message', p_lead.message,
    'source_url', p_lead.source_url,
    'locale', p_lead.locale,
    'sms_consent', p_lead.sms_consent,
    'consent_at', private.webhook_time(p_lead.consent_at),
    'is_duplicate', p_lead.is_duplicate,
    'duplicate_of', p_lead.duplicate_of,
    'phone_status', p_lead.phone_status,
    'follow_up', jsonb_build_object('status', p_lead.followup_status, 'not_texted_reason', p_lead.not_texted_reason),
    'details', private.webhook_details(p_slots))
$$;
comment on function private.webhook_lead(public.leads, jsonb) is 'The lead object of lead.* payloads (v1, docs/webhooks.md): form fields, consent, follow-up, phone status and the details its conversation collected.';
revoke execute on function private.webhook_lead(public.leads, jsonb) from public;

create or replace function private.webhook_conversation(p_conversation public.conversations)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_conversation.id,
    'lead_id', p_conversation.lead_id,
    'status', p_conversation.status,
    'completion_reason', p_conversation.completion_reason,
    'locale', p_conversation.current_locale,
    'turn_count', p_conversation.turn_count,
    'question_count', p_conversation.question_count,
    'started_at', private.webhook_time(p_conversation.created_at),
    'completed_at', private.webhook_time(p_conversation.completed_at),
    'details', private.webhook_details(p_conversation.slots))
$$;
comment on function private.webhook_conversation(public.conversations) is 'The conversation object of conversation.completed (v1, docs/webhooks.md).';
revoke execute on function private.webhook_conversation(public.conversations) from public;

-- The top-level keys whose values differ (the `changed` list of lead.updated).
create or replace function private.jsonb_changed_keys(p_before jsonb, p_after jsonb)
returns text[]
language sql
immutable
set search_path = ''
as $$
  select coalesce(array_agg(k.key order by k.key), '{}')
    from jsonb_each(p_after) k
   where p_before -> k.key is distinct from k.value
$$;
comment on function private.jsonb_changed_keys(jsonb, jsonb) is 'Keys of p_after whose value differs from p_before''s.';
revoke execute on function private.jsonb_changed_keys(jsonb, jsonb) from public;

-- Records one event and its deliveries. With p_dedupe_key, a second capture in the same transaction
-- updates the first instead (lead.updated: the latest lead, every changed key) and its deliveries stand.
create or replace function private.capture_webhook_event(p_business_id uuid, p_type text, p_data jsonb, p_dedupe_key text default null)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  captured_id uuid;
begin
  if not private.has_webhook_subscribers(p_business_id, p_type) then
    return null;
  end if;
  insert into public.webhook_events as w (business_id, type, payload, dedupe_key)
  values (p_business_id, p_type,
          jsonb_build_object('type', p_type, 'timestamp', private.webhook_time(now()),
                             'version', (select t.payload_version from public.webhook_event_types t where t.type = p_type),
                             'data', p_data),
          p_dedupe_key)
  on conflict (dedupe_key) do update
    set payload = jsonb_set(excluded.payload, '{data,changed}', to_jsonb(array(
          select distinct c from jsonb_array_elements_text(coalesce(w.payload #> '{data,changed}', '[]'::jsonb)
                                                           || coalesce(excluded.payload #> '{data,changed}', '[]'::jsonb)) c
           order by c)))
  returning w.id into captured_id;
  insert into public.webhook_deliveries (business_id, endpoint_id, event_id, event_type)
  select p_business_id, e.id, captured_id, p_type
    from public.webhook_endpoints e
   where e.business_id = p_business_id and e.enabled and p_type = any (e.events)
  on conflict (event_id, endpoint_id) do nothing;
  return captured_id;
end
$$;
comment on function private.capture_webhook_event(uuid, text, jsonb, text) is 'Writes a webhook event ({type, timestamp, version, data}) and a pending delivery per subscribed enabled endpoint; null when nobody subscribes. p_dedupe_key coalesces repeats within a transaction.';
revoke execute on function private.capture_webhook_event(uuid, text, jsonb, text) from public;

create or replace function private.capture_lead_updated(p_lead_before public.leads, p_lead_after public.leads,
                                                        p_slots_before jsonb, p_slots_after jsonb)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  before_json jsonb := private.webhook_lead(p_lead_before, p_slots_before);
  after_json jsonb := private.webhook_lead(p_lead_after, p_slots_after);
  changed text[] := private.jsonb_changed_keys(before_json, after_json);
begin
  if changed <> '{}' then
    perform private.capture_webhook_event(p_lead_after.business_id, 'lead.updated',
      jsonb_build_object('business_id', p_lead_after.business_id, 'lead', after_json, 'changed', to_jsonb(changed)),
      'lead.updated:' || p_lead_after.id || ':' || pg_catalog.pg_current_xact_id());
  end if;
end
$$;
comment on function private.capture_lead_updated(public.leads, public.leads, jsonb, jsonb) is 'lead.updated when the lead''s payload differs, with the changed keys; one event per lead per transaction.';
revoke execute on function private.capture_lead_updated(public.leads, public.leads, jsonb, jsonb) from public;

create or replace function private.leads_webhook_events()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  event_type text := case tg_op when 'INSERT' then 'lead.created' else 'lead.updated' end;
  slots jsonb;
begin
  if not private.has_webhook_subscribers(new.business_id, event_type) then
    return null;
  end if;
  begin
    select c.slots into slots from public.conversations c where c.lead_id = new.id;
    if tg_op = 'INSERT' then
      perform private.capture_webhook_event(new.business_id, 'lead.created',
        jsonb_build_object('business_id', new.business_id, 'lead', private.webhook_lead(new, slots)));
    else
      perform private.capture_lead_updated(old, new, slots, slots);
    end if;
  exception when others then
    raise warning 'leadloop: % webhook event for lead % not captured: % (%)', event_type, new.id, sqlerrm, sqlstate;
  end;
  return null;
end
$$;
comment on function private.leads_webhook_events() is 'AFTER INSERT/UPDATE on leads: lead.created, or lead.updated when the payload changed. Never fails the lead''s statement.';
revoke execute on function private.leads_webhook_events() from public;

create trigger leads_webhook_events after insert or update on public.leads
  for each row execute function private.leads_webhook_events();

create or replace function private.conversations_webhook_events()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  lead public.leads;
begin
  if not exists (select 1 from public.webhook_endpoints e where e.business_id = new.business_id and e.enabled) then
    return null;
  end if;
  begin
    if old.slots is distinct from new.slots and private.has_webhook_subscribers(new.business_id, 'lead.updated') then
      select * into lead from public.leads l where l.id = new.lead_id;
      perform private.capture_lead_updated(lead, lead, old.slots, new.slots);
    end if;
    if old.is_open and not new.is_open then
      perform private.capture_webhook_event(new.business_id, 'conversation.completed',
        jsonb_build_object('business_id', new.business_id, 'lead_id', new.lead_id, 'conversation', private.webhook_conversation(new)));
    end if;
    if new.summary_status = 'done' and old.summary_status <> 'done' then
      perform private.capture_webhook_event(new.business_id, 'summary.ready',
        jsonb_build_object('business_id', new.business_id, 'lead_id', new.lead_id, 'conversation_id', new.id,
                           'completed_at', private.webhook_time(new.summary_completed_at),
                           'summary', jsonb_build_object(
                             'need', new.summary ->> 'need',
                             'timing', new.summary ->> 'timing',
                             'timing_start', new.summary ->> 'timing_start',
                             'location', new.summary ->> 'location',
                             'constraints', coalesce(new.summary -> 'constraints', '[]'::jsonb),
                             'missing', coalesce(new.summary -> 'missing', '[]'::jsonb),
                             'text', new.summary ->> 'text')));
    end if;
  exception when others then
    raise warning 'leadloop: webhook event for conversation % not captured: % (%)', new.id, sqlerrm, sqlstate;
  end;
  return null;
end
$$;
comment on function private.conversations_webhook_events() is 'AFTER UPDATE on conversations: lead.updated (collected details changed), conversation.completed (it closed), summary.ready (summary done). Never fails the conversation''s statement.';
revoke execute on function private.conversations_webhook_events() from public;

create trigger conversations_webhook_events after update on public.conversations
  for each row
  when (old.slots is distinct from new.slots or old.is_open <> new.is_open or old.summary_status <> new.summary_status)
  execute function private.conversations_webhook_events();

create or replace function private.opt_outs_webhook_events()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not private.has_webhook_subscribers(new.business_id, 'lead.opted_out') then
    return null;
  end if;
  begin
    perform private.capture_webhook_event(new.business_id, 'lead.opted_out', jsonb_build_object(
      'business_id', new.business_id,
      'phone', new.phone,
      'source', new.source,
      'opted_out_at', private.webhook_time(new.created_at),
      -- The latest lead with this number, if any (an owner may list a number that never filled the form).
      'lead_id', (select l.id from public.leads l where l.business_id = new.business_id and l.phone = new.phone
                   order by l.created_at desc limit 1)));
  exception when others then
    raise warning 'leadloop: lead.opted_out webhook event for % not captured: % (%)', new.business_id, sqlerrm, sqlstate;
  end;
  return null;
end
$$;
comment on function private.opt_outs_webhook_events() is 'AFTER INSERT on opt_outs: lead.opted_out with the number, source and latest lead. Never fails the opt-out.';
revoke execute on function private.opt_outs_webhook_events() from public;

create trigger opt_outs_webhook_events after insert on public.opt_outs
  for each row execute function private.opt_outs_webhook_events();
