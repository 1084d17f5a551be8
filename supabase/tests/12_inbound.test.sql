-- Inbound SMS: idempotency on MessageSid, STOP/START/HELP, the FCC reasonable wordings, replies and their language.
begin;
\ir _helpers.psql
select plan(46);

create temp table b as select pg_temp.new_business() as id;
create temp table biz as select * from public.businesses where id = (select id from b);
create temp table l as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15557770001') as lead;
create temp table conv as select id from public.conversations where lead_id = (select lead from l);

create function pg_temp.inbound(p_sid text, p_from text, p_body text, p_type text default null) returns jsonb
language sql as $$ select public.record_inbound_sms(p_sid, p_from, (select twilio_number from biz), p_body, p_type) $$;

-- the keyword classifier, rule by rule
select is((select intent || ' ' || matched_rule from private.classify_inbound('STOP')), 'opt_out keyword:STOP', 'STOP is an opt-out keyword');
select is((select intent || ' ' || matched_rule from private.classify_inbound('  unsubscribe! ')), 'opt_out keyword:UNSUBSCRIBE', 'trimmed, case-insensitive, trailing punctuation ignored');
select is((select intent from private.classify_inbound('Stop. Thank you')), 'opt_out', '"Stop. Thank you" is a revocation');
select is((select matched_rule from private.classify_inbound('Stop. Thank you')), 'phrase:stop + courtesy', '...matched by the courtesy rule');
select is((select intent || ' ' || matched_rule from private.classify_inbound('please stop texting me')), 'opt_out phrase:stop texting me', '"please stop texting me" is a revocation');
select is((select intent || ' ' || matched_rule from private.classify_inbound('opt out')), 'opt_out phrase:opt out', '"opt out" is a revocation');
select is((select intent || ' ' || matched_rule from private.classify_inbound('Don''t text me again')), 'opt_out phrase:do not text me', '"Don''t text me again" is a revocation');
select is((select intent from private.classify_inbound('The water will not stop leaking, can you come today?')), 'message', 'a message that merely contains "stop" is not');
select is((select intent from private.classify_inbound('End of the week works')), 'message', 'keywords count only as the whole message');
select is((select intent || ' ' || matched_rule from private.classify_inbound('Start')), 'opt_in keyword:START', 'START opts back in');
select is((select intent || ' ' || matched_rule from private.classify_inbound('info')), 'help keyword:INFO', 'INFO asks for help');
select is((select intent || ' ' || matched_rule from private.classify_inbound('whatever', 'STOP')), 'opt_out twilio:OptOutType=STOP', 'Twilio''s OptOutType is trusted');

-- unknown number and idempotency
select is(public.record_inbound_sms('SM10000000000000000000000000000001', '+15557770001', '+15550000000', 'hi') ->> 'outcome', 'unknown_number',
          'a text to a number no business owns is ignored');
select is((select count(*)::int from public.messages where twilio_sid = 'SM10000000000000000000000000000001'), 0, '...and not stored');

-- a reply in the open conversation
create temp table r1 as select pg_temp.inbound('SM10000000000000000000000000000002', '+15557770001', 'Tomorrow morning, 12 Oak Street') as result;
select is((select result ->> 'outcome' from r1), 'reply', 'a lead''s answer is a reply');
select is((select (result ->> 'conversation_id')::uuid from r1), (select id from conv), 'in their open conversation');
select is((select result #>> '{context,lead,phone}' from r1), '+15557770001', 'with the context the engine needs');
select is((select result #>> '{context,transcript,-1,body}' from r1), 'Tomorrow morning, 12 Oak Street', 'the transcript ends with the reply (oldest first)');
select is((select status || ' ' || turn_count from public.conversations where id = (select id from conv)), 'active 1', 'the conversation is active with one turn');
select is((select result #>> '{context,locale}' from r1), 'en', 'the context says the reply is English');
create temp table r_es as select pg_temp.inbound('SM1000000000000000000000000000000a', '+15557770001', 'Sí, mañana por la mañana') as result;
select is((select result #>> '{context,locale}' from r_es), 'es', 'a Spanish reply switches the conversation to Spanish...');
select is((select current_locale from public.conversations where id = (select id from conv)), 'es', '...and it is stored for the next text');
select is((select result #>> '{context,locale}' from pg_temp.inbound('SM1000000000000000000000000000000b', '+15557770001', '78704') as result), 'es',
          'a reply without language signal keeps it');
select is((select next_action_at from public.conversations where id = (select id from conv)), now() + interval '1440 minutes', 'idle completion is scheduled');
select is((select status || ' ' || status_reason from public.messages where conversation_id = (select id from conv) and kind = 'text_back'), 'canceled lead_replied',
          'a reply before the text-back went out cancels the waiting text-back');
select is(pg_temp.inbound('SM10000000000000000000000000000002', '+15557770001', 'Tomorrow morning, 12 Oak Street') ->> 'outcome', 'duplicate',
          'the same MessageSid again is a duplicate');
select is((select count(*)::int from public.messages where twilio_sid = 'SM10000000000000000000000000000002'), 1, '...stored once');
select is((select turn_count from public.conversations where id = (select id from conv)), 3, '...and counted once (three distinct replies so far)');

-- HELP
-- (back to English: HELP is answered in the conversation's language)
update public.conversations set current_locale = 'en' where id = (select id from conv);
select is(pg_temp.inbound('SM10000000000000000000000000000003', '+15557770001', 'HELP') ->> 'outcome', 'help', 'HELP is answered');
select matches((select body from public.messages where kind = 'help' and to_phone = '+15557770001'),
               (select name from biz) || '.*Msg & data rates may apply\. Reply STOP to opt out\.', 'with business name, rates and STOP wording');

-- STOP then START
select public.apply_conversation_turn((select id from conv), (select version from public.conversations where id = (select id from conv)),
                                     '{"need": "leak"}', '{timing}', false, false, null);
create temp table queued_before as select id from public.messages where to_phone = '+15557770001' and status = 'queued' and kind <> 'help';
create temp table s1 as select pg_temp.inbound('SM10000000000000000000000000000004', '+15557770001', 'Stop. Thank you') as result;
select is((select result ->> 'outcome' from s1), 'opted_out', '"Stop. Thank you" opts out');
select is((select result ->> 'matched_rule' from s1), 'phrase:stop + courtesy', 'the matched rule is returned...');
select is((select matched_rule from public.opt_outs where business_id = (select id from b) and phone = '+15557770001'), 'phrase:stop + courtesy', '...and recorded');
select is((select status || '/' || completion_reason from public.conversations where id = (select id from conv)), 'opted_out/opted_out', 'the conversation ends as opted out');
select ok((select count(*) >= 1 and bool_and(status = 'canceled') from public.messages where id in (select id from queued_before)), 'texts still queued to the lead are canceled');
select is((select count(*)::int from public.messages where kind = 'opt_out_ack' and to_phone = '+15557770001'), 1, 'one opt-out confirmation is queued');
select is(pg_temp.inbound('SM10000000000000000000000000000005', '+15557770001', 'STOP') ->> 'outcome', 'opted_out', 'a second STOP is still an opt-out');
select is((select count(*)::int from public.messages where kind = 'opt_out_ack' and to_phone = '+15557770001'), 1, '...but gets no second confirmation');
select is((select count(*)::int from public.claim_outbound_messages(500, 60) where to_phone = '+15557770001' and kind = 'opt_out_ack'), 1,
          'the confirmation is the one text that still goes to an opted-out number');
select is(pg_temp.inbound('SM10000000000000000000000000000006', '+15557770001', 'START') ->> 'outcome', 'opted_in', 'START opts back in');
select is((select count(*)::int from public.opt_outs where business_id = (select id from b) and phone = '+15557770001'), 0, 'the suppression is lifted');
select matches((select body from public.messages where dedupe_key like 'opt_in_ack:%' and to_phone = '+15557770001'), 'subscribed again', 'START is confirmed');
select is(pg_temp.inbound('SM10000000000000000000000000000007', '+15557770001', 'Are you still coming?') ->> 'outcome', 'no_conversation',
          'after the conversation closed, a text is stored with nothing to do');

-- a business whose Twilio number uses Advanced Opt-Out: leadloop stays silent
update public.businesses set opt_out_confirmation_by = 'twilio' where id = (select id from b);
select is(pg_temp.inbound('SM10000000000000000000000000000008', '+15557770099', 'STOP', 'STOP') ->> 'outcome', 'opted_out', 'Advanced Opt-Out: the STOP is recorded');
select is((select count(*)::int from public.messages where kind = 'opt_out_ack' and to_phone = '+15557770099'), 0, 'Advanced Opt-Out: no confirmation from leadloop');

set local role authenticated;
select throws_ok($$select public.record_inbound_sms('SM10000000000000000000000000000099', '+15557770001', '+15550000000', 'hi')$$, '42501', null,
                 'users cannot record inbound texts');
reset role;

select * from finish();
rollback;
