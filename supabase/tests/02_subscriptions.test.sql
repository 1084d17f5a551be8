-- Subscriptions: who reads them (nobody writes them but the service), and the billing gate intake applies.
begin;
\ir _helpers.psql
select plan(17);
select pg_temp.two_businesses();

-- subscriptions
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.subscriptions where business_id = (select business_a from ids)), 1, 'subscriptions/select: members read theirs');
select is((select count(*)::int from public.subscriptions where business_id = (select business_b from ids)), 0, 'subscriptions/select: not another''s');
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$update public.subscriptions set conversation_quota = 1000000$$, '42501', null, 'subscriptions/update: owners cannot grant themselves quota');
select throws_ok($$insert into public.subscriptions (business_id, status, current_period_start, current_period_end, conversation_quota)
                   select business_a, 'active', now(), now() + interval '1 day', 5 from ids$$, '42501', null, 'subscriptions/insert: denied');

set local role anon;
select throws_ok('select * from public.subscriptions', '42501', null, 'subscriptions/select: anon reads nothing');
reset role;

-- the billing gate: a lead is texted back only with an active subscription, in its period, with quota left
create temp table b as select pg_temp.new_business() as id;
update public.businesses set duplicate_window_minutes = 0 where id = (select id from b);
select is(private.billing_gate((select id from b)), null, 'an active subscription with quota left lets a conversation start');
update public.subscriptions set status = 'canceled' where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440003'), 'no_active_subscription', 'canceled subscription: not texted');
update public.subscriptions set status = 'active', current_period_start = now() - interval '60 days', current_period_end = now() - interval '30 days'
 where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440004'), 'no_active_subscription', 'expired period: not texted');
update public.subscriptions set current_period_start = now() - interval '1 day', current_period_end = now() + interval '29 days' where business_id = (select id from b);
delete from public.subscriptions where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440005'), 'no_active_subscription', 'no subscription at all: not texted');
insert into public.subscriptions (business_id, status, current_period_start, current_period_end, conversation_quota)
values ((select id from b), 'trialing', now() - interval '1 day', now() + interval '13 days', 2);

-- quota exhaustion: two conversations allowed this period, the third lead is refused
select is(pg_temp.reason_for((select id from b), '+15554440006'), 'started', 'quota 2: first conversation starts');
select is(pg_temp.reason_for((select id from b), '+15554440007'), 'started', 'quota 2: second conversation starts');
select is(pg_temp.reason_for((select id from b), '+15554440008'), 'quota_exhausted', 'quota 2: the third lead is refused for quota');
select is((select count(*)::int from public.conversations where business_id = (select id from b)), 2, 'quota 2: exactly two conversations exist');
select is((select conversations_used from public.subscriptions where business_id = (select id from b)), 2, 'quota 2: the usage counter says two');
select is((select owner_alert_status from public.leads where phone = '+15554440008'), 'queued', 'quota exhausted: the owner is still alerted');
update public.subscriptions set current_period_start = now() - interval '12 hours', conversation_quota = 2 where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440009'), 'started', 'a new period resets the quota');
update public.subscriptions set conversation_quota = 0 where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440010'), 'quota_exhausted', 'quota 0: nothing is texted');

select * from finish();
rollback;
