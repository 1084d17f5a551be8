-- Delivery: claim with lease, sent, failed with backoff and dead letter, Twilio error side effects,
-- delivery status (also before the SID is known), and the sweep's lease release.
begin;
\ir _helpers.psql
select plan(79);

create temp table b as select pg_temp.new_business() as id;
create temp table l as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556660001') as lead;
-- an older queued text so the ordering rule is visible: owner alerts first, then oldest
update public.messages set created_at = now() - interval '1 minute' where lead_id = (select lead from l) and kind = 'text_back';

-- Other tests' committed messages may be due on a shared instance: look only at this business's.
create temp table claim1 as select * from public.claim_outbound_messages(500, 60) where business_id = (select id from b);
select is((select count(*)::int from claim1), 2, 'claim returns the due messages');
select is((select array_agg(kind order by ord) from (select kind, row_number() over () as ord from claim1) c), array['owner_alert', 'text_back'],
          'owner alerts come first, then the oldest');
select ok((select bool_and(status = 'sending' and lease_until = now() + interval '60 seconds' and attempts = 1)
             from public.messages where id in (select id from claim1)), 'claimed messages are sending, leased, attempt counted');
select is((select count(*)::int from public.claim_outbound_messages(500, 60) where business_id = (select id from b)), 0, 'a leased message is not claimed twice');
select throws_ok($$select * from public.claim_outbound_messages(0, 60)$$, '22023', 'p_batch_size must be between 1 and 500', 'a bad batch size is refused');

-- a backlog of texts to an opted-out number does not hide what can be sent behind it
insert into public.opt_outs (business_id, phone, source, matched_rule) values ((select id from b), '+15556669999', 'keyword', 'keyword:STOP');
insert into public.messages (business_id, direction, kind, to_phone, from_phone, body, status, created_at)
select (select id from b), 'outbound', 'clarify', '+15556669999', (select twilio_number from public.businesses where id = (select id from b)), 'clarify ' || n, 'queued',
       '1999-01-01'::timestamptz + n * interval '1 second'
  from generate_series(1, 3) n;
insert into public.messages (business_id, direction, kind, to_phone, from_phone, body, status, created_at)
values ((select id from b), 'outbound', 'opt_out_ack', '+15556669999', (select twilio_number from public.businesses where id = (select id from b)), 'old ack', 'queued', '1999-05-01'),
       ((select id from b), 'outbound', 'opt_out_ack', '+15556669999', (select twilio_number from public.businesses where id = (select id from b)), 'ack', 'queued', '1999-06-01'),
       ((select id from b), 'outbound', 'help', '+15556669999', (select twilio_number from public.businesses where id = (select id from b)), 'help', 'queued', '1999-07-01'),
       ((select id from b), 'outbound', 'help', '+15556668888', (select twilio_number from public.businesses where id = (select id from b)), 'sendable', 'queued', '2000-01-01');
update public.opt_outs set confirmation_message_id = (select id from public.messages where body = 'ack' and to_phone = '+15556669999')
 where business_id = (select id from b) and phone = '+15556669999';
create temp table claim0 as select * from public.claim_outbound_messages(1, 60);
select ok((select count(*) = 1 and bool_and(body = 'ack') from claim0), 'a batch of one skips the oldest texts, to an opted-out number, and still returns a sendable one');
select is((select count(*)::int from public.messages where to_phone = '+15556669999' and kind = 'clarify' and status = 'canceled' and status_reason = 'opted_out'), 3,
          'the texts to the opted-out number are canceled at send time');
select is((select status || ' ' || status_reason from public.messages where to_phone = '+15556669999' and body = 'old ack'), 'canceled superseded',
          'an opt-out confirmation that is not this opt-out''s is canceled');
select count(*) from public.claim_outbound_messages(500, 60);
select is((select string_agg(kind || ' ' || status, ', ' order by created_at) from public.messages where to_phone = '+15556669999' and kind in ('opt_out_ack', 'help') and body <> 'old ack'),
          'opt_out_ack sending, help sending', 'the opt-out''s own confirmation and a HELP answer are still sent');

-- sent
create temp table tb as select id from claim1 where kind = 'text_back';
create temp table oa as select id from claim1 where kind = 'owner_alert';
select is(public.mark_message_sent((select id from tb), 'SM00000000000000000000000000000001'), true, 'mark_message_sent: a sending message becomes sent');
select is((select status || ' ' || twilio_sid from public.messages where id = (select id from tb)), 'sent SM00000000000000000000000000000001', 'its Twilio SID is stored');
select is((select status from public.conversations where lead_id = (select lead from l)), 'awaiting_reply', 'the text-back going out moves the conversation to awaiting_reply');
select is((select next_action_at from public.conversations where lead_id = (select lead from l)), now() + interval '60 minutes', 'and schedules the nudge after the configured delay');
select is(public.mark_message_sent((select id from tb), 'SM00000000000000000000000000000009'), false, 'mark_message_sent again: false');
select is((select twilio_sid from public.messages where id = (select id from tb)), 'SM00000000000000000000000000000001', 'the first SID is kept');
select is(public.mark_message_sent((select id from oa), 'SM00000000000000000000000000000002'), true, 'the owner alert is sent');
select is((select owner_alert_status from public.leads where id = (select lead from l)), 'sent', 'the lead shows the owner was alerted');

-- lease expired and reclaimed: the late worker's mark returns false but keeps its SID
create temp table l2 as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556660002') as lead;
create temp table claim2 as select * from public.claim_outbound_messages(500, 60) where business_id = (select id from b);
update public.messages set lease_until = now() - interval '1 second' where id in (select id from claim2);
select ok((private.lifecycle_sweep(now()) ->> 'leases_released')::int >= 2, 'the sweep puts expired leases back in the queue');
select ok((select bool_and(status = 'queued' and lease_until is null and unknown_attempt_at = last_attempt_at) from public.messages where id in (select id from claim2)),
          'they are queued again, their last attempt''s outcome unknown');
select is(public.mark_message_sent((select id from claim2 where kind = 'text_back'), 'SM00000000000000000000000000000003'), true,
          'a worker whose lease expired still records its send...');
select is((select status || ' ' || twilio_sid || ' ' || (unknown_attempt_at is null) from public.messages where id = (select id from claim2 where kind = 'text_back')),
          'sent SM00000000000000000000000000000003 true', '...so the text is not sent a second time');
select is(public.mark_message_sent((select id from claim2 where kind = 'text_back'), 'SM00000000000000000000000000000004'), false,
          'a second SID for a settled message gets false');

-- failures: backoff, dead letter
create temp table claim3 as select * from public.claim_outbound_messages(500, 60) where business_id = (select id from b);
create temp table ow2 as select id from claim3 where kind = 'owner_alert';
select is(public.mark_message_failed((select id from ow2), '20429', 'Too many requests', true), 'queued', 'a retryable failure is queued again');
select ok((select next_attempt_at - now() between interval '0.8 seconds' * power(2, attempts - 1) and interval '1.2 seconds' * power(2, attempts - 1)
                    and next_attempt_at < now() + interval '10 seconds'
             from public.messages where id = (select id from ow2)),
          'the first retries come within seconds (1 s, 2 s, ... +-20%)');
select is((select count(*)::int from public.claim_outbound_messages(500, 60) where id = (select id from ow2)), 0, 'it is not claimed before its backoff');
update public.messages set next_attempt_at = now(), attempts = max_attempts - 1 where id = (select id from ow2);
select is((select attempts from public.claim_outbound_messages(500, 60) where id = (select id from ow2)), (select max_attempts from public.messages where id = (select id from ow2)),
          'claimed for its last attempt');
select is(public.mark_message_failed((select id from ow2), '20429', 'Too many requests', true), 'failed', 'the last attempt''s failure is final');
select matches((select status_reason from public.messages where id = (select id from ow2)), '^dead_letter', 'and is recorded as a dead letter');
select is((select owner_alert_status from public.leads where id = (select lead from l2)), 'failed', 'the lead shows the owner alert failed');
select is(public.mark_message_failed((select id from ow2), '20429', 'again', true), 'failed', 'a settled message is not revived');
select throws_ok($$select public.mark_message_failed(gen_random_uuid(), '1', 'x', true)$$, 'P0002', null, 'an unknown message id is an error');

-- error codes with side effects
create function pg_temp.fail_text_back(p_phone text, p_code text) returns text
language plpgsql as $$
declare
  new_lead uuid := pg_temp.submit(pg_temp.widget_of((select id from b)), p_phone);
  message_id uuid;
begin
  select c.id into message_id from public.claim_outbound_messages(500, 60) c where c.lead_id = new_lead and c.kind = 'text_back';
  return public.mark_message_failed(message_id, p_code, 'error ' || p_code, false);
end
$$;
select is(pg_temp.fail_text_back('+15556660010', '21211'), 'failed', '21211 fails without retry');
select is((select phone_status from public.leads where phone = '+15556660010'), 'invalid', '21211 marks the lead''s phone invalid');
select is((select status || '/' || completion_reason from public.conversations where lead_phone = '+15556660010'), 'failed/send_failed',
          'a text-back that cannot be sent fails the conversation');
select is(pg_temp.fail_text_back('+15556660011', '21610'), 'failed', '21610 fails');
select is((select source || ' ' || matched_rule from public.opt_outs where phone = '+15556660011'), 'carrier carrier:21610', '21610 adds a carrier opt-out');
select is((select status from public.conversations where lead_phone = '+15556660011'), 'opted_out', 'and closes the conversation as opted out');
select is(pg_temp.fail_text_back('+15556660012', '21614'), 'failed', '21614 fails');
select is((select phone_status from public.leads where phone = '+15556660012'), 'landline', '21614 flags the lead as a landline');
select is(pg_temp.fail_text_back('+15556660013', '30034'), 'failed', '30034 fails');
select matches((select sending_problem from public.businesses where id = (select id from b)), 'not registered', '30034 surfaces an account problem to the owner');
select is(pg_temp.fail_text_back('+15556660014', '30007'), 'failed', '30007 fails');
select matches((select delivery_problem from public.leads where phone = '+15556660014'), 'Carrier filtered', '30007 is shown on the lead');

-- 30008 retries once
create temp table l3 as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556660020') as lead;
create temp table m3 as select id from public.claim_outbound_messages(500, 60) where lead_id = (select lead from l3) and kind = 'text_back';
select is(public.mark_message_failed((select id from m3), '30008', 'unknown', true), 'queued', '30008: the first failure is retried');
update public.messages set next_attempt_at = now() where id = (select id from m3);
select is((select count(*)::int from public.claim_outbound_messages(500, 60) where id = (select id from m3)), 1, '30008: claimed again');
select is(public.mark_message_failed((select id from m3), '30008', 'unknown', true), 'failed', '30008: the second failure is final');

-- delivery status callbacks
select is(public.record_message_status('SM00000000000000000000000000000001', 'delivered'), '{"found": true, "status": "delivered"}'::jsonb, 'delivered is recorded');
select is(public.record_message_status('SM00000000000000000000000000000001', 'sent'), '{"found": true, "status": "delivered"}'::jsonb, 'a late "sent" does not move it backwards');
select is(public.record_message_status('SM0000000000000000000000000000dead', 'delivered'), '{"found": false, "status": null, "deferred": true}'::jsonb,
          'an unknown SID is reported as not found, and its status kept for later');
select throws_ok($$select public.record_message_status('SM00000000000000000000000000000001', 'exploded')$$, '22023', null, 'an unknown status is refused');
select is(public.record_message_status('SM00000000000000000000000000000002', 'undelivered', '30006'), '{"found": true, "status": "undelivered"}'::jsonb,
          'an undelivered callback is recorded');
select ok(exists (select 1 from public.opt_outs where phone = (select owner_phone from public.businesses where id = (select id from b)) and matched_rule = 'carrier:30006'),
          '30006 suppresses the number');

-- status callbacks that arrive before mark_message_sent records the SID (Twilio delivers at once)
create function pg_temp.claim_for_new_lead(p_phone text, p_kind text, p_business uuid default null) returns uuid
language plpgsql as $$
declare
  new_lead uuid := pg_temp.submit(pg_temp.widget_of(coalesce(p_business, (select id from b))), p_phone);
  message_id uuid;
begin
  select c.id into message_id from public.claim_outbound_messages(500, 60) c where c.lead_id = new_lead and c.kind = p_kind;
  return message_id;
end
$$;
create temp table e1 as select pg_temp.claim_for_new_lead('+15556660040', 'text_back') as id;
select is(public.record_message_status('SM000000000000000000000000000e0001', 'delivered'), '{"found": false, "status": null, "deferred": true}'::jsonb,
          'early delivered: not found yet, deferred');
select is((select status from private.early_message_statuses where twilio_sid = 'SM000000000000000000000000000e0001'), 'delivered', 'the early status is kept');
select is(public.mark_message_sent((select id from e1), 'SM000000000000000000000000000e0001'), true, 'the send is then recorded');
select is((select status from public.messages where id = (select id from e1)), 'delivered', 'a delivered callback that came before the SID ends delivered');
select ok((select delivered_at is not null from public.messages where id = (select id from e1)), 'with its delivery time');
select is((select count(*)::int from private.early_message_statuses where twilio_sid = 'SM000000000000000000000000000e0001'), 0, 'and the early status is gone once applied');
select is((select status from public.conversations where lead_phone = '+15556660040'), 'awaiting_reply', 'the conversation still moves on as after any send');

create temp table e2 as select pg_temp.claim_for_new_lead('+15556660041', 'text_back') as id;
select is(public.record_message_status('SM000000000000000000000000000e0002', 'undelivered', '30006'), '{"found": false, "status": null, "deferred": true}'::jsonb,
          'early undelivered 30006: deferred');
select ok(not exists (select 1 from public.opt_outs where phone = '+15556660041'), 'nothing is suppressed before the SID is known');
select is(public.mark_message_sent((select id from e2), 'SM000000000000000000000000000e0002'), true, 'the send is recorded');
select is((select status || ' ' || error_code from public.messages where id = (select id from e2)), 'undelivered 30006', 'the message ends undelivered with the code');
select is((select source || ' ' || matched_rule from public.opt_outs where business_id = (select id from b) and phone = '+15556660041'), 'carrier carrier:30006',
          'the early 30006 suppresses the number once the SID is recorded');
select is((select status from public.conversations where lead_phone = '+15556660041'), 'opted_out', 'and closes the conversation');
select is((select phone_status from public.leads where phone = '+15556660041'), 'landline', 'and flags the landline');

-- (a business of its own: the first business's owner number was suppressed by the 30006 above)
create temp table e3 as select pg_temp.claim_for_new_lead('+15556660042', 'owner_alert', pg_temp.new_business()) as id;
select public.record_message_status('SM000000000000000000000000000e0003', 'delivered');
select public.record_message_status('SM000000000000000000000000000e0003', 'sent');
select is((select count(*)::int from private.early_message_statuses where twilio_sid = 'SM000000000000000000000000000e0003'), 2, 'both out-of-order early statuses are kept');
select is(public.mark_message_sent((select id from e3), 'SM000000000000000000000000000e0003'), true, 'the owner alert is recorded as sent');
select is((select status from public.messages where id = (select id from e3)), 'delivered', 'early delivered then sent still ends delivered');
select is((select owner_alert_status from public.leads where phone = '+15556660042'), 'delivered', 'and the lead shows the owner alert delivered');

-- a reclaimed send whose late worker records the SID: early statuses apply as a later callback would
create temp table e4 as select pg_temp.claim_for_new_lead('+15556660043', 'text_back') as id;
update public.messages set status = 'queued', lease_until = null where id = (select id from e4);
select public.record_message_status('SM000000000000000000000000000e0004', 'failed', '21610');
select is(public.mark_message_sent((select id from e4), 'SM000000000000000000000000000e0004'), true, 'a late worker records its send');
select is((select source || ' ' || matched_rule from public.opt_outs where business_id = (select id from b) and phone = '+15556660043'), 'carrier carrier:21610',
          'but the early 21610 recorded for its SID still suppresses the number');

-- early statuses nobody claims are purged by the sweep after a day
select public.record_message_status('SM000000000000000000000000000e0005', 'delivered');
select public.record_message_status('SM000000000000000000000000000e0006', 'delivered');
update private.early_message_statuses set received_at = now() - interval '25 hours' where twilio_sid = 'SM000000000000000000000000000e0005';
select ok((private.lifecycle_sweep(now()) ->> 'early_statuses_purged')::int >= 1, 'the sweep purges early statuses older than a day');
select is((select array_agg(twilio_sid order by twilio_sid) from private.early_message_statuses where twilio_sid in ('SM000000000000000000000000000e0005', 'SM000000000000000000000000000e0006')),
          array['SM000000000000000000000000000e0006'], 'and keeps the recent ones');
select ok(not has_table_privilege('authenticated', 'private.early_message_statuses', 'select')
          and not has_table_privilege('anon', 'private.early_message_statuses', 'select')
          and not has_table_privilege('service_role', 'private.early_message_statuses', 'insert'),
          'early statuses are not reachable through the API');


-- only sms-dispatch and twilio-status (service_role) call these
set local role anon;
select throws_ok($$select * from public.claim_outbound_messages()$$, '42501', null, 'anon cannot claim messages');
reset role;
set local role authenticated;
select throws_ok($$select public.mark_message_sent(gen_random_uuid(), 'SM00000000000000000000000000000001')$$, '42501', null, 'users cannot mark messages sent');
select throws_ok($$select public.record_message_status('SM00000000000000000000000000000001', 'delivered')$$, '42501', null, 'users cannot record statuses');
reset role;
set local role service_role;
select lives_ok($$select public.record_message_status('SM00000000000000000000000000000001', 'delivered')$$, 'service_role can');
reset role;

select * from finish();
rollback;
