-- Retries fast, then patient: the backoff, the delivery deadline and the dead letter that tells the owner,
-- a send whose outcome is unknown kept for reconciliation, the next wake time, status side effects once
-- (a late or replayed 21610 after START adds nothing), and the summary's attempt limit with its fallback.
begin;
\ir _helpers.psql
select plan(31);

create temp table b as select pg_temp.new_business() as id;
create temp table biz as select * from public.businesses where id = (select id from b);

-- the policy
select ok(private.retry_delay(1) between interval '0.8 seconds' and interval '1.2 seconds', 'the first retry after about 1 s');
select ok(private.retry_delay(2) between interval '1.6 seconds' and interval '2.4 seconds', 'the second after about 2 s');
select ok(private.retry_delay(10) between interval '409 seconds' and interval '615 seconds', 'doubling (512 s after ten)');
select ok(private.retry_delay(30) between interval '3.2 hours' and interval '4.8 hours', 'up to hours in an outage, never more than about 4');
select is(array[private.delivery_deadline('owner_alert'), private.delivery_deadline('text_back'), private.delivery_deadline('opt_out_ack')],
          array[interval '24 hours', interval '24 hours', interval '5 minutes'], 'owner alerts and text-backs are tried for a day; a confirmation for 5 minutes');

-- an outage: retried while the error says so, dead-lettered at the deadline, the owner told once
create temp table l as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556663001') as lead;
create temp table alert as select id from public.messages where lead_id = (select lead from l) and kind = 'owner_alert';
create function pg_temp.claim_alert() returns void
language sql as $$
  update public.messages set next_attempt_at = now() where id = (select id from alert);
  select count(*) from public.claim_outbound_messages(500, 60) where id = (select id from alert)
$$;
select pg_temp.claim_alert();
select is(public.mark_message_failed((select id from alert), '20500', 'Internal Server Error', true), 'queued', 'a 500 is retried');
select is((select status_reason from public.messages where id = (select id from alert)), 'retrying', '...and says so');
update public.messages set created_at = now() - interval '23 hours 59 minutes 59 seconds' where id = (select id from alert);
select pg_temp.claim_alert();
select is(public.mark_message_failed((select id from alert), '20500', 'Internal Server Error', true), 'failed', 'a retry that would fall past the day is not scheduled');
select matches((select status_reason from public.messages where id = (select id from alert)), '^dead_letter: still failing 24:00:00', 'it is dead-lettered with why');
select is((select kind || ' ' || severity || ' ' || (message_id = (select id from alert)) from public.owner_notifications where business_id = (select id from b)),
          'sms.dead_letter critical true', 'the owner is told on the attention list, as critical');
select is((select owner_alert_status from public.leads where id = (select lead from l)), 'failed', 'the lead shows the alert failed');
select is(public.mark_message_failed((select id from alert), '20500', 'again', true), 'failed', 'a late failure report changes nothing');
select is((select count(*)::int from public.owner_notifications where business_id = (select id from b)), 1, '...and tells nobody twice');

-- a permanent error is dead-lettered at once
create temp table l2 as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556663002') as lead;
create temp table tb2 as select c.id from public.claim_outbound_messages(500, 60) c where c.lead_id = (select lead from l2) and c.kind = 'text_back';
select is(public.mark_message_failed((select id from tb2), '21211', 'invalid To', false), 'failed', 'a permanent error is not retried');
select ok(exists (select 1 from public.owner_notifications where message_id = (select id from tb2) and kind = 'sms.dead_letter' and severity = 'warning'),
          'the owner learns the lead could not be texted');

-- a send whose outcome is unknown is looked up before it goes again
create temp table l3 as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556663003') as lead;
create temp table oa3 as select c.id from public.claim_outbound_messages(500, 60) c where c.lead_id = (select lead from l3) and c.kind = 'owner_alert';
create temp table first_try as select last_attempt_at as at from public.messages where id = (select id from oa3);
select is(public.mark_message_failed((select id from oa3), 'timeout', 'no answer in 10 s', true, true), 'queued', 'a timeout is retried...');
select is((select unknown_attempt_at from public.messages where id = (select id from oa3)), (select at from first_try), '...after looking up the attempt that timed out');
select ok(public.next_outbox_due_at() <= (select next_attempt_at from public.messages where id = (select id from oa3)), 'and sms-dispatch knows when to come back for it');
update public.messages set next_attempt_at = now(), last_attempt_at = now() - interval '1 second' where id = (select id from oa3);
select is((select unknown_attempt_at from public.claim_outbound_messages(500, 60) where id = (select id from oa3)), (select at from first_try),
          'the claim hands sms-dispatch the time to look from');
select is(public.mark_message_failed((select id from oa3), 'reconcile_failed', 'Twilio list unavailable', true, true), 'queued', 'a lookup that failed...');
select is((select unknown_attempt_at from public.messages where id = (select id from oa3)), (select at from first_try), '...keeps the earliest unknown attempt');
update public.messages set next_attempt_at = now() where id = (select id from oa3);
select count(*) from public.claim_outbound_messages(500, 60) where id = (select id from oa3);
select is(public.mark_message_failed((select id from oa3), '20500', 'Internal Server Error', true), 'queued', 'a known failure...');
select is((select unknown_attempt_at from public.messages where id = (select id from oa3)), null, '...means nothing is left to look up');

-- status side effects apply once, on the change; a 21610 about a text sent before START adds nothing
create temp table l4 as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556663004') as lead;
create temp table tb4 as select c.id from public.claim_outbound_messages(500, 60) c where c.lead_id = (select lead from l4) and c.kind = 'text_back';
select public.mark_message_sent((select id from tb4), 'SM00000000000000000000000000004444');
select public.record_message_status('SM00000000000000000000000000004444', 'failed', '21610');
select is((select count(*)::int from public.opt_outs where phone = '+15556663004'), 1, 'a 21610 callback opts the number out');
select pg_temp.inbound('SM4000000000000000000000000000start', '+15556663004', (select twilio_number from biz), 'START');
select is((select count(*)::int from public.opt_outs where phone = '+15556663004'), 0, 'START lifts it');
select public.record_message_status('SM00000000000000000000000000004444', 'failed', '21610');
select is((select count(*)::int from public.opt_outs where phone = '+15556663004'), 0, 'a replayed 21610 callback after START re-adds nothing');
-- (in one test transaction every now() is the same instant: the text left a minute before the START)
update public.messages set status = 'sent', sent_at = now() - interval '1 minute' where id = (select id from tb4);
select public.record_message_status('SM00000000000000000000000000004444', 'failed', '21610');
select is((select count(*)::int from public.opt_outs where phone = '+15556663004'), 0,
          'nor does a late first one about a text that left before the START');

-- summaries get a few tries, then the plain fallback
create temp table c5 as select pg_temp.started((select id from b), '+15556663005') as id;
select private.close_conversation((select id from c5), 'completed', 'slots_filled');
update public.conversations set summary_attempts = private.summary_attempt_limit(), slots = '{"need": "leaking water heater", "timing": null, "location": "78704", "constraints": []}'
 where id = (select id from c5);
select is((select count(*)::int from public.claim_due_summaries(100, 60) x where (x ->> 'conversation_id')::uuid = (select id from c5)), 0,
          'a summary at its attempt limit is not handed to summarize again');
select ok((private.lifecycle_sweep(now()) ->> 'fallback_summaries')::int >= 1, 'the sweep sends the fallback instead');
select matches((select body from public.messages where conversation_id = (select id from c5) and kind = 'owner_summary'),
               '^Lead summary for .* \(automatic summary unavailable\): .*\nNeed: leaking water heater\nWhen: \(not said\)\nWhere: 78704\nCall tel:\+15556663005',
               'a plain summary of what the conversation holds goes to the owner');
select is((select summary_status || ' ' || (summary ->> 'source') from public.conversations where id = (select id from c5)), 'done fallback',
          'the summary is done, marked as the fallback');

select * from finish();
rollback;
