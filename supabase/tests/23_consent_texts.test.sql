-- Consent per language, checked when saved: each text names the business, says what the texts are about
-- or how often, "Msg & data rates may apply" and how to stop and get help, in its language (Spanish
-- equivalents accepted); the lead keeps the exact text of the language its form was shown in.
begin;
\ir _helpers.psql
select plan(17);

create temp table b as select pg_temp.new_business() as id;
create temp table biz as select * from public.businesses where id = (select id from b);
create temp table t as select
  format('I agree to receive texts from %s about my service request. Msg & data rates may apply. Reply STOP to opt out, HELP for help.', (select name from biz)) as en,
  format('Acepto recibir mensajes de %s sobre mi solicitud de servicio. Pueden aplicarse tarifas de mensajes y datos. Responda STOP para cancelar, HELP para ayuda.', (select name from biz)) as es;

select is(private.consent_text_problems((select en from t), 'en', (select name from biz)), '{}'::text[], 'a complete English text passes');
select is(private.consent_text_problems((select es from t), 'es', (select name from biz)), '{}'::text[], 'a complete Spanish text passes in Spanish');
select is(private.consent_text_problems(replace((select es from t), 'Pueden aplicarse tarifas de mensajes y datos', 'Msg & data rates may apply'), 'es', (select name from biz)),
          '{}'::text[], 'Spanish may use the English rates phrase');
select is(cardinality(private.consent_text_problems((select es from t), 'en', (select name from biz))), 2,
          'the Spanish text does not pass as English (no purpose, no rates phrase in English)');
select is(private.consent_text_problems('I agree to receive texts about my service request. Msg & data rates may apply. Reply STOP to opt out, HELP for help.', 'en', 'Acme Plumbing'),
          array['name the business ("Acme Plumbing")'], 'without the business name');
select matches(array_to_string(private.consent_text_problems('I agree to receive texts from Acme Plumbing. Msg & data rates may apply. Reply STOP to opt out, HELP for help.', 'en', 'Acme Plumbing'), ' '),
               '^say what the texts are about or how often', 'without purpose or frequency');
select is(private.consent_text_problems('I agree to receive texts from Acme Plumbing. Message frequency varies. Msg & data rates may apply. Reply STOP to cancel, HELP for help.', 'en', 'Acme Plumbing'),
          '{}'::text[], '"Message frequency varies" says the frequency');
select is(private.consent_text_problems('I agree to receive texts from Acme Plumbing about my request. Reply STOP to opt out, HELP for help.', 'en', 'Acme Plumbing'),
          array['say "Msg & data rates may apply"'], 'without the rates phrase');
select matches(array_to_string(private.consent_text_problems('I agree to receive texts from Acme Plumbing about my request. Msg & data rates may apply. Reply STOP to opt out.', 'en', 'Acme Plumbing'), ' '),
               '^say how to stop and get help', 'without HELP');

-- checked when saved, every language at once
select throws_ok(format($$update public.widgets set consent_texts = jsonb_build_object('es', 'Acepto recibir mensajes de texto de la empresa. Responda STOP para cancelar.')
                          where business_id = %L$$, (select id from b)), '23514',
                 null, 'a Spanish text that lacks things is refused when saved');
select throws_like(format($$update public.widgets set consent_text = 'I agree to receive text messages from somebody. Reply STOP to opt out.' where business_id = %L$$, (select id from b)),
                   '%consent_text must name the business%HELP for help%', 'the error names every problem, in words an owner can act on');
select throws_ok(format($$update public.widgets set consent_texts = '{"fr": "Je veux bien recevoir des SMS de votre entreprise, STOP pour arreter."}' where business_id = %L$$, (select id from b)),
                 '23514', null, 'only en and es texts are kept');
select lives_ok(format($$update public.widgets set consent_text = %L, consent_texts = jsonb_build_object('en', %L, 'es', %L) where business_id = %L$$,
                       (select en from t), (select en from t), (select es from t), (select id from b)),
                'complete English and Spanish texts are saved');

-- what the form shows, and what the lead keeps
select is(public.get_widget_config(pg_temp.widget_of((select id from b))) -> 'consent_texts', jsonb_build_object('en', (select en from t), 'es', (select es from t)),
          'the embed gets the text of each language');
create temp table es_lead as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556662001', p_locale => 'es') as id;
select is((select consent_text from public.leads where id = (select id from es_lead)), (select es from t),
          'a lead who ticked the box on the Spanish form keeps the Spanish text it was shown');
create temp table en_lead as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556662002') as id;
select is((select consent_text from public.leads where id = (select id from en_lead)), (select en from t),
          'a form whose language was not sent shows, and keeps, the business''s default');
select throws_like(format($$select pg_temp.submit(%L, '+15556662003', p_locale => 'fr')$$, pg_temp.widget_of((select id from b))),
                   'locale: the form language must be en or es.', 'an unknown form language is refused clearly');

select * from finish();
rollback;
