-- What the lead's form message already says: the need, when and where. The text-back asks only for
-- what is missing (private.text_back_asks, read by the intake trigger in lead_intake.sql), and a ZIP
-- in the message places the lead for its quiet hours (private.form_zip). Pure functions of the text.

create or replace function private.message_states_need(p_message text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return (
  select p_message is not null
     and length(btrim(p_message)) >= 12
     and (select count(*) from regexp_matches(p_message, '[[:alpha:]]{2,}', 'g')) >= 3
  );
end
$$;
comment on function private.message_states_need(text) is 'True when the form message already says what the lead needs (three or more words), so the text-back does not ask again.';

-- The text-back never asks for what the lead already wrote in the form. These two spot when and where
-- in the form message. A hit means we do not ask, so they only accept unambiguous cues: a missed cue costs
-- one extra question, an invented one leaves the job without a time or an address.
create or replace function private.message_states_timing(p_message text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- One regular expression of alternatives rather than eight (see private.is_digits on the regexp cache).
  return coalesce(lower(p_message) ~ (
    -- words and phrases (en, es) that say when
       '(?:\m(today|tonight|tomorrow|tmrw|asap|as soon as possible|urgent|urgently|emergency'
        || '|this week|next week|this month|next month'
        || '|(monday|tuesday|wednesday|thursday|friday|saturday|sunday|morning|afternoon|evening|weekend)s?'
        || '|hoy|mañana|urgente|lo antes posible|cuanto antes|esta semana|(la )?pr[oó]xima semana|fin de semana'
        || '|lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo'
        || '|(por|de) las? (mañanas?|tardes?|noches?)|esta (mañana|tarde|noche))\M)'
    -- a clock time: 3pm, 3 p.m., 10:30, 10:30am; a las 3
    || '|(?:\m(1[0-2]|0?[1-9])(:[0-5][0-9])? ?((am|pm)\M|[ap]\.m\.))'
    || '|(?:\m([01]?[0-9]|2[0-3]):[0-5][0-9]\M)'
    || '|(?:\ma las (1[0-2]|0?[1-9])\M)'
    -- a date: 12/5/2026 (a bare 3/4 is a size, not a date), 2026-12-05, Dec 5, 5 de diciembre ("may 5 people" is not one)
    || '|(?:\m(0?[1-9]|1[0-2])/(0?[1-9]|[12][0-9]|3[01])/([0-9]{4}|[0-9]{2})\M)'
    || '|(?:\m20[0-9]{2}-[01][0-9]-[0-3][0-9]\M)'
    || '|(?:\m(january|february|march|april|june|july|august|september|october|november|december'
        || '|jan|feb|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.? (3[01]|[12][0-9]|0?[1-9])(st|nd|rd|th)?\M)'
    || '|(?:\m(3[01]|[12][0-9]|0?[1-9]) de (enero|febrero|marzo|abril|mayo|junio|julio|agosto'
        || '|septiembre|setiembre|octubre|noviembre|diciembre)\M)'),
    false);
end
$$;
comment on function private.message_states_timing(text) is 'True when the form message already says when (today, tomorrow morning, Friday, 3pm, Dec 5, mañana, el lunes...), so the text-back does not ask again. Conservative: a false hit would skip the question.';

-- A US ZIP in a form message: five digits standing alone, not a price, a part of a longer number or a
-- quantity (12000 BTU). The first one found, or null.
create or replace function private.form_zip(p_message text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return (
    select (regexp_match(lower(p_message), '(?:^|[^$0-9.,/-])([0-9]{5})(?:-[0-9]{4})?(?![0-9]|[.,/][0-9]|-[0-9]'
          || '|\s*(?:btu|dollars|usd|bucks|sq|square|sqft|ft|feet|miles|mi|lbs|pounds|gal|gallons|k|watts|w|psi|rpm|cc)\M)'))[1]);
end
$$;
comment on function private.form_zip(text) is 'The first US ZIP code standing alone in a form message (not a price, quantity or part of a longer number), or null.';
revoke execute on function private.form_zip(text) from public;

create or replace function private.message_states_location(p_message text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return (
  select coalesce(
    private.form_zip(p_message) is not null
    or lower(p_message) ~ (
    -- a street address: a house number, one to four name words (not little words: "2 doors on the way"), a street type
         '(?:\m[0-9]{1,6}[a-z]?\s+((?!(the|a|an|on|in|of|to|and|or|for|my|our|your|is|are|at|by|with|from|this|that|all|each|per)\M)[a-z0-9.''-]+\s+){1,4}'
        || '(st|street|ave|avenue|av|rd|road|blvd|boulevard|dr|drive|ln|lane|ct|court|way|pl|place|hwy|highway'
        || '|pkwy|parkway|cir|circle|ter|terrace|trl|trail)\M)'
    -- calle / avenida with a house number close by: "Calle Ocho 123", "avenida Juárez #45", "calle 8"
        || '|(?:\m(calle|avenida)\s+([^[:space:],]+\s+){0,3}(#\s*|no\.?\s*|n[uú]m(ero|\.)?\s*)?[0-9]{1,6}\M)'),
    false)
  );
end
$$;
comment on function private.message_states_location(text) is 'True when the form message already says where (a US ZIP, a street address like 1420 Elm St, calle/avenida with a number), so the text-back does not ask again. Conservative: a false hit would skip the question.';
revoke execute on function private.message_states_need(text), private.message_states_timing(text),
  private.message_states_location(text) from public;

create or replace function private.text_back_asks(p_message text)
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
begin
  return coalesce(nullif(array_remove(array[
           case when not private.message_states_need(p_message) then 'need' end,
           case when not private.message_states_timing(p_message) then 'timing' end,
           case when not private.message_states_location(p_message) then 'location' end], null), '{}'),
         '{constraints}');
end
$$;
comment on function private.text_back_asks(text) is 'What the first text asks: the need, timing and location the form message leaves out; when it says all three, the access/parking/pets question (constraints), so a question still awaits a reply.';
revoke execute on function private.text_back_asks(text) from public;
