-- The outbox: who reads messages, the one writer (enqueue_outbound) and its quiet hours, what is sendable,
-- the frequency cap, and the coalesced sms-dispatch wake.
begin;
\ir _helpers.psql
select plan(23);
select pg_temp.two_businesses();

-- who reads the transcript
select pg_temp.as_user((select staff_a from ids));
select ok((select count(*) from public.messages) >= 2 and (select bool_and(business_id = (select business_a from ids)) from public.messages),
          'messages/select: members read their business''s messages only');
select is((select count(*)::int from public.messages where business_id = (select business_b from ids)), 0, 'messages/select: not another business''s');
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$insert into public.messages (business_id, direction, kind, to_phone, from_phone, body, status)
                   select business_a, 'outbound', 'owner_alert', '+15551230000', '+15551230001', 'x', 'queued' from ids$$, '42501', null,
                 'messages/insert: users cannot queue texts');
select throws_ok($$update public.messages set body = 'x'$$, '42501', null, 'messages/update: denied to users');
select throws_ok($$delete from public.messages$$, '42501', null, 'messages/delete: denied to users');
select pg_temp.as_postgres();
set local role anon;
select throws_ok('select * from public.messages', '42501', null, 'messages/select: anon reads nothing');
reset role;

-- enqueue_outbound: the one writer, quiet hours by kind
create temp table b as select pg_temp.new_business() as id;
create temp table biz as select * from public.businesses where id = (select id from b);
create function pg_temp.biz() returns public.businesses
language sql as $$ select bz from public.businesses bz where bz.id = (select id from b) $$;
create temp table conv as select c.id, c.lead_id from public.conversations c where c.lead_id = (select lead_a from ids);
-- the lead is where it is 03:00 now
create temp table night as select pg_temp.zone_where_it_is('03:00') as zone;
update public.leads set timezones = array[(select zone from night)], timezone_source = 'device' where id = (select lead_id from conv);
create temp table e as select
  private.enqueue_outbound(pg_temp.biz(), 'question', '+15556661000', 'When?', (select lead_id from conv), (select id from conv), '{timing}') as question,
  private.enqueue_outbound(pg_temp.biz(), 'owner_alert', (select owner_phone from biz), 'New lead', p_dedupe_key => 'test:alert') as alert;
select is((select status || ' ' || (send_after > now()) from public.messages where id = (select question from e)), 'deferred true',
          'a text to a lead outside the sending window is deferred to it');
select is((select send_after || ' ' || status_reason from public.messages where id = (select question from e)),
          private.next_allowed_send_time(now(), (select zone from night), '08:00', '21:00') || ' quiet_hours',
          '...until the window opens in the lead''s zone, and says why');
select is((select status from public.messages where id = (select alert from e)), 'queued', 'an owner text goes at once, whatever the lead''s quiet hours');
select is((select asks || array[from_phone] from public.messages where id = (select question from e)), array['timing', (select twilio_number from biz)],
          'the text records what it asks and goes from the business''s number');
select is(private.enqueue_outbound(pg_temp.biz(), 'owner_alert', (select owner_phone from biz), 'Again', p_dedupe_key => 'test:alert'), null,
          'a used dedupe key writes nothing');
select ok(private.is_sendable_now((select m from public.messages m where id = (select alert from e))), 'a queued message is sendable now');
select ok(not private.is_sendable_now((select m from public.messages m where id = (select question from e)))
          and private.is_sendable_now(jsonb_populate_record((select m from public.messages m where id = (select question from e)), '{"status": "queued"}'),
                                      (select send_after from public.messages where id = (select question from e))),
          'a deferred one is not, until it is queued and its time has come');
select throws_ok($$insert into public.messages (business_id, direction, kind, to_phone, from_phone, body, status, asks)
                   select id, 'inbound', 'inbound', '+15551230000', '+15551230001', 'x', 'received', '{need}' from b$$, '23514', null,
                 'an inbound text asks nothing');

-- the frequency cap counts unsolicited texts within 24 hours either side
insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status, send_after)
select (select id from b), c.lead_id, c.id, 'outbound', k, '+15556662000', (select twilio_number from biz), 'x', s, now() + d
  from conv c, (values ('text_back', 'sent', interval '-23 hours'), ('nudge', 'deferred', interval '23 hours'),
                       ('nudge', 'canceled', interval '0'), ('question', 'sent', interval '0'), ('text_back', 'sent', interval '-25 hours')) v(k, s, d);
select is(private.unsolicited_count('+15556662000', now()), 2, 'text-backs and nudges within 24 hours count; canceled ones, replies and older ones do not');
select ok(private.may_text_unsolicited('+15556662000', now()), 'two unsolicited texts leave room for a third');
insert into public.messages (business_id, direction, kind, to_phone, from_phone, body, status, send_after, lead_id, conversation_id)
select (select id from b), 'outbound', 'nudge', '+15556662000', (select twilio_number from biz), 'x', 'queued', now(), c.lead_id, c.id from conv c;
select ok(not private.may_text_unsolicited('+15556662000', now()), 'three do not');

-- coalesced wakes
delete from net.http_request_queue where url like 'http://functions.test/%';
update private.function_wakes set wake_pending = false, last_wake_at = null where function_name = 'sms-dispatch';
set constraints all immediate;
select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556660030');
select is((select count(*)::int from net.http_request_queue where url like 'http://functions.test/%'), 1, 'a sendable message wakes sms-dispatch');
select set_config('leadloop.wake_decided_sms_dispatch', '', false);  -- as if a new transaction began
select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556660031');
select is((select count(*)::int from net.http_request_queue where url like 'http://functions.test/%'), 1, 'while that wake is pending, another transaction''s message posts no second wake');
select count(*) from public.claim_outbound_messages(500, 60);
select set_config('leadloop.wake_decided_sms_dispatch', '', false);
select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556660032');
select is((select count(*)::int from net.http_request_queue where url like 'http://functions.test/%'), 2, 'after a claim answered the wake, the next message wakes again');
update private.function_wakes set last_wake_at = now() - interval '6 seconds' where function_name = 'sms-dispatch';
select set_config('leadloop.wake_decided_sms_dispatch', '', false);
select pg_temp.submit(pg_temp.widget_of((select id from b)), '+15556660033');
select is((select count(*)::int from net.http_request_queue where url like 'http://functions.test/%'), 3, 'a wake nobody answered for 5 s is treated as lost and posted again');
select is((select array_agg(function_name || ' ' || lost_after::text order by function_name) from private.function_wakes),
          array['send-email 00:00:30', 'sms-dispatch 00:00:05', 'webhook-deliver 00:00:30'],
          'one wake row per function the database wakes, each with when an unanswered wake counts as lost');

-- The owner-text kinds, one list for every rule that treats them apart.
select is((select array_agg(k order by k) from unnest(array['owner_alert', 'owner_summary', 'owner_notice', 'member_alert', 'text_back', 'help', 'verification']) k
            where private.is_owner_text(k)), array['owner_alert', 'owner_notice', 'owner_summary'], 'the owner phone''s kinds are owner_alert, owner_summary and owner_notice');

select * from finish();
rollback;
