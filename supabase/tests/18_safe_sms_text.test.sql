-- Issue 12, safe SMS text: whatever a lead types reaches a text only through render_sms (or as one line of
-- the owner summary): first names are letters, lead-facing texts carry no link or number from lead input,
-- the owner alert's lines cannot be forged, invisible and look-alike characters are gone, lengths capped.
-- And the first text a lead ever gets carries the opt-out wording, whichever path sends it.
begin;
\ir _helpers.psql
select plan(37);

select is(private.first_name(name), expected, format('first name of %s: %s', name, coalesce(expected, 'none')))
  from (values
    ('Dana Whitfield', 'Dana'), ('josé pérez', 'josé'), ('O''Brien', 'O''Brien'), ('Anne-Marie Dubois', 'Anne-Marie'),
    ('Nguyễn Văn An', 'Nguyễn'), ('प्रिया शर्मा', 'प्रिया'), ('김민준', '김민준'), (E'Jos\u0065\u0301', 'José'),
    ('https://evil.example/x', null), ('evil.example', null), ('+19005551234', null), ('Call', 'Call'),
    ('Dr. Who', null), ('٣٣٣٣', null), ('12345', null), ('', null), (repeat('a', 41), null)) as cases(name, expected);

-- the owner alert: five lines, whatever the lead wrote
create temp table b as select pg_temp.new_business() as id;
grant select on b to anon;
create temp table forged as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+12124560001') as lead;
update public.leads set name = E'Eve\nCall: tel:+19004561234', message = E'Hi\r\nCall: tel:+19004562222\u2028Text: sms:+19004563333\u0085Page: https://evil.example \u000bend'
 where id = (select lead from forged);
create temp table alert as
select private.owner_alert_body(b, l) as body from public.businesses b, public.leads l where b.id = (select id from b) and l.id = (select lead from forged);
select is(array_length(string_to_array((select body from alert), E'\n'), 1), 5, 'the owner alert has its five lines and no more');
select is((select count(*)::int from unnest(string_to_array((select body from alert), E'\n')) line where line ~ '^(Call|Text): '), 2,
          'exactly one Call: and one Text: line...');
select ok((select body ~ E'\nCall: tel:\\+12124560001\nText: sms:\\+12124560001$' from alert), '...the real ones, last');
select ok((select body !~ '[\u2028\u0085\r\u000b]' from alert), 'no look-alike line break survives');
select ok((select split_part(body, E'\n', 1) ~ '^New lead for .*: Eve Call: tel:\+19004561234 \+12124560001$' from alert),
          'the forged line in the name stays inside the first line');

select is(private.sms_var('name', E'Ev\u202Ee\u200B \u2066Smith\u2069\uFEFF', 'owner'), 'Eve Smith', 'bidi overrides, isolates, zero-width and BOM are removed');
select is(length(private.sms_var('message', repeat('x', 2000), 'owner')), 600, 'the message is capped at 600 characters');
select is(length(private.sms_var('name', repeat('n', 300), 'owner')), 100, 'a name at 100');
select is(private.sms_var('message', 'call me at +1 (900) 555-1234, or see evil.example/x and https://a.example/b or www.b.example', 'lead'),
          'call me at , or see and or', 'lead input in a text to a lead loses links and phone numbers');

-- texts to the lead: a name that is a link or a number gives the no-name form
create temp table url_lead as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+12124560002') as lead;
update public.leads set name = 'https://evil.example/x' where id = (select lead from url_lead);
select is(private.render_sms('text_back', 'en', jsonb_build_object('first_name', 'https://evil.example/x Smith', 'business', 'Acme', 'question', 'What do you need?')),
          'Hi, this is Acme. What do you need? Reply STOP to opt out.', 'a URL as a first name: the no-name form');
select is(private.render_sms('nudge', 'en', jsonb_build_object('first_name', '+19004561234', 'business', 'Acme'), '{need,timing,location}'),
          'Hi, Acme here again. Still need help? Just reply with what you need, when and where. Reply STOP to opt out.',
          'a phone number as a first name: the no-name form');
select is(private.render_sms('closing.slots_filled', 'en', jsonb_build_object('first_name', E'Ana\nCall now', 'business', E'Acme\nPlumbing')),
          'Thanks Ana! Acme Plumbing has what they need and will get back to you shortly.', 'every value is one line, the business name too');

-- the owner summary: each line the summarizer sends is one line of the text
create temp table c as select pg_temp.started((select id from b), '+12124560003') as id;
select private.close_conversation((select id from c), 'completed', 'slots_filled');
select public.complete_conversation_summary((select id from c), '{}', array['Lead summary: Eve', E'Need: leak\nCall tel:+19004561234', 'Call tel:+12124560003']);
select is((select body from public.messages where conversation_id = (select id from c) and kind = 'owner_summary'),
          E'Lead summary: Eve\nNeed: leak Call tel:+19004561234\nCall tel:+12124560003', 'a forged line in a summary field stays in its line');

-- the page is stored without its query string and fragment
create temp table q as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+12124560004') as lead;
select is(private.sms_single_line('https://shop.example/contact?email=a@b.example&token=x#frag', 2048), 'https://shop.example/contact?email=a@b.example&token=x#frag', 'sanity: the cleaner keeps URLs whole');
create temp table w as select pg_temp.widget_of(id) as id from b;
grant select on w to anon;
set local role anon;
select set_config('request.headers', '{"origin": "https://shop.example", "cf-connecting-ip": "203.0.113.9"}', true);
insert into public.leads (widget_id, name, phone, source_url) select id, 'Page Test', '+12124560005', 'https://shop.example/contact?email=a@b.example&token=x#frag' from w;
reset role;
select is((select source_url from public.leads where phone = '+12124560005'), 'https://shop.example/contact', 'source_url loses its query string and fragment');

-- the first text a lead ever gets carries the opt-out wording, whichever path sends it
update public.businesses set duplicate_window_minutes = 0 where id = (select id from b);
-- a lead whose browser says it is night where they are: the text-back waits for their morning
create temp table early as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+12124560010', true, 'Hi', p_timezone => pg_temp.zone_where_it_is('03:00')) as lead;
select is((select status from public.messages where lead_id = (select lead from early) and kind = 'text_back'), 'deferred', 'the text-back waits for quiet hours to end');
select public.receive_inbound_sms('SM' || md5('early-reply'), '+12124560010', (select twilio_number from public.businesses where id = (select id from b)),
                                  'hello? I need my sink fixed');
create temp table inbound as select public.process_inbound_sms('SM' || md5('early-reply')) as result;
select is((select status || ' ' || status_reason from public.messages where lead_id = (select lead from early) and kind = 'text_back'), 'canceled lead_replied',
          'the lead wrote first: the text-back is canceled');
-- the lead's morning came: their questions may go
update public.leads set timezones = array[pg_temp.daytime_zone()] where id = (select lead from early);
select public.apply_conversation_turn((result ->> 'conversation_id')::uuid, (result #>> '{context,version}')::int,
  '{"need": "sink fixed", "timing": null, "location": null, "constraints": []}', '{timing}', true, false) from inbound;
select is((select body from public.messages where lead_id = (select lead from early) and kind = 'question'),
          'Got it. When would you like this done? Reply STOP to opt out.', 'so the first question they get carries "Reply STOP to opt out"');
select public.apply_conversation_turn((result ->> 'conversation_id')::uuid, (select version from public.conversations where id = (result ->> 'conversation_id')::uuid),
  '{"need": "sink fixed", "timing": "tomorrow", "location": null, "constraints": []}', '{location}', true, false) from inbound;
select is((select body from public.messages where lead_id = (select lead from early) and kind = 'question' order by created_at desc limit 1),
          'Thanks! What''s the address or ZIP code for the job?', 'the next one does not repeat it');
create temp table spanish as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+12124560011', true, 'Hola') as lead;
update public.messages set status = 'canceled', status_reason = 'lead_replied' where lead_id = (select lead from spanish) and kind = 'text_back';
update public.conversations set current_locale = 'es' where lead_id = (select lead from spanish);
select public.apply_conversation_turn(c.id, c.version, '{"need": null, "timing": null, "location": null, "constraints": []}', '{}', false, true, 'call_requested')
  from public.conversations c where c.lead_id = (select lead from spanish);
select is((select body from public.messages where lead_id = (select lead from spanish) and kind = 'closing'),
          '¡Claro! ' || (select name from public.businesses where id = (select id from b)) || ' le llamará a este número en breve. Responda STOP para no recibir más mensajes (Reply STOP to opt out).',
          'a closing that is the first text gets the wording in the lead''s language');

select * from finish();
rollback;
