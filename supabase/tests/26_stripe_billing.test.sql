-- Stripe billing: who may open checkout/portal (billing_account), the customer stored once, and how
-- Stripe events become the business's subscription: once per event id, older events ignored, events
-- of the same second and subscription switches re-read, quota reset on a newly paid period, the
-- owner told once per change.
begin;
\ir _helpers.psql
select plan(50);
select pg_temp.two_businesses();
grant select on ids to service_role;

-- A subscription snapshot as functions/_shared/billing.ts sends it.
create function pg_temp.snap(p_id text, p_status text, p_period_start timestamptz, p_created timestamptz default now() - interval '40 days',
                             p_lookup text default 'leadloop_growth_monthly', p_cancel boolean default false, p_customer text default 'cus_A')
returns jsonb language sql as $$
  select jsonb_build_object('id', p_id, 'customer', p_customer, 'status', p_status, 'created', p_created, 'lookup_key', p_lookup,
                            'price_id', 'price_1', 'current_period_start', p_period_start, 'current_period_end', p_period_start + interval '1 month',
                            'cancel_at_period_end', p_cancel, 'cancel_at', null, 'canceled_at', null, 'changed_at', p_period_start)
$$;
-- record_stripe_event as the webhook calls it, answering the outcome.
create function pg_temp.event(p_id text, p_created timestamptz, p_snapshot jsonb, p_fetched boolean default false, p_paid timestamptz default null)
returns text language sql as $$
  select public.record_stripe_event(p_id, 'customer.subscription.updated', p_created, p_snapshot, p_fetched, p_paid) ->> 'outcome'
$$;
create function pg_temp.held() returns text language sql as $$
  select format('%s %s %s/%s', coalesce(stripe_subscription_id, 'manual'), status, conversations_used, conversation_quota)
    from public.subscriptions where business_id = (select business_a from ids)
$$;
create function pg_temp.told(p_kind text) returns int language sql as $$
  select count(*)::int from public.owner_notifications where business_id = (select business_a from ids) and kind = p_kind
$$;

-- billing_account: owners only
create temp table owner_email as select email::text as email from auth.users where id = (select owner_a from ids);
grant select on owner_email to authenticated;
select pg_temp.as_user((select owner_a from ids));
select is((select public.billing_account(business_a) ->> 'business_id' from ids), (select business_a::text from ids), 'billing_account: the owner gets the account');
select is((select public.billing_account(business_a) ->> 'email' from ids), (select email from owner_email), 'billing_account: with the owner''s email');
select is((select public.billing_account(business_a, 'growth') ->> 'plan_lookup_key' from ids), 'leadloop_growth_monthly', 'billing_account: the plan to buy, by lookup key');
select throws_ok($$select public.billing_account(business_a, 'trial') from ids$$, '22023', null, 'billing_account: the trial cannot be bought');
select throws_ok($$select public.billing_account(business_a, 'platinum') from ids$$, '22023', null, 'billing_account: nor an unknown plan');
select throws_ok($$select public.billing_account(business_b) from ids$$, '42501', null, 'billing_account: another business''s owner is refused');
select pg_temp.as_user((select staff_a from ids));
select throws_ok($$select public.billing_account(business_a) from ids$$, '42501', null, 'billing_account: staff are refused');
select pg_temp.as_user((select extra from ids));
select throws_ok($$select public.billing_account(business_a) from ids$$, '42501', null, 'billing_account: a user of no business is refused');
select throws_ok($$select public.billing_account(null)$$, '42501', null, 'billing_account: no business, no account');
set local role anon;
select throws_ok($$select public.billing_account(business_a) from ids$$, '42501', null, 'billing_account: anon cannot call it');
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$select public.record_stripe_customer(business_a, 'cus_mine') from ids$$, '42501', null, 'record_stripe_customer: users cannot call it');
select throws_ok($$select public.record_stripe_event('evt_x', 'customer.subscription.updated', now(), null) $$, '42501', null, 'record_stripe_event: users cannot call it');
select pg_temp.as_postgres();

-- the customer is stored once
set local role service_role;
select is((select public.record_stripe_customer(business_a, 'cus_A') from ids), 'cus_A', 'record_stripe_customer: the first customer is stored');
select is((select public.record_stripe_customer(business_a, 'cus_other') from ids), 'cus_A', 'a second one (a parallel checkout) gets the stored one back');
select is((select public.record_stripe_customer(business_b, 'cus_gone') from ids), 'cus_gone', 'business B stores its own');
select is((select public.record_stripe_customer(business_b, 'cus_B', 'cus_gone') from ids), 'cus_B', 'p_replaces swaps a customer Stripe no longer has');
select is((select public.record_stripe_customer(business_b, 'cus_C', 'cus_gone') from ids), 'cus_B', 'but only that one');

-- events for a customer leadloop never created are recorded and ignored
select is(pg_temp.event('evt_stranger', now(), pg_temp.snap('sub_stranger', 'active', now(), p_customer => 'cus_stranger')), 'unknown_customer', 'a stranger''s subscription: unknown_customer');
select is(pg_temp.event('evt_stranger', now(), pg_temp.snap('sub_stranger', 'active', now(), p_customer => 'cus_stranger')), 'duplicate', 'the same event again: duplicate');

-- a new Stripe subscription against the fixture's hand-made active row
select is(pg_temp.event('evt_1', now() - interval '40 days', pg_temp.snap('sub_1', 'incomplete', now() - interval '40 days')), 'needs_refetch',
          'another subscription than the one held: re-read from Stripe first');
reset role;
select is((select count(*)::int from private.stripe_events where id = 'evt_1'), 0, 'needs_refetch records nothing');
select is(pg_temp.event('evt_1', now() - interval '40 days', pg_temp.snap('sub_1', 'incomplete', now() - interval '40 days'), true), 'superseded',
          'an incomplete subscription does not replace a running one');
select is(pg_temp.held(), 'manual active 1/100', 'the hand-made row stays');
select is(pg_temp.told('billing.incomplete'), 1, 'the owner learns the first payment failed and the current plan continues');
select is(pg_temp.event('evt_2', now() - interval '40 days', pg_temp.snap('sub_1', 'active', now() - interval '40 days'), true, now() - interval '40 days'), 'applied',
          'once paid (invoice.paid, re-read): applied');
select is(pg_temp.held(), 'sub_1 active 0/500', 'the business is on Growth: status, quota from the plan row');
select is((select plan_id from public.subscriptions where business_id = (select business_a from ids)), 'growth', 'plan_id from the price''s lookup key');
select is(pg_temp.told('billing.active'), 1, 'the owner is told the plan is active');

-- order: older events are ignored, the same second is re-read, newer ones apply
update public.subscriptions set conversations_used = 7 where business_id = (select business_a from ids);
select is(pg_temp.event('evt_old', now() - interval '41 days', pg_temp.snap('sub_1', 'incomplete', now() - interval '40 days')), 'stale', 'an older event: stale');
select is(pg_temp.held(), 'sub_1 active 7/500', 'a stale event changes nothing');
select is(pg_temp.event('evt_tie', now() - interval '40 days', pg_temp.snap('sub_1', 'incomplete', now() - interval '40 days')), 'needs_refetch',
          'an event of the same second as the state held: re-read');
select is(pg_temp.event('evt_tie', now() - interval '40 days', pg_temp.snap('sub_1', 'active', now() - interval '40 days'), true), 'applied', 'the re-read applies');
select is(pg_temp.event('evt_tie', now() - interval '40 days', pg_temp.snap('sub_1', 'active', now() - interval '40 days'), true), 'duplicate', 'and is recorded once');

-- renewal fails: past_due, told once, the grace starts; the quota is not reset until a payment
select is(pg_temp.event('evt_due', now() - interval '10 days', pg_temp.snap('sub_1', 'past_due', now() - interval '10 days')), 'applied', 'a failed renewal: past_due');
select is(pg_temp.held(), 'sub_1 past_due 7/500', 'the period moved, the count did not (nothing paid)');
select ok((select past_due_since = now() - interval '10 days' and grace_ends_at = now() - interval '7 days'
             from public.subscriptions where business_id = (select business_a from ids)), 'past due since the event''s time; the grace ends 3 days later');
select is(pg_temp.event('evt_due2', now() - interval '8 days', pg_temp.snap('sub_1', 'past_due', now() - interval '10 days')), 'applied', 'a later past_due event');
select ok((select past_due_since = now() - interval '10 days' from public.subscriptions where business_id = (select business_a from ids)), 'keeps the first past_due time');
select is(pg_temp.told('billing.past_due'), 1, 'the owner is told about the failed payment once');
select is(pg_temp.event('evt_reread', now() - interval '7 days',
                        jsonb_set(pg_temp.snap('sub_1', 'past_due', now() - interval '10 days'), '{changed_at}', to_jsonb(now() - interval '6 days')), true),
          'applied', 'a re-read showing a change 6 days ago (ahead of the event that caused it)');
select is(pg_temp.event('evt_between', now() - interval '6 days 12 hours', pg_temp.snap('sub_1', 'active', now() - interval '10 days')) || ' ' || pg_temp.held(),
          'stale sub_1 past_due 7/500', 'an event older than what the re-read showed does not undo it');
select is(pg_temp.event('evt_paid', now() - interval '5 days', pg_temp.snap('sub_1', 'active', now() - interval '10 days'), true, now() - interval '10 days'), 'applied',
          'the retry is paid');
select is(pg_temp.held(), 'sub_1 active 0/500', 'active again, the period''s quota starts at 0');
select is(pg_temp.event('evt_paid_again', now() - interval '5 days', pg_temp.snap('sub_1', 'active', now() - interval '10 days'), true, now() - interval '10 days') ||
          ' ' || pg_temp.held(), 'applied sub_1 active 0/500', 'another payment for the same period resets nothing');

-- plan change and scheduled cancellation are told once each
select is(pg_temp.event('evt_pro', now() - interval '4 days', pg_temp.snap('sub_1', 'active', now() - interval '10 days', p_lookup => 'leadloop_pro_monthly')) ||
          ' ' || pg_temp.held(), 'applied sub_1 active 0/2000', 'a switch to Pro: the quota follows the plan');
select is(pg_temp.event('evt_cancel', now() - interval '3 days', pg_temp.snap('sub_1', 'active', now() - interval '10 days', p_lookup => 'leadloop_pro_monthly', p_cancel => true)) ||
          pg_temp.event('evt_cancel2', now() - interval '2 days', pg_temp.snap('sub_1', 'active', now() - interval '10 days', p_lookup => 'leadloop_pro_monthly', p_cancel => true)),
          'appliedapplied', 'cancel at period end, twice');
select is((pg_temp.told('billing.plan_changed'), pg_temp.told('billing.cancel_scheduled'))::text, '(1,1)', 'the owner is told of the plan change and the cancellation once each');
select throws_ok($$select pg_temp.event('evt_bad_price', now(), pg_temp.snap('sub_1', 'active', now() - interval '10 days', p_lookup => 'someone_elses_price'))$$,
                 '22023', null, 'a price no plan names: an error (Stripe retries once it is fixed)');

-- a second subscription: the newer live one wins; the old one's end changes nothing
select is(pg_temp.event('evt_s2', now() - interval '1 day', pg_temp.snap('sub_2', 'active', now() - interval '1 day', p_created => now() - interval '1 day'), true) ||
          ' ' || pg_temp.event('evt_s1_end', now(), pg_temp.snap('sub_1', 'canceled', now() - interval '10 days', p_lookup => 'leadloop_pro_monthly'), true) || ' ' || pg_temp.held(),
          'applied superseded sub_2 active 0/500', 'a newer live subscription replaces the old one, whose end is then ignored');

-- processed events are forgotten after 30 days
insert into private.stripe_events (id, type, created, outcome, processed_at) values ('evt_ancient', 'invoice.paid', now() - interval '40 days', 'stale', now() - interval '31 days');
select private.prune_stripe_events();
select is((select array_agg(id order by id) from private.stripe_events where id in ('evt_ancient', 'evt_2')), array['evt_2'], 'prune_stripe_events forgets events older than 30 days only');

select * from finish();
rollback;
