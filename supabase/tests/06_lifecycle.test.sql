-- Every conversation transition: turns guarded by version, the sweep's nudge and idle completion,
-- and the owner summary exactly once.
begin;
\ir _helpers.psql
select plan(48);

create temp table b as select pg_temp.new_business() as id;
create temp table biz as select * from public.businesses where id = (select id from b);

-- A started conversation whose text-back went out: pending -> awaiting_reply.
create function pg_temp.started(p_phone text) returns uuid
language plpgsql as $$
declare
  new_lead uuid := pg_temp.submit(pg_temp.widget_of((select id from b)), p_phone);
  new_conversation uuid := (select c.id from public.conversations c where c.lead_id = new_lead);
  message_id uuid := (select m.id from public.messages m where m.conversation_id = new_conversation and m.kind = 'text_back');
begin
  update public.messages set status = 'sending', lease_until = now() + interval '1 minute', attempts = 1 where id = message_id;
  perform public.mark_message_sent(message_id, 'SM' || replace(gen_random_uuid()::text, '-', ''));
  return new_conversation;
end
$$;

create function pg_temp.state(p_conversation uuid) returns text
language sql as $$ select status || coalesce('/' || completion_reason, '') from public.conversations where id = p_conversation $$;

create function pg_temp.version(p_conversation uuid) returns int
language sql as $$ select version from public.conversations where id = p_conversation $$;

create temp table c as select pg_temp.started('+15558880001') as id;
select is(pg_temp.state((select id from c)), 'awaiting_reply', 'pending -> awaiting_reply when the text-back is sent');
select x.inbound_result from (select public.record_inbound_sms('SM20000000000000000000000000000001', '+15558880001', (select twilio_number from biz), 'A leaking pipe') as inbound_result) x;
select is(pg_temp.state((select id from c)), 'active', 'awaiting_reply -> active when the lead replies');

-- turns
create temp table v as select pg_temp.version((select id from c)) as v;
select is(public.apply_conversation_turn((select id from c), (select v from v), '{"need": "leaking pipe", "timing": null, "location": null, "constraints": []}',
          'en', 'When would you like us to come?', 'question', false, null),
          jsonb_build_object('applied', true, 'version', (select v from v) + 1), 'a turn with the version read is applied');
select is((select slots ->> 'need' from public.conversations where id = (select id from c)), 'leaking pipe', 'its slots are stored');
select is((select question_count from public.conversations where id = (select id from c)), 1, 'the question is counted');
select is((select status from public.messages where conversation_id = (select id from c) and kind = 'question'), 'queued', 'the next question is queued');
select is(public.apply_conversation_turn((select id from c), (select v from v), '{"need": "other"}', 'en', 'Stale?', 'question', false, null),
          jsonb_build_object('applied', false, 'version', (select v from v) + 1), 'a turn with a stale version changes nothing');
select is((select slots ->> 'need' from public.conversations where id = (select id from c)), 'leaking pipe', '...the slots are untouched');
select is((select count(*)::int from public.messages where conversation_id = (select id from c) and body = 'Stale?'), 0, '...and nothing is sent');
select throws_ok($$select public.apply_conversation_turn((select id from c), 1, '[]', 'en', null, null, false, null)$$, '22023', null, 'slots must be an object');
select throws_ok($$select public.apply_conversation_turn((select id from c), 1, '{}', 'fr', null, null, false, null)$$, '22023', null, 'the locale must be en or es');
select throws_ok($$select public.apply_conversation_turn((select id from c), 1, '{}', 'en', 'x', 'nudge', false, null)$$, '22023', null, 'the outbound kind must be question or closing');
select throws_ok($$select public.apply_conversation_turn((select id from c), 1, '{}', 'en', null, null, true, 'bored')$$, '22023', null, 'an unknown completion reason is refused');
update public.businesses set max_questions = 1 where id = (select id from b);
select is(public.apply_conversation_turn((select id from c), (select v from v) + 1, '{}', 'en', 'Another question?', 'question', false, null) ->> 'applied', 'false',
          'no question beyond the business''s max_questions');
select is(public.apply_conversation_turn((select id from c), (select v from v) + 1,
          '{"need": "leaking pipe", "timing": "tomorrow 9am", "location": "12 Oak St", "constraints": ["dog in yard"]}', 'en',
          'Thanks! We will call you shortly.', 'closing', true, 'slots_filled') ->> 'applied', 'true', 'a completing turn is applied');
select is(pg_temp.state((select id from c)), 'completed/slots_filled', 'active -> completed with its reason');
select is((select summary_status from public.conversations where id = (select id from c)), 'due', 'completion makes the summary due');
select is((select count(*)::int from public.messages where conversation_id = (select id from c) and kind = 'closing'), 1, 'the closing text is queued');
select is(public.apply_conversation_turn((select id from c), (select v from v) + 2, '{}', 'en', null, null, false, null) ->> 'applied', 'false',
          'a completed conversation takes no more turns');

-- summary: claimed with everything the summarizer needs, completed exactly once
delete from net.http_request_queue where url like 'http://functions.test/%';
select is((private.lifecycle_sweep(now()) ->> 'summarize_woken')::boolean, true, 'the sweep hands due summaries to the summarize function');
select is((select count(*)::int from net.http_request_queue where url = 'http://functions.test/functions/v1/summarize'), 1, '...through one net.http_post');
create temp table claimed as select * from public.claim_due_summaries(10, 120) as s where (s ->> 'conversation_id')::uuid = (select id from c);
select is((select count(*)::int from claimed), 1, 'claim_due_summaries returns the due conversation');
select is((select s #>> '{slots,location}' from claimed s), '12 Oak St', 'with its slots');
select is((select s #>> '{business,owner_phone}' from claimed s), (select owner_phone from biz), 'the business');
select ok((select jsonb_array_length(s -> 'messages') >= 4 from claimed s), 'and the transcript');
select is((select count(*)::int from public.claim_due_summaries(10, 120) as s where (s ->> 'conversation_id')::uuid = (select id from c)), 0,
          'a claimed summary is not claimed twice while leased');
select is(public.complete_conversation_summary((select id from c), '{"need": "leaking pipe"}', 'Lead wants a pipe fixed tomorrow 9am at 12 Oak St.'),
          '{"queued": true}'::jsonb, 'completing the summary queues the owner summary');
select is(public.complete_conversation_summary((select id from c), '{"need": "leaking pipe"}', 'Lead wants a pipe fixed tomorrow 9am at 12 Oak St.'),
          '{"queued": false}'::jsonb, 'a retried completion queues nothing');
select is((select count(*)::int from public.messages where conversation_id = (select id from c) and kind = 'owner_summary'), 1, 'exactly one owner summary exists');
select is((select to_phone from public.messages where conversation_id = (select id from c) and kind = 'owner_summary'), (select owner_phone from biz), 'it goes to the owner');
select is((select summary_status from public.conversations where id = (select id from c)), 'done', 'the summary is done');
select throws_ok($$select public.complete_conversation_summary((select id from c), '{}', '')$$, '22023', null, 'an empty owner text is refused');

-- the sweep: one nudge, then no_reply
create temp table quiet as select pg_temp.started('+15558880002') as id;
create temp table t0 as select next_action_at as due from public.conversations where id = (select id from quiet);
-- Sweep counters cover the whole instance, so assertions look at this conversation's own rows.
select private.lifecycle_sweep((select due from t0) - interval '1 second');
select is((select count(*)::int from public.messages where conversation_id = (select id from quiet) and kind = 'nudge'), 0, 'no nudge before the configured delay');
select private.lifecycle_sweep((select due from t0));
select is((select count(*)::int from public.messages where conversation_id = (select id from quiet) and kind = 'nudge'), 1, 'one nudge once the delay has passed');
select matches((select body from public.messages where conversation_id = (select id from quiet) and kind = 'nudge'), 'Reply STOP to opt out\.$', 'the nudge carries the STOP wording');
select is((select nudge_count from public.conversations where id = (select id from quiet)), 1, 'the nudge is counted');
select private.lifecycle_sweep((select due from t0) + interval '1 minute');
select is((select count(*)::int from public.messages where conversation_id = (select id from quiet) and kind = 'nudge'), 1, 'never a second nudge');
create temp table t1 as select next_action_at as due from public.conversations where id = (select id from quiet);
select is((select due from t1), (select due from t0) + interval '1440 minutes', 'after the nudge, idle completion is scheduled');
select ok((private.lifecycle_sweep((select due from t1)) ->> 'completed')::int >= 1, 'the sweep completes the idle conversation');
select is(pg_temp.state((select id from quiet)), 'no_reply/no_reply', 'awaiting_reply -> no_reply when the lead never answered');
select is((select summary_status from public.conversations where id = (select id from quiet)), 'due', 'its summary is due too');

-- active and idle -> completed
create temp table idle as select pg_temp.started('+15558880003') as id;
select public.record_inbound_sms('SM20000000000000000000000000000003', '+15558880003', (select twilio_number from biz), 'Need a quote');
select is((private.lifecycle_sweep(now() + interval '1441 minutes') ->> 'completed')::int >= 1, true, 'an active conversation left idle is completed by the sweep');
select is(pg_temp.state((select id from idle)), 'completed/idle_timeout', 'active -> completed (idle_timeout)');

-- nudge deferred by quiet hours across a DST change, and the 3-per-24h cap
create temp table dst as select pg_temp.started('+15558880004') as id;
update public.businesses set quiet_hours_start = '08:00', quiet_hours_end = '20:00' where id = (select id from b);
update public.conversations set next_action_at = '2026-03-08 02:30:00+00' where id = (select id from dst);
select private.lifecycle_sweep('2026-03-08 02:30:00+00');
select is((select status || ' ' || send_after from public.messages where conversation_id = (select id from dst) and kind = 'nudge'),
          'deferred ' || '2026-03-08 12:00:00+00'::timestamptz, 'a nudge due at 21:30 EST waits for 08:00 EDT after the clocks spring forward');
select is((private.lifecycle_sweep('2026-03-08 11:59:00+00') ->> 'deferred_released')::int, 0, 'it stays deferred a minute before the window opens');
select is((private.lifecycle_sweep('2026-03-08 12:00:00+00') ->> 'deferred_released')::int, 1, 'and becomes sendable when it opens');

create temp table capped as select pg_temp.started('+15558880005') as id;
insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status, send_after)
select c.business_id, c.lead_id, c.id, 'outbound', 'nudge', c.lead_phone, (select twilio_number from biz), 'earlier', 'sent', now() - interval '1 hour'
  from public.conversations c, generate_series(1, 2) where c.id = (select id from capped);
update public.conversations set next_action_at = now() where id = (select id from capped);
select private.lifecycle_sweep(now());
select is((select count(*)::int from public.messages where conversation_id = (select id from capped) and kind = 'nudge' and body <> 'earlier'), 0,
          'no nudge when the phone already got 3 unsolicited texts in 24 hours');
select is((select nudge_count from public.conversations where id = (select id from capped)), 1, '...the nudge is spent, so idle completion follows');

select * from finish();
rollback;
