-- Webhook delivery: the coalesced wake, leased claims with everything signing needs, the backoff (a receiver
-- failing three times gets the fourth attempt within three minutes), 24 hours of retries, the endpoint turned off
-- and its owner told, resend with the same webhook-id, and the sweep. Time moves through p_now.
begin;
\ir _helpers.psql
select plan(52);
select pg_temp.two_businesses();
insert into vault.secrets (name, secret) values ('platform_mode', 'local')
  on conflict (name) where name is not null do update set secret = 'local';

select pg_temp.as_user((select owner_a from ids));
create temp table hook as
select * from public.create_webhook_endpoint((select business_a from ids), 'https://hooks.example.com/in', '{lead.created}');
select pg_temp.as_postgres();
grant select on hook to authenticated, anon;

-- The delivery under test: the one of the latest lead (pg_temp.lead_phone).
create temp table cur (phone text);
insert into cur values (null);
grant select on cur to authenticated, anon;
create function pg_temp.lead(p_phone text) returns void
language sql as $$
  update cur set phone = p_phone;
  select pg_temp.submit((select widget_a from ids), p_phone);
$$;
create function pg_temp.delivery() returns public.webhook_deliveries
language sql as $$
  select d from public.webhook_deliveries d join public.webhook_events e on e.id = d.event_id
   where e.payload #>> '{data,lead,phone}' = (select phone from cur)
$$;
create function pg_temp.endpoint() returns public.webhook_endpoints
language sql as $$ select e from public.webhook_endpoints e where id = (select endpoint_id from hook) $$;
create function pg_temp.claim(p_at timestamptz) returns table (id uuid, attempt int)
language sql as $$ select delivery_id, attempt from public.claim_webhook_deliveries(10, 60, p_at) $$;
create function pg_temp.fail(p_at timestamptz, p_attempt int) returns jsonb
language sql as $$ select public.record_webhook_attempt((pg_temp.delivery()).id, p_attempt, 500, 120, 'oops', null, p_at) $$;

-- The wake
set constraints all immediate;
select pg_temp.lead('+15124720200');
select is((select count(*)::int from net.http_request_queue where url = 'http://functions.test/functions/v1/webhook-deliver'), 1,
          'a new delivery wakes webhook-deliver at commit');
select is((select headers ->> 'Authorization' from net.http_request_queue where url like '%/webhook-deliver'), 'Bearer test-service-key',
          '...with the service key');
select set_config('leadloop.wake_decided_webhook_deliver', '', false);
select pg_temp.submit((select widget_a from ids), '+15124720201');
update cur set phone = '+15124720200';
select is((select count(*)::int from net.http_request_queue where url like '%/webhook-deliver'), 1, 'while that wake is pending, no second one');
set constraints all deferred;
delete from public.webhook_deliveries where id <> (pg_temp.delivery()).id;

-- Claiming
create temp table c1 as select * from public.claim_webhook_deliveries(10, 60, now());
select is((select count(*)::int from c1), 1, 'claim_webhook_deliveries leases the due delivery');
select is((select webhook_id from c1), 'msg_' || replace((pg_temp.delivery()).event_id::text, '-', ''), 'its webhook-id is msg_ and the event''s id');
select is((select payload::jsonb from c1), (select payload from public.webhook_events where id = (pg_temp.delivery()).event_id), 'the body is the event payload');
select is((select url || ' ' || array_length(secrets, 1) || ' ' || allow_loopback || ' ' || attempt from c1),
          'https://hooks.example.com/in 1 true 1', 'with the URL, its signing secret, the platform''s loopback rule and the attempt number');
select is((select secrets[1] from c1), (select signing_secret from hook), 'the secret is the one shown at creation');
select is(((pg_temp.delivery()).status, (pg_temp.delivery()).lease_until, (pg_temp.delivery()).attempts)::text,
          ('sending', now() + interval '60 seconds', 1)::text, 'the delivery is sending under a lease');
select is((select count(*)::int from public.claim_webhook_deliveries(10, 60, now())), 0, 'a leased delivery is not claimed twice');
select is((select wake_pending from private.function_wakes where function_name = 'webhook-deliver'), false, 'a claim answers the pending wake');
select throws_ok($$select * from public.claim_webhook_deliveries(0, 60)$$, '22023', null, 'claim: the batch size is checked');

-- Three failures, then the fourth attempt succeeds within minutes
select is(pg_temp.fail(now(), 1) - 'next_attempt_at', '{"recorded": true, "status": "pending", "endpoint_disabled": false}'::jsonb,
          'a 500 is recorded as a failed attempt to retry');
select is(((pg_temp.delivery()).next_attempt_at, (pg_temp.delivery()).response_status, (pg_temp.delivery()).latency_ms, (pg_temp.delivery()).response_excerpt)::text,
          (now() + interval '5 seconds', 500, 120, 'oops')::text, 'the log keeps status, latency and excerpt; the first retry comes 5 seconds later');
select is(((pg_temp.endpoint()).failing_since, (pg_temp.endpoint()).last_failure_at)::text, (now(), now())::text, 'the endpoint is failing since then');
select is(pg_temp.fail(now(), 1) -> 'recorded', 'false'::jsonb, 'a second answer for the same attempt changes nothing');
select is((select count(*)::int from pg_temp.claim(now() + interval '4 seconds')), 0, 'not before its backoff');
select is((select attempt from pg_temp.claim(now() + interval '5 seconds')), 2, 'attempt 2 at +5 s');
select pg_temp.fail(now() + interval '5 seconds', 2);
select is((pg_temp.delivery()).next_attempt_at, now() + interval '35 seconds', 'attempt 3 at +35 s');
select count(*) from pg_temp.claim(now() + interval '35 seconds');
select public.record_webhook_attempt((pg_temp.delivery()).id, 3, null, 15000, null, 'timeout: no answer within 15 s', now() + interval '35 seconds');
select is(((pg_temp.delivery()).next_attempt_at, (pg_temp.delivery()).response_status, (pg_temp.delivery()).error)::text,
          (now() + interval '155 seconds', null::int, 'timeout: no answer within 15 s')::text, 'a timeout is a failure too; attempt 4 at +2 min 35 s');
select is((select attempt from pg_temp.claim(now() + interval '155 seconds')), 4, 'the fourth attempt is claimed');
select is(public.record_webhook_attempt((pg_temp.delivery()).id, 4, 204, 80, '', null, now() + interval '156 seconds'),
          '{"recorded": true, "status": "succeeded", "next_attempt_at": null, "endpoint_disabled": false}'::jsonb, 'and succeeds');
select is(((pg_temp.delivery()).delivered_at, (pg_temp.delivery()).attempts)::text, (now() + interval '156 seconds', 4)::text, 'delivered, in 4 attempts');
select is(((pg_temp.endpoint()).failing_since, (pg_temp.endpoint()).last_success_at)::text, (null::timestamptz, now() + interval '156 seconds')::text,
          'a success ends the failing streak');
select is(array(select private.webhook_retry_delay(n) from generate_series(1, 11) n),
          array['5 seconds', '30 seconds', '2 minutes', '10 minutes', '30 minutes', '1 hour', '2 hours', '4 hours', '8 hours', '8 hours', '8 hours']::interval[],
          'the backoff grows from seconds to 8 hours');
select throws_ok($$select public.record_webhook_attempt((pg_temp.delivery()).id, 5)$$, '22023', null, 'an attempt needs a status or an error');

-- Resend: same webhook-id, a fresh 24 hours
create temp table sent_id as select webhook_id, delivery_id from c1;
grant select on sent_id to authenticated, anon;
select pg_temp.as_user((select staff_a from ids));
select throws_ok($$select public.resend_webhook_delivery((select delivery_id from sent_id))$$, 'P0002', null, 'resend: staff are refused');
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select public.resend_webhook_delivery((select delivery_id from sent_id))$$, 'P0002', null, 'resend: another business''s owner is refused');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select public.resend_webhook_delivery(gen_random_uuid())$$, '42501', null, 'resend: anon may not call it');
select throws_ok($$update public.webhook_deliveries set resent_at = now()$$, '42501', null, 'webhook_deliveries/update: anon is refused');
reset role;
-- The update policy behind resend, written directly: staff and another owner touch nothing, only resent_at is writable.
select pg_temp.as_user((select staff_a from ids));
update public.webhook_deliveries set resent_at = now();
select pg_temp.as_user((select owner_b from ids));
update public.webhook_deliveries set resent_at = now();
select pg_temp.as_postgres();
select is((select count(*)::int from public.webhook_deliveries where resent_at is not null), 0,
          'webhook_deliveries/update: staff and another business''s owner change no delivery');
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$update public.webhook_deliveries set attempts = 0$$, '42501', null, 'webhook_deliveries/update: the owner may ask for a resend, nothing else');
select pg_temp.as_postgres();
update private.function_wakes set wake_pending = false, last_wake_at = null where function_name = 'webhook-deliver';
delete from net.http_request_queue where url like '%/webhook-deliver';
select set_config('leadloop.wake_decided_webhook_deliver', '', false);  -- as if a new transaction began
set constraints all immediate;
select pg_temp.as_user((select owner_a from ids));
select is(public.resend_webhook_delivery((pg_temp.delivery()).id), 'pending', 'resend: the owner sends a delivered event again');
select pg_temp.as_postgres();
set constraints all deferred;
select is((select count(*)::int from net.http_request_queue where url like '%/webhook-deliver'), 1, '...and the resend wakes webhook-deliver');
select is(((pg_temp.delivery()).status, (pg_temp.delivery()).attempts, (pg_temp.delivery()).next_attempt_at, (pg_temp.delivery()).expires_at)::text,
          ('pending', 0, now(), now() + interval '24 hours')::text, '...now, with attempts counted afresh and 24 hours of retries');
select is((select webhook_id from public.claim_webhook_deliveries(10, 60, now())), (select webhook_id from sent_id),
          'the resent delivery carries the same webhook-id (receivers deduplicate by it)');
select public.record_webhook_attempt((pg_temp.delivery()).id, 1, 200, 10, 'ok', null, now());
select pg_temp.as_user((select owner_a from ids));
select is(public.resend_webhook_delivery((pg_temp.delivery()).id), 'succeeded', 'a second click within 10 seconds sends nothing more');
select pg_temp.as_postgres();

-- 24 hours of failures: the delivery gives up, the endpoint is turned off, the owner is told once
select pg_temp.lead('+15124720202');
select count(*) from pg_temp.claim(now());
select pg_temp.fail(now(), 1);
select is((select count(*)::int from pg_temp.claim(now() + interval '23 hours 59 minutes 45 seconds')), 1,
          'retries continue through the day');
select pg_temp.fail(now() + interval '23 hours 59 minutes 45 seconds', 2);
select is((pg_temp.delivery()).next_attempt_at, (pg_temp.delivery()).expires_at, 'the last retry is made when the 24 hours end');
select count(*) from pg_temp.claim(now() + interval '24 hours');
select is(pg_temp.fail(now() + interval '24 hours', 3) - 'next_attempt_at',
          '{"recorded": true, "status": "failed", "endpoint_disabled": true}'::jsonb, 'after 24 hours the delivery fails and the endpoint is turned off');
select is(((pg_temp.endpoint()).enabled, (pg_temp.endpoint()).disabled_reason, (pg_temp.endpoint()).disabled_at)::text,
          (false, 'failing', now() + interval '24 hours')::text, 'the endpoint says why and since when');
select is((select severity || ': ' || title from public.owner_notifications where kind = 'webhook.endpoint_disabled' and business_id = (select business_a from ids)),
          'critical: A webhook endpoint was turned off', 'the owner is told');
select is(private.disable_failing_webhook_endpoints(now() + interval '25 hours') +
          (select count(*)::int from public.owner_notifications where kind = 'webhook.endpoint_disabled'), 1, '...once');

select pg_temp.lead('+15124720203');
select ok((pg_temp.delivery()).id is null and (select count(*) from public.webhook_events where payload #>> '{data,lead,phone}' = '+15124720203') = 0,
          'a turned-off endpoint gets no new events or deliveries');
update cur set phone = '+15124720202';
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$select public.resend_webhook_delivery((pg_temp.delivery()).id)$$, '55000', null, 'resend waits until the endpoint is on');
update public.webhook_endpoints set enabled = true;
select pg_temp.as_postgres();
select is(((pg_temp.endpoint()).enabled, (pg_temp.endpoint()).failing_since, (pg_temp.endpoint()).disabled_reason)::text,
          (true, null::timestamptz, null::text)::text, 'turned back on by the owner, it starts afresh');

-- A worker that vanished: its lease runs out, the delivery is claimed again, the late answer is ignored
select pg_temp.lead('+15124720204');
select count(*) from pg_temp.claim(now());
select is((select attempt from pg_temp.claim(now() + interval '61 seconds')), 2, 'an expired lease is claimed again');
select is(public.record_webhook_attempt((pg_temp.delivery()).id, 1, 200, 5, null, null, now()) -> 'recorded', 'false'::jsonb,
          'the first worker''s late answer changes nothing');

-- Rotation: both secrets sign for a day, then the sweep retires the old one
select pg_temp.as_user((select owner_a from ids));
select public.rotate_webhook_endpoint_secret((select endpoint_id from hook));
select pg_temp.as_postgres();
select public.record_webhook_attempt((pg_temp.delivery()).id, 2, 500, 5, null, null, now() + interval '61 seconds');
select is((select array_length(secrets, 1) from public.claim_webhook_deliveries(10, 60, now() + interval '2 minutes')), 2,
          'after a rotation, deliveries carry both secrets');
select public.record_webhook_attempt((pg_temp.delivery()).id, 3, 200, 5, null, null, now() + interval '2 minutes');
create temp table retired as select previous_secret from public.webhook_endpoints where id = (select endpoint_id from hook);

-- The sweep
update public.webhook_events set created_at = now() - interval '31 days'
 where id = (select event_id from public.webhook_deliveries where status = 'succeeded' limit 1);
select is(private.webhook_sweep(now() + interval '25 hours') - 'due' - 'woken',
          '{"expired": 0, "endpoints_disabled": 0, "secrets_retired": 1, "events_purged": 1}'::jsonb,
          'the sweep retires the rotated-out secret after 24 hours and purges events older than 30 days');
select is((select count(*)::int from vault.secrets where id = (select previous_secret from retired)), 0, 'the old secret leaves the vault');
select is((select schedule || ' ' || command from cron.job where jobname = 'leadloop-webhook-sweep'), '* * * * * select private.webhook_sweep()',
          'pg_cron runs the webhook sweep every minute');

select * from finish();
rollback;
