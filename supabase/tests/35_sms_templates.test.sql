-- Issue 9 item 5: a business's own wording of its texts. Owners save and reset it, members list and preview
-- it, nobody else; a draft that would break a text (unknown or missing placeholders, no opt-out wording,
-- forged lines) is refused with the reason; the preview is the real renderer's output, and what is saved is
-- what the next text says.
begin;
\ir _helpers.psql
select plan(27);
select pg_temp.two_businesses();
create temp table q as select private.render_sms('text_back.question', 'en', '{}', '{need,timing,location}') as question;
grant select on q to authenticated;

select pg_temp.as_user((select owner_a from ids));
select is((select count(*)::int from public.sms_template_list((select business_a from ids))), 8, 'sms_template_list: four texts in two languages');
select is((select body from public.sms_template_list((select business_a from ids)) where key = 'text_back' and locale = 'en'), null,
          '...none of them reworded yet');
select ok((select placeholders @> '{business,first_name,question}' and required = '{business,question}' and needs_opt_out
             from public.sms_template_list((select business_a from ids)) where key = 'text_back' and locale = 'en'),
          '...each with what it may use and must keep');

-- preview: the real renderer, sample data, both name forms
select is(public.preview_sms_template((select business_a from ids), 'text_back', 'en',
            'Hey {first_name}! {business} got your request. {question} Reply STOP to opt out.',
            'Hey! {business} got your request. {question} Reply STOP to opt out.') - 'text' - 'text_without_name',
          '{"problem": null}'::jsonb, 'preview_sms_template: a valid draft has no problem');
select is(public.preview_sms_template((select business_a from ids), 'text_back', 'en',
            'Hey {first_name}! {business} got your request. {question} Reply STOP to opt out.',
            'Hey! {business} got your request. {question} Reply STOP to opt out.') ->> 'text',
          'Hey Maria! ' || (select name from public.businesses where id = (select business_a from ids)) || ' got your request. '
            || (select question from q) || ' Reply STOP to opt out.',
          '...rendered with a sample lead and the real question');
select matches(public.preview_sms_template((select business_a from ids), 'text_back', 'en',
            'Hey {first_name}! {business} got your request. {question} Reply STOP to opt out.',
            'Hey! {business} got your request. {question} Reply STOP to opt out.') ->> 'text_without_name',
          '^Hey! ', '...and in its no-name form');
select matches(public.preview_sms_template((select business_a from ids), 'owner_alert', 'en', E'LEAD {name} {phone}\n{message}\nCall {call_link}') ->> 'text',
               E'^LEAD Maria Lopez \\+14155550123\nLeak under the kitchen sink', 'the owner alert previews with a sample lead');

select is(public.preview_sms_template((select business_a from ids), 'owner_summary_fallback', 'es', E'{name} {phone}: {need} / {timing} / {location}') ->> 'text',
          'Maria Lopez +14155550123: reparar una fuga en la cocina / mañana por la mañana / 94110', 'the plain summary previews in Spanish too');

-- refusals, in words
select is(public.preview_sms_template((select business_a from ids), 'text_back', 'en', 'Hi from {business}. {question} {coupon} Reply STOP to opt out.') ->> 'problem',
          'the text uses {coupon}, which leadloop cannot fill: use {business}, {first_name}, {question}', 'an unknown placeholder is named');
select is(public.preview_sms_template((select business_a from ids), 'text_back', 'en', 'Hi from {business}. Reply STOP to opt out.') ->> 'problem',
          'the text must keep {question}', 'a required placeholder must stay');
select is(public.preview_sms_template((select business_a from ids), 'nudge', 'en', 'Still need help? {business}') ->> 'problem',
          'the text must tell the lead how to opt out: keep "Reply STOP to opt out" (carriers require it)', 'texts to leads must say how to opt out');
select is(public.preview_sms_template((select business_a from ids), 'nudge', 'en', 'Hi {first_name}, {business} here. Reply STOP to opt out.') ->> 'problem',
          'this wording uses {first_name}: also write the version for a lead whose first name is unknown', 'a name needs a no-name form');
select is(public.preview_sms_template((select business_a from ids), 'nudge', 'en', E'{business} here.\nCall: tel:+19005550100 Reply STOP to opt out.') ->> 'problem',
          'the text must be one paragraph (no line breaks)', 'a text to a lead cannot carry forged lines');
select is(public.preview_sms_template((select business_a from ids), 'help', 'en', '{business}') ->> 'problem',
          '"help" is not a text you can reword', 'only the editable texts');
select throws_ok($$select public.set_sms_template((select business_a from ids), 'nudge', 'en', 'Still need help? {business}')$$, '22023',
                 'the text must tell the lead how to opt out: keep "Reply STOP to opt out" (carriers require it)', 'set_sms_template refuses what the preview refuses');

-- saved wording is what goes out
select lives_ok($$select public.set_sms_template((select business_a from ids), 'text_back', 'en',
                   'Hey {first_name}! {business} got your request. {question} Reply STOP to opt out.',
                   'Hey! {business} got your request. {question} Reply STOP to opt out.')$$, 'set_sms_template: an owner saves a wording');
select pg_temp.as_postgres();
create temp table lead as select pg_temp.submit((select widget_a from ids), pg_temp.random_phone()) as id;
select matches((select body from public.messages where lead_id = (select id from lead) and kind = 'text_back'),
               '^Hey Lead! .* got your request\. .* Reply STOP to opt out\.$', 'the next text-back uses it');
select matches((select body from public.messages m join public.leads l on l.id = m.lead_id
                 where l.widget_id = (select widget_b from ids) and m.kind = 'text_back' limit 1),
               '^Hi', 'another business keeps leadloop''s wording');
select is((select updated_by from public.sms_templates where business_id = (select business_a from ids) and key = 'text_back'),
          (select owner_a from ids), 'who changed it is recorded');

-- who may
select pg_temp.as_user((select staff_a from ids));
select ok((select count(*) from public.sms_template_list((select business_a from ids))) = 8
            and (select count(*) from public.sms_templates) = 1, 'staff read the wording and list');
select throws_ok($$select public.set_sms_template((select business_a from ids), 'text_back', 'es', 'Hola de {business}. {question} Reply STOP to opt out.')$$,
                 '42501', 'only an owner of this business can do this', 'set_sms_template: not staff');
select throws_ok($$select public.reset_sms_template((select business_a from ids), 'text_back', 'en')$$,
                 '42501', 'only an owner of this business can do this', 'reset_sms_template: not staff');
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select public.preview_sms_template((select business_a from ids), 'nudge', 'en', 'x')$$, '42501',
                 'only a member of this business can do this', 'preview_sms_template: not another business (its name would leak)');
select is((select count(*)::int from public.sms_templates), 0, 'sms_templates/select: not another business''s wording');
select pg_temp.as_user((select owner_a from ids));
select is(public.reset_sms_template((select business_a from ids), 'text_back', 'en'), true, 'reset_sms_template: back to leadloop''s wording');
set local role anon;
select throws_ok($$select public.sms_template_list((select business_a from ids))$$, '42501', null, 'sms_template_list: not anon');
select throws_ok($$select public.preview_sms_template((select business_a from ids), 'nudge', 'en', 'x')$$, '42501', null, 'preview_sms_template: not anon');
reset role;

select * from finish();
rollback;
