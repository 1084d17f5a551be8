-- SMS copy: the wording table is complete in both languages, the renderer fills it safely, and the one
-- language detector decides en/es for form messages and replies alike.
begin;
\ir _helpers.psql
select plan(27);

-- the table
select is((select count(*)::int from (select key, asks from private.sms_copy group by key, asks having count(distinct locale) <> 2) missing), 0,
          'every wording exists in English and in Spanish');
select is((select count(*)::int from private.sms_copy where key in ('text_back', 'nudge') and body !~ 'Reply STOP to opt out'), 0,
          'every text that can start a thread carries "Reply STOP to opt out" (Spanish ones too)');
select is((select array_agg(distinct array_to_string(asks, ',') order by array_to_string(asks, ',')) from private.sms_copy where key = 'text_back.question' and locale = 'en'),
          array['constraints', 'location', 'need', 'need,location', 'need,timing', 'need,timing,location', 'timing', 'timing,location'],
          'the first text has a question for each combination of what the form left out');
select is((select array_agg(array_to_string(asks, ',') order by asks) from private.sms_copy where key = 'question' and locale = 'es'),
          array['location', 'need', 'timing'], 'the engine''s questions ask one slot each');
select throws_ok($$insert into private.sms_copy (key, locale, audience, body) values ('x', 'en', 'lead', 'Hi {first_name}')$$, '23514', null,
                 'a wording with {first_name} must come with its no-name form');

-- the renderer
select is(private.render_sms('help', 'en', '{"business": "Acme"}'),
          'Acme: we text you about the service request you sent us. Msg & data rates may apply. Reply STOP to opt out.', 'placeholders are filled');
select is(private.render_sms('closing.slots_filled', 'en', '{"business": "Acme", "first_name": "Dana"}'),
          'Thanks Dana! Acme has what they need and will get back to you shortly.', 'the first name is used when known...');
select is(private.render_sms('closing.slots_filled', 'es', '{"business": "Acme", "first_name": null}'),
          '¡Gracias! Acme ya tiene lo que necesita y le contactará pronto.', '...and the no-name form when it is not');
select is(private.render_sms('owner_alert', 'en', jsonb_build_object('business', 'Acme', 'name', '{phone}', 'phone', '+15551230000',
            'message', 'call {text_link}', 'source', 'https://x.example', 'call_link', 'tel:+15551230000', 'text_link', 'sms:+15551230000')),
          E'New lead for Acme: {phone} +15551230000\ncall {text_link}\nPage: https://x.example\nCall: tel:+15551230000\nText: sms:+15551230000',
          'one pass: a lead''s text that looks like a placeholder stays as typed');
select is(private.render_sms('question', 'en', '{}', '{location}'), 'What''s the address or ZIP code for the job?', 'variants are chosen by what they ask');
select is(private.render_sms('text_back.question', 'es', '{}', '{location,timing}'),
          '¡Gracias por su solicitud! ¿Para cuándo lo necesita y dónde (dirección o zona)?', '...in any order');
select throws_ok($$select private.render_sms('help', 'en', '{}')$$, '22023', 'SMS copy "help" needs business', 'a missing placeholder is an error');
select throws_ok($$select private.render_sms('question', 'en', '{}', '{need,timing}')$$, '22023', null, 'an unknown variant is an error');
select throws_ok($$select private.render_sms('nope', 'fr', '{}')$$, '22023', null, 'unknown copy is an error');

-- first names
select is(private.first_name('  Dana  Smith '), 'Dana', 'the first word of the name');
select is(private.first_name('123 456'), null, 'no letters: no first name (the no-name form is used)');

-- one language detector
select is(private.detect_locale('Hola, necesito reparar una fuga de agua en mi casa', 'en'), 'es', 'a Spanish form message is Spanish');
select is(private.detect_locale('Kitchen sink is leaking under the cabinet', 'es'), 'en', 'an English one is English, whatever the default');
select is(private.detect_locale('sí, mañana', 'en'), 'es', 'two Spanish words are enough');
select is(private.detect_locale('tomorrow morning please', 'es'), 'en', 'three English words too');
select is(private.detect_locale('78745', 'es'), 'es', 'a text without language signal keeps the current locale');
select is(private.detect_locale(null, 'es'), 'es', 'so does no text at all');
select is(private.detect_locale('¿Cuándo?', 'en'), 'es', 'Spanish punctuation and accents count');
select is(private.detect_locale('Hola, mañana por la tarde si se puede', 'en'), 'es', 'a Spanish reply');

-- nobody reads or renders copy through the API
select ok(not has_table_privilege('anon', 'private.sms_copy', 'select') and not has_table_privilege('authenticated', 'private.sms_copy', 'select'),
          'the copy table is not readable by the API roles');
select ok(not has_function_privilege('authenticated', 'private.render_sms(text, text, jsonb, text[], uuid)', 'execute'),
          'the renderer is not callable by users');
select ok(not has_function_privilege('anon', 'private.detect_locale(text, text)', 'execute'), 'nor the detector by anon');

select * from finish();
rollback;
