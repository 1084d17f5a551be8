-- The minute sweep: one nudge then idle completion (version-guarded), quiet hours across DST, the frequency cap,
-- and the wakes it posts.
begin;
\ir _helpers.psql
select plan(21);

create temp table b as select pg_temp.new_business() as id;
create temp table biz as select * from public.businesses where id = (select id from b);

-- the sweep: one nudge, then no_reply
create temp table quiet as select pg_temp.started((select id from b), '+15558880002') as id;
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
select is((select summary_status from public.conversations where id = (select id from quiet)), 'done',
          'its summary went out long before: due when the nudge went unanswered (here, with no summarizer running, as the fallback)');

-- active and idle -> completed
create temp table idle as select pg_temp.started((select id from b), '+15558880003') as id;
select pg_temp.inbound('SM20000000000000000000000000000003', '+15558880003', (select twilio_number from biz), 'Need a quote');
select is((private.lifecycle_sweep(now() + interval '1441 minutes') ->> 'completed')::int >= 1, true, 'an active conversation left idle is completed by the sweep');
select is(pg_temp.state((select id from idle)), 'completed/idle_timeout', 'active -> completed (idle_timeout)');

-- nudge deferred by quiet hours across a DST change, and the 3-per-24h cap
create temp table dst as select pg_temp.started((select id from b), '+15558880004') as id;
update public.businesses set quiet_hours_start = '08:00', quiet_hours_end = '20:00' where id = (select id from b);
update public.leads set timezones = '{America/New_York}', timezone_source = 'area_code' where phone = '+15558880004';
update public.conversations set next_action_at = '2026-03-08 02:30:00+00' where id = (select id from dst);
select private.lifecycle_sweep('2026-03-08 02:30:00+00');
select is((select status || ' ' || send_after from public.messages where conversation_id = (select id from dst) and kind = 'nudge'),
          'deferred ' || '2026-03-08 12:00:00+00'::timestamptz, 'a nudge due at 21:30 EST waits for 08:00 EDT after the clocks spring forward');
select is((private.lifecycle_sweep('2026-03-08 11:59:00+00') ->> 'deferred_released')::int, 0, 'it stays deferred a minute before the window opens');
select is((private.lifecycle_sweep('2026-03-08 12:00:00+00') ->> 'deferred_released')::int, 1, 'and becomes sendable when it opens');

create temp table capped as select pg_temp.started((select id from b), '+15558880005') as id;
insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status, send_after)
select c.business_id, c.lead_id, c.id, 'outbound', 'nudge', c.lead_phone, (select twilio_number from biz), 'earlier', 'sent', now() - interval '1 hour'
  from public.conversations c, generate_series(1, 2) where c.id = (select id from capped);
update public.conversations set next_action_at = now() where id = (select id from capped);
select private.lifecycle_sweep(now());
select is((select count(*)::int from public.messages where conversation_id = (select id from capped) and kind = 'nudge' and body <> 'earlier'), 0,
          'no nudge when the phone already got 3 unsolicited texts in 24 hours');
select is((select nudge_count from public.conversations where id = (select id from capped)), 1, '...the nudge is spent, so idle completion follows');


-- the sweep wakes dispatch whenever due messages wait (a lost wake costs at most a minute)
delete from net.http_request_queue where url like 'http://functions.test/%';
update private.function_wakes set wake_pending = true, last_wake_at = now() where function_name = 'sms-dispatch';
select is((private.lifecycle_sweep(now()) ->> 'dispatch_woken')::boolean, true, 'the sweep wakes sms-dispatch when queued messages are due, even if a wake looks pending');
select is((select count(*)::int from net.http_request_queue where url = 'http://functions.test/functions/v1/sms-dispatch'), 1, '...with one request');
update public.messages set status = 'canceled' where status in ('queued', 'deferred');
delete from net.http_request_queue where url like 'http://functions.test/%';
select is((private.lifecycle_sweep(now()) ->> 'dispatch_woken')::boolean, false, 'with nothing due the sweep wakes nobody');
select is((select count(*)::int from net.http_request_queue where url = 'http://functions.test/functions/v1/sms-dispatch'), 0, '...and posts no dispatch wake');

set local role service_role;
select throws_ok($$select private.lifecycle_sweep()$$, '42501', null, 'the sweep runs only from pg_cron, not through the API');
reset role;

select * from finish();
rollback;
