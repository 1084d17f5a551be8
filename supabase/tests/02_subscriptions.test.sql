-- Plans and subscriptions: who reads them (nobody writes them but the service), the trial as a plan
-- row, and the billing gate intake applies.
begin;
\ir _helpers.psql
select plan(45);
select pg_temp.two_businesses();

-- plans
select pg_temp.as_user((select extra from ids));
select ok((select count(*) from public.plans where id in ('trial', 'starter', 'growth', 'pro')) = 4, 'plans/select: any signed-in user reads the plans');
select throws_ok($$update public.plans set conversations_per_period = 1000000$$, '42501', null, 'plans/update: denied to users');
select throws_ok($$insert into public.plans (id, name, conversations_per_period, trial_days) values ('free_forever', 'Free', 1000000, 90)$$,
                 '42501', null, 'plans/insert: denied to users');
select throws_ok($$delete from public.plans$$, '42501', null, 'plans/delete: denied to users');
set local role anon;
select throws_ok('select * from public.plans', '42501', null, 'plans/select: anon reads nothing');
reset role;
select throws_ok($$insert into public.plans (id, name, stripe_lookup_key, conversations_per_period, trial_days, billing_interval)
                   values ('odd', 'Odd', 'odd_key', 10, 14, 'month')$$, '23514', null, 'a plan is sold through Stripe or is a trial, not both');
select throws_ok($$insert into public.plans (id, name, conversations_per_period, price_cents, trial_days) values ('paid_trial', 'Paid trial', 10, 500, 14)$$,
                 '23514', null, 'a trial costs nothing');

-- subscriptions
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.subscriptions where business_id = (select business_a from ids)), 1, 'subscriptions/select: staff read theirs');
select is((select count(*)::int from public.subscriptions where business_id = (select business_b from ids)), 0, 'subscriptions/select: not another''s');
select pg_temp.as_user((select owner_a from ids));
select is((select count(*)::int from public.subscriptions where business_id = (select business_a from ids)), 1, 'subscriptions/select: owners read theirs');
select throws_ok($$update public.subscriptions set conversation_quota = 1000000$$, '42501', null, 'subscriptions/update: owners cannot grant themselves quota');
select throws_ok($$insert into public.subscriptions (business_id, status, current_period_start, current_period_end, conversation_quota)
                   select business_a, 'active', now(), now() + interval '1 day', 5 from ids$$, '42501', null, 'subscriptions/insert: denied');
select throws_ok($$delete from public.subscriptions$$, '42501', null, 'subscriptions/delete: denied');
select pg_temp.as_user((select extra from ids));
select is((select count(*)::int from public.subscriptions), 0, 'subscriptions/select: a user of no business reads none');
set local role anon;
select throws_ok('select * from public.subscriptions', '42501', null, 'subscriptions/select: anon reads nothing');
reset role;

-- the trial is a plan row: create_business starts it with private.start_trial
create temp table t as select pg_temp.new_business() as id;
delete from public.subscriptions where business_id = (select id from t);
select is((select (status, plan_id, conversation_quota, current_period_end - current_period_start)::text from private.start_trial((select id from t))),
          '(trialing,trial,50,"14 days")', 'start_trial: 14 days and 50 conversations, from the trial plan row');
select ok((select s.id is null from private.start_trial((select id from t)) s), 'start_trial: a business that has a subscription gets no second trial');
select throws_ok($$select private.start_trial((select id from t), 'growth')$$, '22023', null, 'start_trial: only trial plans');
select is(private.billing_gate((select id from t)), null, 'a fresh trial lets conversations start');

-- the billing gate: a lead is texted back only with an entitling subscription, in its period, with quota left
create temp table b as select pg_temp.new_business() as id;
update public.businesses set duplicate_window_minutes = 0 where id = (select id from b);
select is(private.billing_gate((select id from b)), null, 'an active subscription with quota left lets a conversation start');
update public.subscriptions set status = 'canceled' where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440003'), 'no_active_subscription', 'canceled subscription: not texted');
update public.subscriptions set status = 'active', current_period_start = now() - interval '60 days', current_period_end = now() - interval '30 days'
 where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440004'), 'no_active_subscription', 'expired period: not texted');
update public.subscriptions set current_period_start = now() - interval '1 day', current_period_end = now() + interval '29 days' where business_id = (select id from b);
update public.subscriptions set status = 'unpaid' where business_id = (select id from b);
select is(private.billing_gate((select id from b)), 'no_active_subscription', 'unpaid: no texts');
update public.subscriptions set status = 'incomplete' where business_id = (select id from b);
select is(private.billing_gate((select id from b)), 'no_active_subscription', 'incomplete (first payment pending): no texts');
update public.subscriptions set status = 'paused' where business_id = (select id from b);
select is(private.billing_gate((select id from b)), 'no_active_subscription', 'paused: no texts');

-- past_due: texts continue for the grace period, then stop with their own reason; the owner is told once
update public.subscriptions set status = 'past_due' where business_id = (select id from b);
select ok((select past_due_since between now() - interval '1 second' and now() and grace_ends_at = past_due_since + interval '3 days'
             from public.subscriptions where business_id = (select id from b)), 'past_due: past_due_since is stamped, grace ends 3 days later');
select is(pg_temp.reason_for((select id from b), '+15554440011'), 'started', 'past_due inside the grace: the lead is texted');
update public.subscriptions set past_due_since = now() - interval '3 days 1 minute' where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440012'), 'payment_overdue', 'past_due after the grace: not texted, reason payment_overdue');
select is((select owner_alert_status from public.leads where phone = '+15554440012'), 'queued', 'payment overdue: the owner is still alerted');
select is(pg_temp.reason_for((select id from b), '+15554440013'), 'payment_overdue', 'a second lead: still payment_overdue');
select is((select count(*)::int from public.owner_notifications where business_id = (select id from b) and kind = 'billing.payment_overdue'), 1,
          'the owner is told once that leads are no longer texted');
update public.subscriptions set status = 'active' where business_id = (select id from b);
select is((select (past_due_since, grace_ends_at)::text from public.subscriptions where business_id = (select id from b)), '(,)', 'leaving past_due clears the grace');
update public.subscriptions set past_due_since = now() + interval '5 days', status = 'past_due' where business_id = (select id from b);
select ok((select past_due_since <= now() from public.subscriptions where business_id = (select id from b)), 'past_due_since is never in the future');

-- a Stripe subscription keeps texting for a day past its period end (its renewal comes by webhook); a trial does not
update public.subscriptions set status = 'active', current_period_start = now() - interval '30 days', current_period_end = now() - interval '1 hour',
       stripe_subscription_id = 'sub_gate', stripe_created_at = now() - interval '30 days', stripe_state_at = now() - interval '30 days'
 where business_id = (select id from b);
select is(private.billing_gate((select id from b)), null, 'Stripe subscription an hour past its period end: still texting');
select is(private.billing_gate((select id from b), now() + interval '1 day'), 'no_active_subscription', 'a day later: stopped');
update public.subscriptions set stripe_subscription_id = null, stripe_created_at = null, stripe_state_at = null where business_id = (select id from b);
select is(private.billing_gate((select id from b)), 'no_active_subscription', 'a subscription without Stripe ends at its period end');
select is(private.billing_gate((select id from b)), 'no_active_subscription', 'asked again');
select is((select count(*)::int from public.owner_notifications n join public.subscriptions s using (business_id)
            where n.business_id = (select id from b) and n.kind = 'billing.period_ended'
              and (n.details ->> 'current_period_end')::timestamptz = s.current_period_end), 1,
          'the owner is told once that the plan ended');
update public.subscriptions set current_period_end = now() + interval '29 days' where business_id = (select id from b);
delete from public.subscriptions where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440005'), 'no_active_subscription', 'no subscription at all: not texted');
insert into public.subscriptions (business_id, status, current_period_start, current_period_end, conversation_quota)
values ((select id from b), 'trialing', now() - interval '1 day', now() + interval '13 days', 2);

-- quota exhaustion: two conversations allowed this period, the third lead is refused
select is(pg_temp.reason_for((select id from b), '+15554440006'), 'started', 'quota 2: first conversation starts');
select is(pg_temp.reason_for((select id from b), '+15554440007'), 'started', 'quota 2: second conversation starts');
select is(pg_temp.reason_for((select id from b), '+15554440008'), 'quota_exhausted', 'quota 2: the third lead is refused for quota');
select is((select (count(*), min(owner_alert_status))::text from public.leads where phone = '+15554440008'), '(1,queued)', 'quota exhausted: the owner is still alerted');
select is((select count(*)::int from public.owner_notifications where business_id = (select id from b) and kind = 'billing.quota_exhausted'), 1,
          'quota exhausted: the owner is told once');
select is((select conversations_used from public.subscriptions where business_id = (select id from b)), 2, 'quota 2: the usage counter says two');

select * from finish();
rollback;
