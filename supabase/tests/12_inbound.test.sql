-- Inbound SMS: stored raw first (one row per MessageSid), then processed once; STOP/START/HELP, opt-in words
-- only for an opted-out number, wrong number and not interested, the ambiguous question, replies and their
-- language, confirmations checked against the current opt-out state, and the sweep's retry of what failed.
begin;
\ir _helpers.psql
select plan(65);

create temp table b as select pg_temp.new_business() as id;
create temp table biz as select * from public.businesses where id = (select id from b);
create temp table l as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15557770001') as lead;
create temp table conv as select id from public.conversations where lead_id = (select lead from l);

create function pg_temp.text_in(p_sid text, p_from text, p_body text, p_type text default null) returns jsonb
language sql as $$ select pg_temp.inbound(p_sid, p_from, (select twilio_number from biz), p_body, p_type) $$;

-- raw first: receiving stores the message and nothing else
select is(public.receive_inbound_sms('SM10000000000000000000000000000001', '+15557770001', '+15550000000', 'hi'),
          '{"stored": true, "processed": false}'::jsonb, 'receive stores a new message, unprocessed');
select is(public.receive_inbound_sms('SM10000000000000000000000000000001', '+15557770001', '+15550000000', 'hi again'),
          '{"stored": false, "processed": false}'::jsonb, 'the same MessageSid again stores nothing (one INSERT decides)');
select is((select body from private.inbound_sms where message_sid = 'SM10000000000000000000000000000001'), 'hi', 'the first body is kept');
select is(public.process_inbound_sms('SM10000000000000000000000000000001') ->> 'outcome', 'unknown_number', 'a text to a number no business owns is processed as such');
select is((select count(*)::int from public.messages where twilio_sid = 'SM10000000000000000000000000000001'), 0, '...and not put in any transcript');
select throws_ok($$select public.process_inbound_sms('SM1000000000000000000000000000ffff')$$, 'P0002', null, 'processing a message never received is an error');
select throws_ok($$select public.receive_inbound_sms('short', '+15557770001', '+15550000000', 'hi')$$, '22023', null, 'a malformed MessageSid is refused');

-- a reply in the open conversation
create temp table r1 as select pg_temp.text_in('SM10000000000000000000000000000002', '+15557770001', 'Tomorrow morning, 12 Oak Street') as result;
select is((select result ->> 'outcome' from r1), 'reply', 'a lead''s answer is a reply');
select is((select (result ->> 'conversation_id')::uuid from r1), (select id from conv), 'in their open conversation');
select is((select result #>> '{context,lead,phone}' from r1), '+15557770001', 'with the context the engine needs');
select is((select result #>> '{context,transcript,-1,body}' from r1), 'Tomorrow morning, 12 Oak Street', 'the transcript ends with the reply (oldest first)');
select is((select status || ' ' || turn_count from public.conversations where id = (select id from conv)), 'active 1', 'the conversation is active with one turn');
select is((select outcome || ' ' || (processed_at is not null) || ' ' || (message_id is not null) from private.inbound_sms where message_sid = 'SM10000000000000000000000000000002'),
          'reply true true', 'the raw row records its outcome and its transcript row');
create temp table r_es as select pg_temp.text_in('SM1000000000000000000000000000000a', '+15557770001', 'Sí, mañana por la mañana') as result;
select is((select result #>> '{context,locale}' from r_es), 'es', 'a Spanish reply switches the conversation to Spanish...');
select is((select current_locale from public.conversations where id = (select id from conv)), 'es', '...and it is stored for the next text');
select is((select result #>> '{context,locale}' from pg_temp.text_in('SM1000000000000000000000000000000b', '+15557770001', '78704') as result), 'es',
          'a reply without language signal keeps it');
select is((select next_action_at from public.conversations where id = (select id from conv)), now() + interval '1440 minutes', 'idle completion is scheduled');
select is((select status || ' ' || status_reason from public.messages where conversation_id = (select id from conv) and kind = 'text_back'), 'canceled lead_replied',
          'a reply before the text-back went out cancels the waiting text-back');
select is(pg_temp.text_in('SM10000000000000000000000000000002', '+15557770001', 'Tomorrow morning, 12 Oak Street') ->> 'outcome', 'duplicate',
          'the same MessageSid again is a duplicate');
select is((select count(*)::int from public.messages where twilio_sid = 'SM10000000000000000000000000000002'), 1, '...stored once');
select is((select turn_count from public.conversations where id = (select id from conv)), 3, '...and counted once (three distinct replies so far)');

-- "Yes" to a nudge is an answer: opt-in words act only for a number that is opted out
insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status, send_after)
select (select id from b), (select lead from l), (select id from conv), 'outbound', 'nudge', '+15557770001', (select twilio_number from biz), 'Still need help?', 'deferred', now() + interval '1 hour';
create temp table yes1 as select pg_temp.text_in('SM1000000000000000000000000000000c', '+15557770001', 'Yes') as result;
select is((select result ->> 'outcome' from yes1), 'reply', '"Yes" from a number that is not opted out is a reply');
select is((select result ->> 'matched_rule' from yes1), 'keyword:YES (not opted out: a reply)', '...and the rule says why it did not opt in');
select is((select status || ' ' || status_reason from public.messages where conversation_id = (select id from conv) and kind = 'nudge'), 'canceled lead_replied',
          '...it advances the conversation and cancels the waiting nudge');
select is(pg_temp.text_in('SM1000000000000000000000000000000d', '+15557770001', 'START') ->> 'outcome', 'reply', 'START from a number that is not opted out is a reply too');

-- HELP
-- (back to English: HELP is answered in the conversation's language)
update public.conversations set current_locale = 'en' where id = (select id from conv);
select is(pg_temp.text_in('SM10000000000000000000000000000003', '+15557770001', 'HELP') ->> 'outcome', 'help', 'HELP is answered');
select matches((select body from public.messages where kind = 'help' and to_phone = '+15557770001'),
               (select name from biz) || '.*Msg & data rates may apply\. Reply STOP to opt out\.', 'with business name, rates and STOP wording');

-- an ambiguous text gets one clarifying question and no turn
create temp table a1 as select pg_temp.text_in('SM1000000000000000000000000000000e', '+15557770001', 'can you stop') as result;
select is((select (result ->> 'outcome') || ' ' || (result ->> 'matched_rule') from a1), 'ambiguous ambiguous:stop word', '"can you stop" is ambiguous');
select is((select count(*)::int from public.messages where kind = 'clarify' and to_phone = '+15557770001'), 1, 'one clarifying question is queued...');
select matches((select body from public.messages where kind = 'clarify' and to_phone = '+15557770001'), 'Reply STOP to stop texts from ' || (select name from biz),
               '...asking the lead to reply STOP');
select is(pg_temp.text_in('SM1000000000000000000000000000000f', '+15557770001', 'who is this?') ->> 'outcome', 'ambiguous', 'a second ambiguous text...');
select is((select count(*)::int from public.messages where kind = 'clarify' and to_phone = '+15557770001'), 1, '...is not asked about again');
select is((select count(*)::int from public.opt_outs where phone = '+15557770001'), 0, 'an ambiguous text opts nobody out');

-- STOP, a START that races it, and START again
select public.apply_conversation_turn((select id from conv), (select version from public.conversations where id = (select id from conv)),
                                     '{"need": "leak"}', '{timing}', false, false, null);
create temp table queued_before as select id from public.messages where to_phone = '+15557770001' and status in ('queued', 'deferred') and kind not in ('help');
create temp table s1 as select pg_temp.text_in('SM10000000000000000000000000000004', '+15557770001', 'Stop. Thank you') as result;
select is((select result ->> 'outcome' from s1), 'opted_out', '"Stop. Thank you" opts out');
select is((select result ->> 'matched_rule' from s1), 'phrase:stop + courtesy', 'the matched rule is returned...');
select is((select source || ' ' || matched_rule from public.opt_outs where business_id = (select id from b) and phone = '+15557770001'), 'keyword phrase:stop + courtesy',
          '...and recorded on the opt-out');
select is((select status || '/' || completion_reason from public.conversations where id = (select id from conv)), 'opted_out/opted_out', 'the conversation ends as opted out');
select ok((select count(*) >= 2 and bool_and(status = 'canceled') from public.messages where id in (select id from queued_before)),
          'texts still waiting for the lead (the question, the clarifying question) are canceled');
select is((select count(*)::int from public.messages where kind = 'opt_out_ack' and to_phone = '+15557770001'), 1, 'one opt-out confirmation is queued');
select is((select confirmation_message_id from public.opt_outs where phone = '+15557770001' and business_id = (select id from b)),
          (select id from public.messages where kind = 'opt_out_ack' and to_phone = '+15557770001'), 'it is the opt-out''s own confirmation');
select is(pg_temp.text_in('SM10000000000000000000000000000005', '+15557770001', 'STOP') ->> 'outcome', 'opted_out', 'a second STOP is still an opt-out');
select is((select count(*)::int from public.messages where kind = 'opt_out_ack' and to_phone = '+15557770001'), 1, '...but gets no second confirmation');
select is(pg_temp.text_in('SM10000000000000000000000000000006', '+15557770001', 'Yes') ->> 'outcome', 'opted_in', '"Yes" from an opted-out number opts back in');
select is((select count(*)::int from public.opt_outs where business_id = (select id from b) and phone = '+15557770001'), 0, 'the suppression is lifted');
select ok((select opted_in_at = now() from private.opt_ins where business_id = (select id from b) and phone = '+15557770001'), 'and the opt-in time is remembered');
select matches((select body from public.messages where kind = 'opt_in_ack' and to_phone = '+15557770001'), 'subscribed again', 'the opt-in is confirmed');
create temp table s2 as select pg_temp.text_in('SM10000000000000000000000000000007', '+15557770001', 'STOP') as result;
create temp table claim_s as select * from public.claim_outbound_messages(500, 60) where to_phone = '+15557770001';
select is((select status || ' ' || status_reason from public.messages where kind = 'opt_in_ack' and to_phone = '+15557770001'), 'canceled opted_out',
          'a START confirmation that a later STOP overtook is canceled');
select is((select string_agg(body, ' | ') from claim_s where kind = 'opt_out_ack'),
          (select body from public.messages where dedupe_key = 'opt_out_ack:' || (select result ->> 'message_id' from s2)),
          'only the latest opt-out''s confirmation goes out');
select is((select status from public.messages where dedupe_key = 'opt_out_ack:' || (select result ->> 'message_id' from s1)),
          'canceled', 'the first opt-out''s confirmation, undone by the opt-in, is not sent after it');
select is(pg_temp.text_in('SM10000000000000000000000000000008', '+15557770001', 'Are you still coming?') ->> 'outcome', 'no_conversation',
          'a text from an opted-out number is stored with nothing to do');

-- a confirmation delayed past 5 minutes is not sent
insert into public.opt_outs (business_id, phone, source, matched_rule, created_at)
values ((select id from b), '+15557770050', 'keyword', 'keyword:STOP', now() - interval '6 minutes');
insert into public.messages (business_id, direction, kind, to_phone, from_phone, body, status)
values ((select id from b), 'outbound', 'opt_out_ack', '+15557770050', (select twilio_number from biz), 'late ack', 'queued');
update public.opt_outs set confirmation_message_id = (select id from public.messages where body = 'late ack') where phone = '+15557770050';
select count(*) from public.claim_outbound_messages(500, 60);
select is((select status || ' ' || status_reason from public.messages where body = 'late ack'), 'canceled confirmation_too_late',
          'an opt-out confirmation more than 5 minutes late is canceled');

-- wrong number and not interested: the conversation ends with its reason, the number is not texted again
create temp table w as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15557770060') as lead;
create temp table w1 as select pg_temp.text_in('SM10000000000000000000000000000009', '+15557770060', 'Sorry, wrong number') as result;
select is((select result ->> 'outcome' from w1), 'wrong_number', '"wrong number" is recognised');
select is((select status || '/' || completion_reason from public.conversations where lead_id = (select lead from w)), 'completed/wrong_number',
          'the conversation is completed as a wrong number (the owner gets its summary)');
select is((select source || ' ' || matched_rule from public.opt_outs where phone = '+15557770060' and business_id = (select id from b)), 'reply phrase:wrong number',
          'the number is on the do-not-text list, with why');
select matches((select body from public.messages where kind = 'opt_out_ack' and to_phone = '+15557770060'), 'We won''t text this number again',
               'the promise not to text again is the one confirmation');
create temp table n as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15557770061') as lead;
select is(pg_temp.text_in('SM1000000000000000000000000000000g', '+15557770061', 'No thanks, we already hired someone') ->> 'outcome', 'not_interested',
          '"already hired someone" is not interested');
select is((select (select status || '/' || completion_reason from public.conversations where lead_id = (select lead from n)) || ' '
                  || (select source from public.opt_outs where phone = '+15557770061' and business_id = (select id from b))),
          'completed/not_interested reply', 'not interested: completed, and on the do-not-text list');

-- a business whose Twilio number uses Advanced Opt-Out: leadloop stays silent for the carrier keywords only
update public.businesses set opt_out_confirmation_by = 'twilio' where id = (select id from b);
select is(pg_temp.text_in('SM1000000000000000000000000000000h', '+15557770099', 'STOP', 'STOP') ->> 'outcome', 'opted_out', 'Advanced Opt-Out: the STOP is recorded');
select is((select count(*)::int from public.messages where kind = 'opt_out_ack' and to_phone = '+15557770099'), 0, 'Advanced Opt-Out: no confirmation from leadloop');
select is(pg_temp.text_in('SM1000000000000000000000000000000i', '+15557770098', 'please stop texting me') ->> 'outcome', 'opted_out',
          'a wording Twilio does not know...');
select is((select count(*)::int from public.messages where kind = 'opt_out_ack' and to_phone = '+15557770098'), 1, '...is confirmed by leadloop even then');

-- a failure while processing leaves the message stored and unprocessed; the sweep applies it later
select public.receive_inbound_sms('SM1000000000000000000000000000000j', '+15557770070', (select twilio_number from biz), 'STOP');
update private.inbound_sms set received_at = now() - interval '1 minute' where message_sid = 'SM1000000000000000000000000000000j';
select is(private.process_pending_inbound(now()), 1, 'the sweep processes a message that was received but not processed');
select is((select source from public.opt_outs where phone = '+15557770070' and business_id = (select id from b)), 'keyword', '...so its STOP is applied');

set local role authenticated;
select throws_ok($$select public.receive_inbound_sms('SM10000000000000000000000000000099', '+15557770001', '+15550000000', 'hi')$$, '42501', null,
                 'users cannot store inbound texts');
select throws_ok($$select public.process_inbound_sms('SM10000000000000000000000000000099')$$, '42501', null, 'nor process them');
reset role;

select * from finish();
rollback;
