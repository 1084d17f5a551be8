-- Waking the edge functions, coalesced.
-- A wake is "pending" from the moment it is posted until sms-dispatch's next claim. While one is
-- pending, new sendable messages need no wake of their own: the claim that clears the flag takes
-- the same row lock, so it waits for every transaction that decided to skip, and then sees their
-- messages. The decision runs at commit (deferred constraint trigger) so the lock is held for an
-- instant. A wake older than 30 seconds that no claim answered is treated as lost and re-posted;
-- the minute sweep also wakes dispatch whenever due messages wait.
create table private.dispatch_wake_state (
  singleton boolean primary key default true check (singleton),
  wake_pending boolean not null default false,
  last_wake_at timestamptz,
  last_claim_at timestamptz,
  wakes_posted bigint not null default 0
);
comment on table private.dispatch_wake_state is 'One row: whether an sms-dispatch wake is in flight (coalescing) and counters.';
insert into private.dispatch_wake_state default values;
alter table private.dispatch_wake_state enable row level security;

-- Posts to an edge function with the project URL and service key from the vault; null (and a
-- warning) when the vault is not configured, never an error: saving a lead must not depend on it.
-- A wake is an optimisation on top of the minute sweep; it must never cost the data that caused it.
-- The wake decision runs at commit, so an error there (net.http_post refusing a malformed vault URL,
-- a lock timeout on the wake row) would abort the lead's whole transaction. Both this function and
-- the commit-time trigger below log a warning and carry on; the sweep posts the wake a minute later
-- at the latest.
create or replace function private.post_to_edge_function(p_function_name text, p_body jsonb default '{}'::jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  project_url text;
  service_role_key text;
begin
  select s.decrypted_secret into project_url from vault.decrypted_secrets s where s.name = 'project_url' limit 1;
  select s.decrypted_secret into service_role_key from vault.decrypted_secrets s where s.name = 'service_role_key' limit 1;
  if project_url is null or service_role_key is null then
    raise warning 'leadloop: vault secrets project_url/service_role_key are not set; % not woken', p_function_name;
    return null;
  end if;
  return net.http_post(
    url := rtrim(project_url, '/') || '/functions/v1/' || p_function_name,
    body := p_body,
    headers := jsonb_build_object('Authorization', 'Bearer ' || service_role_key, 'Content-Type', 'application/json'));
exception when others then
  raise warning 'leadloop: could not post to %: % (%)', p_function_name, sqlerrm, sqlstate;
  return null;
end
$$;
comment on function private.post_to_edge_function(text, jsonb) is 'net.http_post to <project_url>/functions/v1/<name> with the service key from vault.decrypted_secrets; null (and a warning) when it cannot, never an error.';

create or replace function private.wake_dispatch(p_force boolean default false)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  state private.dispatch_wake_state;
begin
  select * into state from private.dispatch_wake_state where singleton for update;
  if not p_force and state.wake_pending and state.last_wake_at > now() - interval '30 seconds' then
    return false;
  end if;
  if private.post_to_edge_function('sms-dispatch') is null then
    return false;
  end if;
  update private.dispatch_wake_state
     set wake_pending = true, last_wake_at = now(), wakes_posted = wakes_posted + 1
   where singleton;
  return true;
end
$$;
comment on function private.wake_dispatch(boolean) is 'Posts one sms-dispatch wake unless one is already pending (coalescing); p_force posts regardless.';

create or replace function private.messages_wake_dispatch_at_commit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- One decision per transaction, however many messages it queued.
  if current_setting('leadloop.dispatch_wake_decided', true) = 'yes' then
    return null;
  end if;
  -- Only rows still sendable right now matter (the row may have changed since it was queued).
  if exists (select 1 from public.messages m
              where m.id = new.id and m.status = 'queued' and m.send_after <= now() and m.next_attempt_at <= now()) then
    perform set_config('leadloop.dispatch_wake_decided', 'yes', true);
    begin
      perform private.wake_dispatch(false);
    exception when others then
      raise warning 'leadloop: sms-dispatch wake skipped: % (%); the sweep will wake it', sqlerrm, sqlstate;
    end;
  end if;
  return null;
end
$$;

create constraint trigger messages_wake_dispatch_at_commit
  after insert or update of status on public.messages
  deferrable initially deferred
  for each row
  when (new.direction = 'outbound' and new.status = 'queued')
  execute function private.messages_wake_dispatch_at_commit();

-- Texts to leads. Every one that can start a thread carries "Reply STOP to opt out" (also in Spanish texts,
-- because carriers and the FCC look for the English keyword).
create or replace function private.first_name(p_name text)
returns text
language sql
immutable
set search_path = ''
as $$
  select left(coalesce(nullif(split_part(btrim(p_name), ' ', 1), ''), 'there'), 40)
$$;

create or replace function private.message_states_need(p_message text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select p_message is not null
     and length(btrim(p_message)) >= 12
     and (select count(*) from regexp_matches(p_message, '[[:alpha:]]{2,}', 'g')) >= 3
$$;
comment on function private.message_states_need(text) is 'True when the form message already says what the lead needs (three or more words), so the text-back does not ask again.';

-- The text-back never asks for what the lead already wrote in the form. These two spot when and where
-- in the form message. A hit means we do not ask, so they only accept unambiguous cues: a missed cue costs
-- one extra question, an invented one leaves the job without a time or an address.
create or replace function private.message_states_timing(p_message text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select coalesce(
    -- words and phrases (en, es) that say when
    lower(p_message) ~ ('\m(today|tonight|tomorrow|tmrw|asap|as soon as possible|urgent|urgently|emergency'
        || '|this week|next week|this month|next month'
        || '|(monday|tuesday|wednesday|thursday|friday|saturday|sunday|morning|afternoon|evening|weekend)s?'
        || '|hoy|mañana|urgente|lo antes posible|cuanto antes|esta semana|(la )?pr[oó]xima semana|fin de semana'
        || '|lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo'
        || '|(por|de) las? (mañanas?|tardes?|noches?)|esta (mañana|tarde|noche))\M')
    -- a clock time: 3pm, 3 p.m., 10:30, 10:30am; a las 3
    or lower(p_message) ~ '\m(1[0-2]|0?[1-9])(:[0-5][0-9])? ?((am|pm)\M|[ap]\.m\.)'
    or p_message ~ '\m([01]?[0-9]|2[0-3]):[0-5][0-9]\M'
    or lower(p_message) ~ '\ma las (1[0-2]|0?[1-9])\M'
    -- a date: 12/5/2026 (a bare 3/4 is a size, not a date), 2026-12-05, Dec 5, 5 de diciembre ("may 5 people" is not one)
    or p_message ~ '\m(0?[1-9]|1[0-2])/(0?[1-9]|[12][0-9]|3[01])/([0-9]{4}|[0-9]{2})\M'
    or p_message ~ '\m20[0-9]{2}-[01][0-9]-[0-3][0-9]\M'
    or lower(p_message) ~ ('\m(january|february|march|april|june|july|august|september|october|november|december'
        || '|jan|feb|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.? (3[01]|[12][0-9]|0?[1-9])(st|nd|rd|th)?\M')
    or lower(p_message) ~ ('\m(3[01]|[12][0-9]|0?[1-9]) de (enero|febrero|marzo|abril|mayo|junio|julio|agosto'
        || '|septiembre|setiembre|octubre|noviembre|diciembre)\M'),
    false)
$$;
comment on function private.message_states_timing(text) is 'True when the form message already says when (today, tomorrow morning, Friday, 3pm, Dec 5, mañana, el lunes...), so the text-back does not ask again. Conservative: a false hit would skip the question.';

create or replace function private.message_states_location(p_message text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select coalesce(
    -- a US ZIP: five digits standing alone, not a price, a part of a longer number or a quantity (12000 BTU)
    lower(p_message) ~ ('(^|[^$0-9.,/-])[0-9]{5}(-[0-9]{4})?(?![0-9]|[.,/][0-9]|-[0-9]'
        || '|\s*(btu|dollars|usd|bucks|sq|square|sqft|ft|feet|miles|mi|lbs|pounds|gal|gallons|k|watts|w|psi|rpm|cc)\M)')
    -- a street address: a house number, one to four name words (not little words: "2 doors on the way"), a street type
    or lower(p_message) ~ ('\m[0-9]{1,6}[a-z]?\s+((?!(the|a|an|on|in|of|to|and|or|for|my|our|your|is|are|at|by|with|from|this|that|all|each|per)\M)[a-z0-9.''-]+\s+){1,4}'
        || '(st|street|ave|avenue|av|rd|road|blvd|boulevard|dr|drive|ln|lane|ct|court|way|pl|place|hwy|highway'
        || '|pkwy|parkway|cir|circle|ter|terrace|trl|trail)\M')
    -- calle / avenida with a house number close by: "Calle Ocho 123", "avenida Juárez #45", "calle 8"
    or lower(p_message) ~ '\m(calle|avenida)\s+([^[:space:],]+\s+){0,3}(#\s*|no\.?\s*|n[uú]m(ero|\.)?\s*)?[0-9]{1,6}\M',
    false)
$$;
comment on function private.message_states_location(text) is 'True when the form message already says where (a US ZIP, a street address like 1420 Elm St, calle/avenida with a number), so the text-back does not ask again. Conservative: a false hit would skip the question.';

create or replace function private.guess_locale(p_message text, p_default text)
returns text
language sql
immutable
set search_path = ''
as $$
  with words as (
    select lower(w[1]) as word from regexp_matches(coalesce(p_message, ''), '([[:alpha:]áéíóúñü]+)', 'g') as w
  )
  select case
    when (select count(*) from words where word in ('hola', 'necesito', 'quiero', 'gracias', 'favor', 'cocina', 'baño',
            'urgente', 'mañana', 'fuga', 'ayuda', 'cotización', 'presupuesto', 'tengo', 'tubería', 'está', 'una', 'para',
            'casa', 'agua', 'necesita', 'hoy', 'por', 'el', 'la', 'mi', 'se', 'en', 'de', 'que', 'y')) >= 2
     and (select count(*) from words where word in ('hola', 'necesito', 'quiero', 'gracias', 'favor', 'cocina', 'baño',
            'urgente', 'mañana', 'fuga', 'ayuda', 'cotización', 'presupuesto', 'tengo', 'tubería', 'está', 'una', 'para',
            'casa', 'agua', 'necesita', 'hoy', 'por', 'el', 'la', 'mi', 'se', 'en', 'de', 'que', 'y'))
       > (select count(*) from words where word in ('the', 'my', 'need', 'and', 'is', 'for', 'please', 'leak', 'kitchen',
            'water', 'help', 'tomorrow', 'today', 'i', 'a', 'to', 'in', 'of', 'it', 'we'))
    then 'es'
    else coalesce(p_default, 'en')
  end
$$;
comment on function private.guess_locale(text, text) is 'es when the form message is clearly Spanish, else the business default locale.';

create or replace function private.text_back_body(p_locale text, p_business_name text, p_lead_name text, p_message text)
returns text
language sql
immutable
set search_path = ''
as $$
  -- Each question below is matched by the conversation engine (functions/_shared/extract.ts questionCues):
  -- a text asking for exactly one slot makes a bare reply ("Round Rock") its answer, so a one-slot question
  -- must use only that slot's cue words, and the access question none of them.
  select format(
    case when p_locale = 'es' then 'Hola %s, le escribe %s. %s Responda STOP para no recibir más mensajes (Reply STOP to opt out).'
         else 'Hi %s, this is %s. %s Reply STOP to opt out.' end,
    private.first_name(p_lead_name), p_business_name,
    case when p_locale = 'es' then
      case
        when stated.need and stated.timing and stated.location then
          '¡Gracias por los detalles! ¿Hay algo más que debamos saber antes de ir, como acceso, estacionamiento o mascotas?'
        when stated.need and stated.timing then '¡Gracias por su solicitud! ¿Dónde es el trabajo (dirección o zona)?'
        when stated.need and stated.location then '¡Gracias por su solicitud! ¿Para cuándo lo necesita?'
        when stated.need then '¡Gracias por su solicitud! ¿Para cuándo lo necesita y dónde (dirección o zona)?'
        when stated.timing and stated.location then '¡Gracias por contactarnos! ¿Qué necesita que hagamos?'
        when stated.timing then '¡Gracias por contactarnos! Para ayudarle rápido: ¿qué necesita y dónde (dirección o zona)?'
        when stated.location then '¡Gracias por contactarnos! Para ayudarle rápido: ¿qué necesita y para cuándo?'
        else '¡Gracias por contactarnos! Para ayudarle rápido: ¿qué necesita, para cuándo y dónde (dirección o zona)?'
      end
    else
      case
        when stated.need and stated.timing and stated.location then
          'Thanks for the details! Is there anything else we should know before we come, such as access, parking or pets?'
        when stated.need and stated.timing then 'Thanks for your request! Where is the job (address or area)?'
        when stated.need and stated.location then 'Thanks for your request! When do you need this done?'
        when stated.need then 'Thanks for your request! When do you need this done, and where (address or area)?'
        when stated.timing and stated.location then 'Thanks for reaching out! What do you need done?'
        when stated.timing then 'Thanks for reaching out! To help you quickly: what do you need done, and where (address or area)?'
        when stated.location then 'Thanks for reaching out! To help you quickly: what do you need done, and when do you need it?'
        else 'Thanks for reaching out! To help you quickly: what do you need done, when do you need it, and where (address or area)?'
      end
    end)
  from (select private.message_states_need(p_message) as need,
               private.message_states_timing(p_message) as timing,
               private.message_states_location(p_message) as location) as stated
$$;
comment on function private.text_back_body(text, text, text, text) is 'The first text to a lead (en/es): asks only for what the form message does not already say among what, when and where; when it says all three, thanks the lead and asks about access, parking or pets so a question still awaits a reply.';

create or replace function private.nudge_body(p_locale text, p_business_name text, p_lead_name text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_locale = 'es' then
      format('Hola %s, %s otra vez. ¿Todavía necesita ayuda? Responda con qué necesita, para cuándo y dónde. Responda STOP para no recibir más mensajes (Reply STOP to opt out).',
             private.first_name(p_lead_name), p_business_name)
    else
      format('Hi %s, %s here again. Still need help? Just reply with what you need, when and where. Reply STOP to opt out.',
             private.first_name(p_lead_name), p_business_name)
  end
$$;

create or replace function private.help_body(p_locale text, p_business_name text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_locale = 'es' then
      format('%s: le escribimos sobre la solicitud de servicio que nos envió. Pueden aplicarse tarifas de mensajes y datos (Msg & data rates may apply). Responda STOP para darse de baja (Reply STOP to opt out).', p_business_name)
    else
      format('%s: we text you about the service request you sent us. Msg & data rates may apply. Reply STOP to opt out.', p_business_name)
  end
$$;

create or replace function private.opt_out_ack_body(p_locale text, p_business_name text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_locale = 'es' then
      format('%s: se ha dado de baja y no recibirá más mensajes. Responda START para volver a suscribirse.', p_business_name)
    else
      format('%s: you are unsubscribed and will receive no more texts. Reply START to resubscribe.', p_business_name)
  end
$$;

create or replace function private.opt_in_ack_body(p_locale text, p_business_name text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_locale = 'es' then
      format('%s: está suscrito de nuevo. Pueden aplicarse tarifas de mensajes y datos. Responda STOP para darse de baja (Reply STOP to opt out).', p_business_name)
    else
      format('%s: you are subscribed again. Msg & data rates may apply. Reply STOP to opt out.', p_business_name)
  end
$$;

create or replace function private.owner_alert_body(p_template text, p_business_name text, p_lead public.leads)
returns text
language sql
stable
set search_path = ''
as $$
  select left(
    replace(replace(replace(replace(replace(replace(replace(p_template,
      '{business}', p_business_name),
      '{name}', p_lead.name),
      '{phone}', p_lead.phone),
      '{message}', coalesce(left(nullif(btrim(p_lead.message), ''), 600), '(no message)')),
      '{source}', coalesce(left(p_lead.source_url, 300), '(unknown page)')),
      '{call_link}', 'tel:' || p_lead.phone),
      '{text_link}', 'sms:' || p_lead.phone),
    1600)
$$;
comment on function private.owner_alert_body(text, text, public.leads) is 'Owner alert from the business template: {business} {name} {phone} {message} {source} {call_link} {text_link}.';
