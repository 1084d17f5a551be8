-- The conversation engine's turns: the context it reads, one version-guarded turn, the question it asks
-- rendered in the conversation's language with what it asks recorded, completion and its closing text.
begin;
\ir _helpers.psql
select plan(32);

create temp table b as select pg_temp.new_business() as id;
create temp table biz as select * from public.businesses where id = (select id from b);
create function pg_temp.version(p_conversation uuid) returns int
language sql as $$ select version from public.conversations where id = p_conversation $$;

create temp table c as select pg_temp.started((select id from b), '+15558880001') as id;
select is(pg_temp.state((select id from c)), 'awaiting_reply', 'pending -> awaiting_reply when the text-back is sent');
select x.inbound_result from (select pg_temp.inbound('SM20000000000000000000000000000001', '+15558880001', (select twilio_number from biz), 'A leaking pipe') as inbound_result) x;
select is(pg_temp.state((select id from c)), 'active', 'awaiting_reply -> active when the lead replies');

-- the context
create temp table ctx as select public.get_conversation_context((select id from c)) as j;
select is((select j ->> 'locale' from ctx), 'en', 'the context carries the conversation''s locale');
select is((select j #> '{transcript,0,asks}' from ctx), '["timing", "location"]'::jsonb, 'each text in the transcript says what it asked');
select is((select j #>> '{transcript,-1,body}' from ctx), 'A leaking pipe', 'the transcript ends with the reply');
select is((select j #>> '{lead,phone}' from ctx), '+15558880001', 'and the lead');
select is(public.get_conversation_context(gen_random_uuid()), null, 'an unknown conversation has no context');

-- a question
create temp table v as select pg_temp.version((select id from c)) as v;
create temp table r1 as select public.apply_conversation_turn((select id from c), (select v from v),
  '{"need": "leaking pipe", "timing": null, "location": null, "constraints": []}', '{timing}', true, false, null) as r;
select is((select r - 'message_id' from r1), jsonb_build_object('applied', true, 'version', (select v from v) + 1), 'a turn with the version read is applied');
select is((select slots ->> 'need' from public.conversations where id = (select id from c)), 'leaking pipe', 'its slots are stored');
select is((select question_count from public.conversations where id = (select id from c)), 1, 'the question is counted');
select is((select status || ' ' || body || ' ' || asks::text from public.messages where id = ((select r from r1) ->> 'message_id')::uuid),
          'queued Got it. When would you like this done? {timing}', 'the question is rendered from the copy and records what it asks');
select is(public.apply_conversation_turn((select id from c), (select v from v), '{"need": "other"}', '{location}', false, false, null),
          jsonb_build_object('applied', false, 'version', (select v from v) + 1), 'a turn with a stale version changes nothing');
select is((select slots ->> 'need' from public.conversations where id = (select id from c)), 'leaking pipe', '...the slots are untouched');
select is((select count(*)::int from public.messages where conversation_id = (select id from c) and kind = 'question'), 1, '...and nothing is sent');

-- bad turns
select throws_ok($$select public.apply_conversation_turn((select id from c), 1, '[]', '{}', false, false, null)$$, '22023', null, 'slots must be an object');
select throws_ok($$select public.apply_conversation_turn((select id from c), 1, '{}', '{need,timing}', false, false, null)$$, '22023', null, 'a question asks one slot');
select throws_ok($$select public.apply_conversation_turn((select id from c), 1, '{}', '{weather}', false, false, null)$$, '22023', null, 'a slot the engine knows');
select throws_ok($$select public.apply_conversation_turn((select id from c), 1, '{}', '{}', false, true, 'bored')$$, '22023', null, 'an unknown completion reason is refused');
select throws_ok($$select public.apply_conversation_turn((select id from c), 1, '{}', '{need}', false, true, 'slots_filled')$$, '22023', null,
                 'a completing turn cannot ask');
update public.businesses set max_questions = 1 where id = (select id from b);
select is(public.apply_conversation_turn((select id from c), (select v from v) + 1, '{}', '{location}', false, false, null) ->> 'applied', 'false',
          'no question beyond the business''s max_questions');

-- completion
select is(public.apply_conversation_turn((select id from c), (select v from v) + 1,
          '{"need": "leaking pipe", "timing": "tomorrow 9am", "location": "12 Oak St", "constraints": ["dog in yard"]}', '{}', false,
          true, 'slots_filled') ->> 'applied', 'true', 'a completing turn is applied');
select is(pg_temp.state((select id from c)), 'completed/slots_filled', 'active -> completed with its reason');
select is((select summary_status from public.conversations where id = (select id from c)), 'due', 'completion makes the summary due');
select is((select body from public.messages where conversation_id = (select id from c) and kind = 'closing'),
          (select format('Thanks %s! %s has what they need and will get back to you shortly.', private.first_name(l.name), b.name)
             from public.conversations c join public.leads l on l.id = c.lead_id join public.businesses b on b.id = c.business_id where c.id = (select id from c)),
          'the closing text thanks the lead by name');
select is(public.apply_conversation_turn((select id from c), pg_temp.version((select id from c)), '{}', '{}', false, false, null) ->> 'applied', 'false',
          'a completed conversation takes no more turns');

-- in the lead's language
update public.businesses set max_questions = 3 where id = (select id from b);
create temp table es as select pg_temp.started((select id from b), '+15558880009', 'Hola, tengo una fuga de agua') as id;
select is((select current_locale from public.conversations where id = (select id from es)), 'es', 'a Spanish form message starts a Spanish conversation');
select pg_temp.inbound('SM20000000000000000000000000000009', '+15558880009', (select twilio_number from biz), 'mañana por la tarde');
select is((public.apply_conversation_turn((select id from es), pg_temp.version((select id from es)), '{"need": "fuga", "timing": "mañana"}', '{location}',
           true, false, null) ->> 'applied'), 'true', 'a Spanish turn is applied');
select is((select body from public.messages where conversation_id = (select id from es) and kind = 'question'),
          '¡Gracias! ¿Cuál es la dirección o el código postal del trabajo?', 'its question is in Spanish');
create temp table ni as select pg_temp.inbound('SM20000000000000000000000000000010', '+15558880009', (select twilio_number from biz), 'not interested anymore, thanks') as result;
select is((select result ->> 'outcome' from ni), 'not_interested', 'the lead''s "not interested" is decided by the database, before any engine turn');
select is(pg_temp.state((select id from es)), 'completed/not_interested', 'it completes the conversation');
select is((select body from public.messages where conversation_id = (select id from es) and kind = 'opt_out_ack'),
          'Understood, thanks for letting us know. We won''t text you about this request again.', '...with the closing in English, the language of that reply');

set local role authenticated;
select throws_ok($$select public.get_conversation_context(gen_random_uuid())$$, '42501', null, 'users cannot read a conversation context');
reset role;

select * from finish();
rollback;
