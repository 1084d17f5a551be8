-- The text-back rules: each refusal reason is recorded on the lead; the frequency cap; quiet hours
-- deferral, DST-correct; and what the first text asks (only what the form message leaves out).
begin;
\ir _helpers.psql
select plan(50);

create function pg_temp.texts_for(p_phone text) returns int
language sql as $$ select count(*)::int from public.messages where to_phone = p_phone and kind = 'text_back' $$;

create temp table b as select pg_temp.new_business() as id;
-- repeat submissions of one phone below are about the rules, not the duplicate window
update public.businesses set duplicate_window_minutes = 0 where id = (select id from b);

select is(pg_temp.reason_for((select id from b), '+15554440001', false), 'no_consent', 'no consent: not texted');
select is(pg_temp.texts_for('+15554440001'), 0, 'no consent: no text-back exists');
select is((select count(*)::int from public.messages m join public.leads l on l.id = m.lead_id where l.phone = '+15554440001' and m.kind = 'owner_alert'), 1,
          'no consent: the owner is still alerted');

update public.businesses set followup_enabled = false where id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440002'), 'followup_disabled', 'follow-up disabled: not texted');
update public.businesses set followup_enabled = true where id = (select id from b);

insert into public.opt_outs (business_id, phone, source, matched_rule) values ((select id from b), '+15554440011', 'keyword', 'keyword:STOP');
select is(pg_temp.reason_for((select id from b), '+15554440011'), 'opted_out', 'an opted-out number is not texted');
select is(pg_temp.texts_for('+15554440011'), 0, 'opted out: no text-back exists');

update public.leads set phone_status = 'landline' where phone = '+15554440001';
select is(pg_temp.reason_for((select id from b), '+15554440001'), 'landline', 'a known landline is not texted (call, don''t text)');
update public.leads set phone_status = 'invalid' where phone = '+15554440002';
select is(pg_temp.reason_for((select id from b), '+15554440002'), 'invalid_phone', 'a known invalid number is not texted');
select is((select phone_status from public.leads where phone = '+15554440002' order by created_at desc, phone_status limit 1), 'invalid',
          'the new lead inherits what is known about the number');

select is(pg_temp.reason_for((select id from b), '+447700900123'), 'country_not_allowed', 'a number outside the allowed countries is not texted');

-- at most 3 unsolicited texts to one phone per 24 hours, across businesses
create temp table others as select pg_temp.new_business() as id from generate_series(1, 3);
select is((select count(*)::int from others where pg_temp.reason_for(id, '+15554440020') = 'started'), 3, 'three businesses may each text a new lead once');
select is(pg_temp.reason_for((select id from b), '+15554440020'), 'frequency_cap', 'the fourth unsolicited text within 24 hours is refused');

update public.businesses set twilio_number = null where id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440021'), 'no_sending_number', 'a business without a sending number cannot text');
select is((select owner_alert_status from public.leads where phone = '+15554440021'), 'failed', '...nor alert its owner, and says so');
update public.businesses set twilio_number = pg_temp.random_phone('+1557') where id = (select id from b);

-- a second submission while the first conversation is still open starts nothing new
create temp table open_again as select id from pg_temp.new_business() as id;
update public.businesses set duplicate_window_minutes = 0 where id = (select id from open_again);
select is(pg_temp.reason_for((select id from open_again), '+15554440040'), 'started', 'the first submission starts a conversation');
select is(pg_temp.reason_for((select id from open_again), '+15554440040'), 'conversation_open', 'the same phone again while it is open: not texted a second time');
select is((select count(*)::int from public.messages m join public.leads l on l.id = m.lead_id where l.phone = '+15554440040' and m.kind = 'owner_alert'), 2,
          '...but the owner hears about the new submission');
update public.conversations set status = 'completed', completion_reason = 'slots_filled', next_action_at = null where lead_phone = '+15554440040';
select is(pg_temp.reason_for((select id from open_again), '+15554440040'), 'texted_today', 'once that conversation has ended, the number is not texted again the same day');
update public.leads set created_at = created_at - interval '1 day' where phone = '+15554440040';
select is(pg_temp.reason_for((select id from open_again), '+15554440040'), 'started', '...and the next day a new submission starts a new conversation');

-- quiet hours at intake, in the lead's own time: a lead whose browser says it is 03:00 there
create temp table night as select pg_temp.zone_where_it_is('03:00') as zone;
create temp table night_lead as
select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15554440030', p_timezone => (select zone from night)) as id;
select is((select followup_status from public.leads where id = (select id from night_lead)), 'deferred', 'outside the lead''s texting window the follow-up is deferred');
select is((select status || ' ' || status_reason from public.messages where to_phone = '+15554440030' and kind = 'text_back'), 'deferred quiet_hours',
          'the text-back waits as deferred, and says why');
select is((select send_after from public.messages where to_phone = '+15554440030' and kind = 'text_back'),
          private.next_allowed_send_time(now(), (select zone from night), '08:00', '21:00'),
          'it is due at 08:00 the lead''s time');
select ok((select send_after > now() from public.messages where to_phone = '+15554440030' and kind = 'text_back'), 'which is in the future');
select is((select m.status from public.messages m join public.leads l on l.id = m.lead_id where l.phone = '+15554440030' and m.kind = 'owner_alert'), 'queued',
          'the owner alert is not held by the lead''s quiet hours');

-- DST: the window start on the day the clocks change maps to the right instant
select is(private.next_allowed_send_time('2026-03-08 02:30:00+00', 'America/New_York', '08:00', '20:00'), '2026-03-08 12:00:00+00'::timestamptz,
          'spring forward: 21:30 EST Saturday defers to 08:00 EDT Sunday (12:00 UTC)');
select is(private.next_allowed_send_time('2026-11-01 01:30:00+00', 'America/New_York', '08:00', '20:00'), '2026-11-01 13:00:00+00'::timestamptz,
          'fall back: 21:30 EDT Saturday defers to 08:00 EST Sunday (13:00 UTC)');
select is(private.next_allowed_send_time('2026-03-08 10:00:00+00', 'America/New_York', '08:00', '20:00'), '2026-03-08 12:00:00+00'::timestamptz,
          'spring forward: 06:00 EDT (just after the jump) defers to 08:00 EDT the same day');
select is(private.next_allowed_send_time('2026-03-08 13:00:00+00', 'America/New_York', '08:00', '20:00'), '2026-03-08 13:00:00+00'::timestamptz,
          'inside the window nothing is deferred');
select is(private.next_allowed_send_time('2026-11-01 00:30:00+00', 'America/New_York', '08:00', '20:00'), '2026-11-01 13:00:00+00'::timestamptz,
          'fall back: exactly 20:30 EDT is after the window');
select is(private.next_allowed_send_time('2026-06-01 23:59:00+00', 'America/New_York', '08:00', '20:00'), '2026-06-01 23:59:00+00'::timestamptz,
          '19:59 local is still inside the window');
select is(private.next_allowed_send_time('2026-06-02 00:00:00+00', 'America/New_York', '08:00', '20:00'), '2026-06-02 12:00:00+00'::timestamptz,
          '20:00 local is outside the window (end is exclusive)');
select throws_ok($$update public.businesses set quiet_hours_start = '21:00', quiet_hours_end = '08:00' where id = (select id from b)$$, '23514',
                 'Texting must end at least an hour after it starts (same day).', 'a window that ends before it starts is rejected');


-- The text-back asks only for what the form message leaves out (what, when, where).
create temp table tb_all as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15553330101', true,
  'Water heater leaking, can you come tomorrow morning? 1420 Elm St, Austin 78704') as lead;
select ok((select body !~* '(what do you need|when do you need|where)'
              and body ~ 'Is there anything else we should know before we come, such as access, parking or pets\? Reply STOP to opt out\.$'
             from public.messages where lead_id = (select lead from tb_all) and kind = 'text_back'),
          'need, time and address in the form: no what/when/where question, the access question instead, then the STOP line');
select is((select asks from public.messages where lead_id = (select lead from tb_all) and kind = 'text_back'), '{constraints}',
          '...which asks about constraints');
create temp table tb_need_time as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15553330102', true,
  'Water heater leaking, can you come tomorrow morning?') as lead;
select ok((select body ~ 'Where is the job \(address or area\)\?' and body !~* '(what do you need|when do you need)'
             from public.messages where lead_id = (select lead from tb_need_time) and kind = 'text_back'),
          'need and time in the form: only where is asked');
create temp table tb_time as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15553330103', true, 'Tomorrow 9am') as lead;
select is((select body from public.messages where lead_id = (select lead from tb_time) and kind = 'text_back'),
          (select format('Hi %s, this is %s. Thanks for reaching out! To help you quickly: what do you need done, and where (address or area)? Reply STOP to opt out.',
                         private.first_name(ld.name), b.name)
             from public.leads ld, public.businesses b where ld.id = (select lead from tb_time) and b.id = (select id from b)),
          'time only in the form: asks what and where, not when');
select is((select asks from public.messages where lead_id = (select lead from tb_time) and kind = 'text_back'), '{need,location}',
          '...and records on the message what it asks');
select is(private.text_back_asks('Austin 78704'), '{need,timing}', 'location only in the form: asks what and when, not where');
select is(private.text_back_asks('Water heater leaking at 1420 Elm St'), '{timing}', 'need and address in the form: only when is asked');
select is(private.text_back_asks('Friday 3pm, 78704'), '{need}', 'time and ZIP in the form: only what is asked');
select is(private.text_back_asks(null), '{need,timing,location}', 'no message: asks what, when and where');
create temp table tb_es_all as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15553330104', true,
  'Hola, tengo una fuga de agua, ¿pueden venir mañana por la tarde? Calle Ocho 123') as lead;
select ok((select body ~ '^Hola .*¿Hay algo más que debamos saber antes de ir, como acceso, estacionamiento o mascotas\? Responda STOP para no recibir más mensajes \(Reply STOP to opt out\)\.$'
              and body !~* '(cuándo|dónde|qué necesita)'
             from public.messages where lead_id = (select lead from tb_es_all) and kind = 'text_back'),
          'Spanish form with need, time and address: the Spanish access question, no qué/cuándo/dónde');
create temp table tb_es as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15553330105', true,
  'Hola, tengo una fuga de agua, lo antes posible por favor') as lead;
select is((select body from public.messages where lead_id = (select lead from tb_es) and kind = 'text_back'),
          (select format('Hola %s, le escribe %s. ¡Gracias por su solicitud! ¿Dónde es el trabajo (dirección o zona)? Responda STOP para no recibir más mensajes (Reply STOP to opt out).',
                         private.first_name(ld.name), b.name)
             from public.leads ld, public.businesses b where ld.id = (select lead from tb_es) and b.id = (select id from b)),
          'Spanish, need and urgency: only dónde is asked, in Spanish');
select is(private.text_back_asks('el lunes'), '{need,location}', 'Spanish, time only: asks qué and dónde, not cuándo');
select is(private.text_back_asks('Calle Ocho 123'), '{need,timing}', 'Spanish, address only: asks qué and cuándo, not dónde');
select is((select count(distinct body)::int
             from (select l.locale,
                          private.render_sms('text_back', l.locale, jsonb_build_object('first_name', 'Dana', 'business', 'Acme',
                            'question', private.render_sms('text_back.question', l.locale, '{}', private.text_back_asks(m.message)))) as body
                     from (values ('en'), ('es')) l(locale),
                          (values ('Hi'), ('Tomorrow 9am'), ('Austin 78704'), ('Friday 3pm, 78704'), ('Water heater is leaking in the basement'),
                                  ('Water heater leaking at 1420 Elm St'), ('Water heater leaking, come tomorrow'),
                                  ('Water heater leaking, come tomorrow, 78704')) m(message)) b
            where b.body ~ case when b.locale = 'es' then '\? Responda STOP para no recibir más mensajes \(Reply STOP to opt out\)\.$'
                                else '\? Reply STOP to opt out\.$' end),
          16, 'each of the eight what/when/where combinations gets its own text, en and es, each ending with a question and the STOP line');

-- What counts as saying when / where. A hit means the question is skipped, so look-alikes must not count.
select is(array(select m from unnest(array['tomorrow morning', 'ASAP', 'this weekend', 'Friday', 'evenings are best', 'at 3pm', '3 p.m.',
                                           'around 10:30', 'Dec 5th', '12/5/2026', 'hoy', 'mañana por la tarde', 'el viernes',
                                           'lo antes posible', 'la próxima semana', 'fin de semana', '15 de diciembre']) m
                 where not private.message_states_timing(m)),
          '{}'::text[], 'timing cues in English and Spanish are recognised');
select is(array(select m from unnest(array['call me', 'Please call me back about a quote', 'need 3/4 inch pipe replaced', 'I may need help',
                                           'may 5 people help?', 'holiday lights', '5 amps breaker', 'I am 5']) m
                 where private.message_states_timing(m)),
          '{}'::text[], 'call me, a pipe size, may, holiday or amps are not timing cues');
select is(array(select m from unnest(array['78704', 'Austin TX 78704-1234', '1420 Elm St', '22 N Lamar Blvd', '9 Oak Hollow Drive',
                                           'Calle Ocho 123', 'avenida Juárez #45']) m
                 where not private.message_states_location(m)),
          '{}'::text[], 'a ZIP, a street address and calle/avenida with a number are recognised');
select is(array(select m from unnest(array['Suite 5', 'Apt 12', 'Unit 12000 BTU AC not cooling', '$12000 budget', 'call 512-555-1234',
                                           'order 12345678', '2 doors on the way', 'en la calle', 'Water heater is leaking in the basement']) m
                 where private.message_states_location(m)),
          '{}'::text[], 'a suite alone, a BTU rating, a price, a phone number or "on the way" are not locations');


select * from finish();
rollback;
