-- SMS copy: every word leadloop texts, in English and Spanish, as rows with named placeholders, and
-- the one renderer that fills them. Whoever composes a text renders it here and records on the
-- message what it asks (messages.asks); nothing reads wording back. The lead's language is decided
-- here too (detect_locale), once, for the form message and for every reply.

create table private.sms_copy (
  key text not null check (key ~ '^[a-z_]+(\.[a-z_]+)*$'),
  locale text not null check (locale in ('en', 'es')),
  asks text[] not null default '{}' check (asks <@ array['need', 'timing', 'location', 'constraints']),
  audience text not null check (audience in ('lead', 'owner')),
  body text not null check (length(body) between 1 and 1000),
  body_without_name text check (length(body_without_name) between 1 and 1000 and body_without_name !~ '\{first_name\}'),
  primary key (key, locale, asks),
  constraint sms_copy_name_form check ((body ~ '\{first_name\}') = (body_without_name is not null))
);
comment on table private.sms_copy is 'Default wording of every SMS (en/es), one row per key, locale and what the text asks. Placeholders are {name}s filled by private.render_sms; a per-business override would be looked up in private.sms_copy_for.';
comment on column private.sms_copy.asks is 'What a text with this wording asks the lead for (need, timing, location, constraints); copied to messages.asks. Variants of one key differ by it.';
comment on column private.sms_copy.body_without_name is 'The form used when the lead''s first name is unknown; required exactly when body uses {first_name}.';
alter table private.sms_copy enable row level security;
revoke all on private.sms_copy from public, anon, authenticated;

insert into private.sms_copy (key, locale, audience, asks, body, body_without_name) values
  -- to the owner, in the business's default locale
  ('owner_alert', 'en', 'owner', '{}', E'New lead for {business}: {name} {phone}\n{message}\nPage: {source}\nCall: {call_link}\nText: {text_link}', null),
  ('owner_alert', 'es', 'owner', '{}', E'Nuevo cliente para {business}: {name} {phone}\n{message}\nPágina: {source}\nLlamar: {call_link}\nMensaje: {text_link}', null),
  ('owner_alert.no_message', 'en', 'owner', '{}', '(no message)', null),
  ('owner_alert.no_message', 'es', 'owner', '{}', '(sin mensaje)', null),
  ('owner_alert.no_source', 'en', 'owner', '{}', '(unknown page)', null),
  ('owner_alert.no_source', 'es', 'owner', '{}', '(página desconocida)', null),
  -- The first text to a lead: {question} is the text_back.question that asks what the form left out.
  -- Every text that can start a thread carries "Reply STOP to opt out", in Spanish texts too, because
  -- carriers and the FCC look for the English keyword.
  ('text_back', 'en', 'lead', '{}', 'Hi {first_name}, this is {business}. {question} Reply STOP to opt out.',
   'Hi, this is {business}. {question} Reply STOP to opt out.'),
  ('text_back', 'es', 'lead', '{}', 'Hola {first_name}, le escribe {business}. {question} Responda STOP para no recibir más mensajes (Reply STOP to opt out).',
   'Hola, le escribe {business}. {question} Responda STOP para no recibir más mensajes (Reply STOP to opt out).'),
  ('text_back.question', 'en', 'lead', '{need,timing,location}', 'Thanks for reaching out! To help you quickly: what do you need done, when do you need it, and where (address or area)?', null),
  ('text_back.question', 'en', 'lead', '{need,timing}', 'Thanks for reaching out! To help you quickly: what do you need done, and when do you need it?', null),
  ('text_back.question', 'en', 'lead', '{need,location}', 'Thanks for reaching out! To help you quickly: what do you need done, and where (address or area)?', null),
  ('text_back.question', 'en', 'lead', '{need}', 'Thanks for reaching out! What do you need done?', null),
  ('text_back.question', 'en', 'lead', '{timing,location}', 'Thanks for your request! When do you need this done, and where (address or area)?', null),
  ('text_back.question', 'en', 'lead', '{timing}', 'Thanks for your request! When do you need this done?', null),
  ('text_back.question', 'en', 'lead', '{location}', 'Thanks for your request! Where is the job (address or area)?', null),
  ('text_back.question', 'en', 'lead', '{constraints}', 'Thanks for the details! Is there anything else we should know before we come, such as access, parking or pets?', null),
  ('text_back.question', 'es', 'lead', '{need,timing,location}', '¡Gracias por contactarnos! Para ayudarle rápido: ¿qué necesita, para cuándo y dónde (dirección o zona)?', null),
  ('text_back.question', 'es', 'lead', '{need,timing}', '¡Gracias por contactarnos! Para ayudarle rápido: ¿qué necesita y para cuándo?', null),
  ('text_back.question', 'es', 'lead', '{need,location}', '¡Gracias por contactarnos! Para ayudarle rápido: ¿qué necesita y dónde (dirección o zona)?', null),
  ('text_back.question', 'es', 'lead', '{need}', '¡Gracias por contactarnos! ¿Qué necesita que hagamos?', null),
  ('text_back.question', 'es', 'lead', '{timing,location}', '¡Gracias por su solicitud! ¿Para cuándo lo necesita y dónde (dirección o zona)?', null),
  ('text_back.question', 'es', 'lead', '{timing}', '¡Gracias por su solicitud! ¿Para cuándo lo necesita?', null),
  ('text_back.question', 'es', 'lead', '{location}', '¡Gracias por su solicitud! ¿Dónde es el trabajo (dirección o zona)?', null),
  ('text_back.question', 'es', 'lead', '{constraints}', '¡Gracias por los detalles! ¿Hay algo más que debamos saber antes de ir, como acceso, estacionamiento o mascotas?', null),
  -- The conversation engine's next question (one slot at a time); .acknowledged when the lead's last
  -- message filled something.
  ('question', 'en', 'lead', '{need}', 'What can we help you with?', null),
  ('question', 'en', 'lead', '{timing}', 'When would you like this done?', null),
  ('question', 'en', 'lead', '{location}', 'What''s the address or ZIP code for the job?', null),
  ('question', 'es', 'lead', '{need}', '¿En qué le podemos ayudar?', null),
  ('question', 'es', 'lead', '{timing}', '¿Cuándo le gustaría que hagamos el trabajo?', null),
  ('question', 'es', 'lead', '{location}', '¿Cuál es la dirección o el código postal del trabajo?', null),
  ('question.acknowledged', 'en', 'lead', '{need}', 'Thanks! What can we help you with?', null),
  ('question.acknowledged', 'en', 'lead', '{timing}', 'Got it. When would you like this done?', null),
  ('question.acknowledged', 'en', 'lead', '{location}', 'Thanks! What''s the address or ZIP code for the job?', null),
  ('question.acknowledged', 'es', 'lead', '{need}', '¡Gracias! ¿En qué le podemos ayudar?', null),
  ('question.acknowledged', 'es', 'lead', '{timing}', 'Entendido. ¿Cuándo le gustaría que hagamos el trabajo?', null),
  ('question.acknowledged', 'es', 'lead', '{location}', '¡Gracias! ¿Cuál es la dirección o el código postal del trabajo?', null),
  -- The last text of a conversation, by completion reason.
  ('closing.slots_filled', 'en', 'lead', '{}', 'Thanks {first_name}! {business} has what they need and will get back to you shortly.',
   'Thanks! {business} has what they need and will get back to you shortly.'),
  ('closing.max_questions', 'en', 'lead', '{}', 'Thanks {first_name}! We''ve passed this on to {business} and they''ll reach out soon.',
   'Thanks! We''ve passed this on to {business} and they''ll reach out soon.'),
  ('closing.call_requested', 'en', 'lead', '{}', 'No problem! {business} will call you at this number shortly.', null),
  ('closing.not_interested', 'en', 'lead', '{}', 'Understood, thanks for letting us know. We won''t text you about this request again.', null),
  ('closing.wrong_number', 'en', 'lead', '{}', 'Sorry about that! We won''t text this number again.', null),
  ('closing.slots_filled', 'es', 'lead', '{}', '¡Gracias {first_name}! {business} ya tiene lo que necesita y le contactará pronto.',
   '¡Gracias! {business} ya tiene lo que necesita y le contactará pronto.'),
  ('closing.max_questions', 'es', 'lead', '{}', '¡Gracias {first_name}! Le pasamos su solicitud a {business} y le contactarán pronto.',
   '¡Gracias! Le pasamos su solicitud a {business} y le contactarán pronto.'),
  ('closing.call_requested', 'es', 'lead', '{}', '¡Claro! {business} le llamará a este número en breve.', null),
  ('closing.not_interested', 'es', 'lead', '{}', 'Entendido, gracias por avisarnos. No le enviaremos más mensajes sobre esta solicitud.', null),
  ('closing.wrong_number', 'es', 'lead', '{}', '¡Disculpe la molestia! No volveremos a escribir a este número.', null),
  -- The one reminder to a lead who has not answered.
  ('nudge', 'en', 'lead', '{need,timing,location}', 'Hi {first_name}, {business} here again. Still need help? Just reply with what you need, when and where. Reply STOP to opt out.',
   'Hi, {business} here again. Still need help? Just reply with what you need, when and where. Reply STOP to opt out.'),
  ('nudge', 'es', 'lead', '{need,timing,location}', 'Hola {first_name}, {business} otra vez. ¿Todavía necesita ayuda? Responda con qué necesita, para cuándo y dónde. Responda STOP para no recibir más mensajes (Reply STOP to opt out).',
   'Hola, {business} otra vez. ¿Todavía necesita ayuda? Responda con qué necesita, para cuándo y dónde. Responda STOP para no recibir más mensajes (Reply STOP to opt out).'),
  -- Answers to HELP, STOP and START.
  ('help', 'en', 'lead', '{}', '{business}: we text you about the service request you sent us. Msg & data rates may apply. Reply STOP to opt out.', null),
  ('help', 'es', 'lead', '{}', '{business}: le escribimos sobre la solicitud de servicio que nos envió. Pueden aplicarse tarifas de mensajes y datos (Msg & data rates may apply). Responda STOP para darse de baja (Reply STOP to opt out).', null),
  ('opt_out_ack', 'en', 'lead', '{}', '{business}: you are unsubscribed and will receive no more texts. Reply START to resubscribe.', null),
  ('opt_out_ack', 'es', 'lead', '{}', '{business}: se ha dado de baja y no recibirá más mensajes. Responda START para volver a suscribirse.', null),
  ('opt_in_ack', 'en', 'lead', '{}', '{business}: you are subscribed again. Msg & data rates may apply. Reply STOP to opt out.', null),
  ('opt_in_ack', 'es', 'lead', '{}', '{business}: está suscrito de nuevo. Pueden aplicarse tarifas de mensajes y datos. Responda STOP para darse de baja (Reply STOP to opt out).', null),
  -- The one question for a text that may mean "stop" ("can you stop", "who is this?").
  ('clarify_opt_out', 'en', 'lead', '{}', '{business} here, about your service request. Reply STOP to stop texts from {business}.', null),
  ('clarify_opt_out', 'es', 'lead', '{}', 'Le escribe {business} sobre su solicitud de servicio. Responda STOP para no recibir más mensajes de {business} (Reply STOP to opt out).', null),
  -- The summary the owner gets when the summarizer keeps failing: what the conversation holds, plainly.
  ('owner_summary_fallback', 'en', 'owner', '{}', E'Lead summary for {business} (automatic summary unavailable): {name} {phone}\nNeed: {need}\nWhen: {timing}\nWhere: {location}\nCall tel:{phone}\nText sms:{phone}', null),
  ('owner_summary_fallback', 'es', 'owner', '{}', E'Resumen del cliente para {business} (resumen automático no disponible): {name} {phone}\nNecesita: {need}\nCuándo: {timing}\nDónde: {location}\nLlamar tel:{phone}\nMensaje sms:{phone}', null),
  ('owner_summary_fallback.unknown', 'en', 'owner', '{}', '(not said)', null),
  ('owner_summary_fallback.unknown', 'es', 'owner', '{}', '(no lo dijo)', null);

-- The copy row to use: the business's own wording for key/locale (public.sms_templates, written from the
-- settings page; 20261203090200_sms_templates.sql) over the default, keeping the default's asks, so every
-- caller of render_sms gets the owner's wording unchanged.
create or replace function private.sms_copy_for(p_business_id uuid, p_key text, p_locale text, p_asks text[])
returns private.sms_copy
language plpgsql
stable
set search_path = ''
as $$
declare
  copy private.sms_copy;
  own record;
begin
  select c.* into copy from private.sms_copy c
   where c.key = p_key and c.locale = p_locale
     and c.asks @> coalesce(p_asks, '{}') and c.asks <@ coalesce(p_asks, '{}');
  if copy.key is not null and p_business_id is not null then
    select t.body, t.body_without_name into own from public.sms_templates t
     where t.business_id = p_business_id and t.key = p_key and t.locale = p_locale;
    if found then
      copy.body := own.body;
      copy.body_without_name := own.body_without_name;
    end if;
  end if;
  return copy;
end
$$;
comment on function private.sms_copy_for(uuid, text, text, text[]) is 'The wording of key/locale that asks exactly p_asks (in any order) for a business: its own wording (public.sms_templates) when it has one, else the default row of private.sms_copy.';
revoke execute on function private.sms_copy_for(uuid, text, text, text[]) from public;

-- Lead-supplied text reaches texts only through render_sms, and render_sms cleans every value here,
-- once, before it fills a placeholder: a lead cannot add a line to the owner's alert ("\nCall: tel:+1900..."),
-- hide text behind bidi overrides or zero-width characters, put a link or a number in a text to a lead,
-- or make a text longer than its wording allows.

-- One line of plain text: invisible format characters (zero-width, bidi embeddings, overrides and isolates,
-- BOM, soft hyphen, tag characters) removed; every control character, line or paragraph separator (CR, LF,
-- VT, FF, NEL, U+2028, U+2029) and whitespace run turned into one space; at most p_max characters.
-- (The helpers on the intake path are PL/pgSQL: a SQL function with SET search_path is never inlined and,
-- on PostgreSQL 15, is parsed and planned again in every transaction that calls it.)
create or replace function private.sms_single_line(p_text text, p_max int)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_text ~ '^[!-~]+( [!-~]+)*$' then  -- printable ASCII, single spaces: nothing to clean
    return left(p_text, greatest(p_max, 0));
  end if;
  return nullif(left(btrim(regexp_replace(
           regexp_replace(normalize(coalesce(p_text, ''), NFC),
             '[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\U000E0000-\U000E0FFF]',
             '', 'g'),
           '[\u0001-\u001F\u007F-\u009F\u2028\u2029[:space:]]+', ' ', 'g')), greatest(p_max, 0)), '');
end
$$;
comment on function private.sms_single_line(text, int) is 'Lead-supplied text made safe for one line of an SMS: invisible format characters removed, line breaks (any kind), control characters and whitespace runs collapsed to one space, trimmed, at most p_max characters; null when nothing is left.';
revoke execute on function private.sms_single_line(text, int) from public;

-- A first name is one word of letters in any script (with their combining marks), apostrophes and hyphens,
-- starting with a letter: "José", "O'Brien", "Anne-Marie", "Nguyễn", "प्रिया". Anything else (a link, a
-- number, "Dr.", digits of any script) gives null, and the text uses its no-name form.
create or replace function private.first_name(p_name text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  word text := split_part(private.sms_single_line(p_name, 200), ' ', 1);
begin
  if length(word) not between 1 and 40 then
    return null;
  elsif word ~ '^[A-Za-z][A-Za-z''-]*$' then
    return word;
  elsif word ~ '^[[:alpha:]][[:alpha:]''’ʼ\u0300-\u036F\u0483-\u0489\u0591-\u05C7\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0900-\u0DFF\u0E31-\u0E4E\u0EB1-\u0ECD\u1000-\u103F\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F-]*$'
        -- glibc counts the digits of other scripts (٣, ३, ๓, ...) as letters: they are digits here
        and word !~ '[\u0660-\u0669\u06F0-\u06F9\u07C0-\u07C9\u0964-\u096F\u09E6-\u09EF\u0A66-\u0A6F\u0AE6-\u0AEF\u0B66-\u0B6F\u0BE6-\u0BEF\u0C66-\u0C6F\u0CE6-\u0CEF\u0D66-\u0D6F\u0DE6-\u0DEF\u0E50-\u0E59\u0ED0-\u0ED9\u1040-\u1049\uFF10-\uFF19]' then
    return word;
  end if;
  return null;
end
$$;
comment on function private.first_name(text) is 'The first word of a name when it is a plausible first name (letters of any script with their marks, apostrophes, hyphens; 1 to 40 characters), else null: then texts use their no-name form.';
revoke execute on function private.first_name(text) from public;

-- Values that come from the lead (the form or their texts) or from the summarizer's reading of them.
-- In texts to the lead they lose links and phone numbers; in every text they are one capped line.
create or replace function private.sms_var(p_name text, p_value text, p_audience text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_name = 'first_name' then
    return private.first_name(p_value);
  elsif p_audience = 'lead' and p_name = any ('{name,message,source,need,timing,location,notes}') then
    return private.sms_single_line(regexp_replace(regexp_replace(private.sms_single_line(p_value, 2000),
        '(\m[a-z][a-z0-9+.-]*://|\mwww\.)[^[:space:]]*|\m[[:alnum:]-]+(\.[[:alnum:]-]+)*\.[[:alpha:]]{2,}\M(/[^[:space:]]*)?', '', 'gi'),
      '\+?[0-9][0-9 ().-]{5,}[0-9]', '', 'g'), 300);
  end if;
  return private.sms_single_line(p_value, case p_name when 'message' then 600 when 'source' then 300 when 'name' then 100
                                                      when 'business' then 120 else 300 end);
end
$$;
comment on function private.sms_var(text, text, text) is 'One placeholder value made safe for an SMS to p_audience (lead or owner): first_name must be a plausible first name; every value is one line without invisible characters, capped per name; lead-supplied values lose links and phone numbers in texts to leads.';
revoke execute on function private.sms_var(text, text, text) from public;

-- Fills {placeholders} in one pass, so a value that itself contains "{phone}" is never expanded. Every value
-- is cleaned by private.sms_var first: this is the one place lead-supplied text enters a text. It takes
-- the wording as a row, so the settings page's preview renders unsaved wording exactly as render_sms will.
create or replace function private.render_copy(p_copy private.sms_copy, p_vars jsonb default '{}')
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  copy private.sms_copy := p_copy;
  vars jsonb := '{}'::jsonb;
  var record;
  template text;
  pieces text[];
  piece text;
  name_end integer;
  placeholder text;
  missing text[] := '{}'::text[];
  rendered text;
begin
  for var in select v.key, v.value from jsonb_each_text(coalesce(p_vars, '{}')) as v loop
    vars := vars || jsonb_build_object(var.key, private.sms_var(var.key, var.value, copy.audience));
  end loop;
  template := case when copy.body_without_name is not null and vars ->> 'first_name' is null
                   then copy.body_without_name else copy.body end;
  -- "text {name} text {other}" splits on "{": every piece after the first starts with a placeholder
  -- name and "}" (or is a literal "{").
  pieces := string_to_array(template, '{');
  rendered := pieces[1];
  for i in 2 .. coalesce(cardinality(pieces), 0) loop
    piece := pieces[i];
    name_end := position('}' in piece);
    placeholder := left(piece, name_end - 1);
    if name_end > 1 and placeholder ~ '^[a-z_]+$' then
      if not vars ? placeholder then
        missing := missing || placeholder;
      end if;
      rendered := rendered || coalesce(vars ->> placeholder, '') || substr(piece, name_end + 1);
    else
      rendered := rendered || '{' || piece;
    end if;
  end loop;
  if cardinality(missing) > 0 then
    raise exception 'SMS copy "%" needs %', copy.key, array_to_string(missing, ', ') using errcode = '22023';
  end if;
  return left(rendered, 1600);
end
$$;
comment on function private.render_copy(private.sms_copy, jsonb) is 'Fills the {placeholders} of one wording row from p_vars cleaned by private.sms_var (the no-name form when first_name is not a usable first name); a missing placeholder is an error (22023). Capped at 1600 characters.';
revoke execute on function private.render_copy(private.sms_copy, jsonb) from public;

create or replace function private.render_sms(
  p_key text, p_locale text, p_vars jsonb default '{}', p_asks text[] default '{}', p_business_id uuid default null)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  copy private.sms_copy := private.sms_copy_for(p_business_id, p_key, p_locale, p_asks);
begin
  if copy.key is null then
    raise exception 'no SMS copy "%" in locale % asking %', p_key, p_locale, coalesce(p_asks, '{}') using errcode = '22023';
  end if;
  return private.render_copy(copy, p_vars);
end
$$;
comment on function private.render_sms(text, text, jsonb, text[], uuid) is 'The one SMS renderer: the wording of p_key in p_locale that asks p_asks, its {placeholders} filled from p_vars cleaned by private.sms_var (the no-name form when first_name is not a usable first name). Unknown copy or a missing placeholder is an error (22023).';
revoke execute on function private.render_sms(text, text, jsonb, text[], uuid) from public;

-- The one language detector, for the form message at intake and for every reply (process_inbound_sms
-- stores the reply's locale on the conversation, and the next text is rendered in it). Cue words
-- decide, so two-word replies ("sí, mañana") work; a text with no language signal ("78704", "👍")
-- keeps the current locale.
create or replace function private.detect_locale(p_text text, p_current text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return (
  with words as (
    select m[1] as word
      from regexp_matches(translate(lower(coalesce(p_text, '')), 'áéíóúüñàèìòùÁÉÍÓÚÜÑ', 'aeiouunaeiouaeiouun'), '[a-z]+', 'g') as m
  ), score as (
    select count(*) filter (where word = any ('{hola,buenas,buenos,dias,tardes,noches,gracias,necesito,necesitamos,necesita,
             quiero,queremos,busco,tengo,tenemos,por,favor,manana,hoy,ayer,semana,proxima,proximo,lunes,martes,miercoles,
             jueves,viernes,sabado,domingo,casa,cocina,bano,techo,agua,fuga,calentador,aire,acondicionado,arreglar,reparar,
             limpieza,cita,perro,si,claro,vale,donde,cuando,esta,estoy,estamos,puede,pueden,llamar,llameme,llamame,numero,
             equivocado,interesa,ya,mi,mis,el,la,los,las,una,uno,para,con,que,de,del,en,y,o,pero,despues,antes,tarde,noche,
             direccion,calle,avenida,ciudad,codigo,postal,nada,solo,tambien,muy,bien,cuanto,cuesta,precio,cotizacion,
             presupuesto,tuberia,se}'::text[]))
           + case when translate(p_text, 'ñÑ¿¡', '') <> p_text then 2 else 0 end
           + case when translate(p_text, 'áéíóúÁÉÍÓÚ', '') <> p_text then 1 else 0 end as es,
           count(*) filter (where word = any ('{hi,hello,hey,thanks,thank,you,need,needs,want,looking,for,have,has,my,our,
             the,a,an,and,or,but,is,are,it,this,that,tomorrow,today,tonight,morning,afternoon,evening,week,next,monday,
             tuesday,wednesday,thursday,friday,saturday,sunday,please,can,could,would,should,will,call,me,yes,yeah,no,not,
             interested,wrong,number,house,home,kitchen,bathroom,roof,water,leak,fix,repair,clean,appointment,at,in,on,
             after,before,around,address,street,zip,city,just,sure,ok,okay,asap,soon,i,to,of,we}'::text[])) as en
      from words
  )
  select case
    when length(regexp_replace(coalesce(p_text, ''), '[^a-zA-ZáéíóúüñÁÉÍÓÚÜÑ]', '', 'g')) < 2 then coalesce(p_current, 'en')
    when score.es > score.en then 'es'
    when score.en > score.es then 'en'
    else coalesce(p_current, 'en')
  end
  from score
  );
end
$$;
comment on function private.detect_locale(text, text) is 'en or es for a lead''s text by cue words (and ñ ¿ ¡ or accents); p_current when the text says nothing either way.';
revoke execute on function private.detect_locale(text, text) from public;
