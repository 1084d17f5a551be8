-- Stripe billing: the customer each business has at Stripe, the events the stripe-webhook has
-- processed (idempotency by event id), and how a Stripe subscription becomes the business's row in
-- public.subscriptions. The edge functions only talk to Stripe; every decision is made here:
-- who may open checkout or the portal (owners), which of two states is newer, which of two
-- subscriptions counts, when the quota starts again, and what the owner is told (once).

create table private.billing_customers (
  business_id uuid primary key references public.businesses (id) on delete cascade,
  stripe_customer_id text not null unique check (stripe_customer_id ~ '^cus_[A-Za-z0-9_]{1,250}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table private.billing_customers is 'The Stripe customer of each business, created once by billing-checkout; webhooks find the business through it.';
alter table private.billing_customers enable row level security;

create trigger billing_customers_touch_updated_at before update on private.billing_customers
  for each row execute function private.touch_updated_at();

create table private.stripe_events (
  id text primary key check (id ~ '^evt_[A-Za-z0-9_]{1,250}$'),
  type text not null check (length(type) between 1 and 100),
  created timestamptz not null,
  business_id uuid references public.businesses (id) on delete cascade,
  stripe_subscription_id text,
  outcome text not null check (outcome in ('applied', 'stale', 'superseded', 'unknown_customer')),
  processed_at timestamptz not null default now()
);
comment on table private.stripe_events is 'Stripe events the webhook has processed, by id: a redelivery or replay of one changes nothing. Kept 30 days (Stripe retries for 3).';
comment on column private.stripe_events.outcome is 'applied; stale (older than the state held); superseded (another subscription of the business counts); unknown_customer (not a customer leadloop created).';
create index stripe_events_processed_at_idx on private.stripe_events (processed_at);
create index stripe_events_business_id_idx on private.stripe_events (business_id) where business_id is not null;
alter table private.stripe_events enable row level security;

create or replace function private.prune_stripe_events()
returns void
language sql
volatile
set search_path = ''
as $$
  delete from private.stripe_events e where e.processed_at < now() - interval '30 days'
$$;
comment on function private.prune_stripe_events() is 'pg_cron, daily: forgets processed Stripe events after 30 days.';
revoke execute on function private.prune_stripe_events() from public;

select cron.schedule('leadloop-prune-stripe-events', '17 4 * * *', 'select private.prune_stripe_events()');

-- For billing-checkout and billing-portal, called with the user's JWT: the database decides who may
-- manage billing (owners of the business; staff, other businesses and anon are refused).
create or replace function public.billing_account(p_business_id uuid, p_plan_id text default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  account jsonb;
  plan public.plans;
begin
  perform private.require_owner(p_business_id);
  if p_plan_id is not null then
    select * into plan from public.plans p where p.id = p_plan_id and p.active and p.stripe_lookup_key is not null;
    if plan.id is null then
      raise exception 'there is no plan "%" to buy', left(p_plan_id, 40) using errcode = '22023';
    end if;
  end if;
  select jsonb_build_object(
           'business_id', b.id,
           'business_name', b.name,
           'email', (select u.email from auth.users u where u.id = (select auth.uid())),
           'stripe_customer_id', c.stripe_customer_id,
           'stripe_subscription_id', s.stripe_subscription_id,
           'subscription_status', s.status,
           'plan_id', plan.id,
           'plan_lookup_key', plan.stripe_lookup_key)
    into account
    from public.businesses b
    left join private.billing_customers c on c.business_id = b.id
    left join public.subscriptions s on s.business_id = b.id
   where b.id = p_business_id;
  return account;
end
$$;
comment on function public.billing_account(uuid, text) is 'billing-checkout/-portal, user JWT: the business''s billing facts (Stripe customer and subscription, the plan to buy when p_plan_id is given) for its owner; 42501 for anyone else, 22023 for a plan that cannot be bought.';
revoke execute on function public.billing_account(uuid, text) from public, anon;
grant execute on function public.billing_account(uuid, text) to authenticated, service_role;

-- billing-checkout, service role: the first customer stored for a business stays (a parallel
-- checkout gets the same one back); p_replaces swaps a customer Stripe no longer has.
create or replace function public.record_stripe_customer(p_business_id uuid, p_customer_id text, p_replaces text default null)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  stored text;
begin
  begin
    insert into private.billing_customers as c (business_id, stripe_customer_id)
    values (p_business_id, p_customer_id)
    on conflict (business_id) do update set stripe_customer_id = excluded.stripe_customer_id
     where p_replaces is not null and c.stripe_customer_id = p_replaces;
  exception when unique_violation then
    -- Two first checkouts at once both got the same customer back from Stripe (one idempotency key):
    -- the one that waited meets the other's row on the customer id, not on the arbiter (business_id).
    null;
  end;
  select c.stripe_customer_id into stored from private.billing_customers c where c.business_id = p_business_id;
  if stored is null then
    raise exception 'Stripe customer % belongs to another business', left(p_customer_id, 60) using errcode = '23505';
  end if;
  return stored;
end
$$;
comment on function public.record_stripe_customer(uuid, text, text) is 'billing-checkout: stores the business''s Stripe customer unless it has one (then returns that one); p_replaces swaps out a customer that no longer exists at Stripe.';
revoke execute on function public.record_stripe_customer(uuid, text, text) from public, anon, authenticated;
grant execute on function public.record_stripe_customer(uuid, text, text) to service_role;

-- Standing of a subscription when two compete for one business: live ones (entitling, or billing
-- toward it) beat one whose first payment is pending, which beats ended ones. A row without a
-- Stripe id is live while its period runs.
create or replace function private.subscription_standing(p_status text, p_stripe_managed boolean, p_period_end timestamptz)
returns integer
language sql
stable
set search_path = ''
as $$
  select case
    when not p_stripe_managed then case when p_status in ('trialing', 'active') and now() < p_period_end then 2 else 0 end
    when p_status in ('canceled', 'incomplete_expired') then 0
    when p_status = 'incomplete' then 1
    else 2
  end
$$;
comment on function private.subscription_standing(text, boolean, timestamptz) is '2 live, 1 waiting for its first payment, 0 ended: which of two subscriptions of one business counts.';
revoke execute on function private.subscription_standing(text, boolean, timestamptz) from public;

-- What to do with a snapshot of a Stripe subscription, given the row held for its business.
-- From an event: older than the held state -> stale; the same second -> re-read it from Stripe (the
-- order of events sharing `created` is unknown); another subscription -> re-read too (which one
-- counts is decided on Stripe's current state). A re-read (p_fetched) is current: it applies to its
-- own subscription, and replaces another one when it stands higher, or as high and is newer.
create or replace function private.stripe_snapshot_verdict(p_held public.subscriptions, p_snapshot jsonb, p_event_created timestamptz, p_fetched boolean)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  standing integer := private.subscription_standing(p_snapshot ->> 'status', true, null);
begin
  if p_held.id is null then
    return 'apply';
  end if;
  if p_held.stripe_subscription_id = p_snapshot ->> 'id' then
    if p_fetched or p_event_created > p_held.stripe_state_at then
      return 'apply';
    end if;
    return case when p_event_created = p_held.stripe_state_at then 'needs_refetch' else 'stale' end;
  end if;
  if not p_fetched then
    return 'needs_refetch';
  end if;
  if standing > private.subscription_standing(p_held.status, p_held.stripe_subscription_id is not null, p_held.current_period_end)
     or (standing = private.subscription_standing(p_held.status, p_held.stripe_subscription_id is not null, p_held.current_period_end)
         and (p_held.stripe_created_at is null or (p_snapshot ->> 'created')::timestamptz >= p_held.stripe_created_at)) then
    return 'apply';
  end if;
  return 'superseded';
end
$$;
comment on function private.stripe_snapshot_verdict(public.subscriptions, jsonb, timestamptz, boolean) is 'apply, stale, superseded or needs_refetch for a Stripe subscription snapshot against the row held for its business (see the comment above it in stripe_billing.sql).';
revoke execute on function private.stripe_snapshot_verdict(public.subscriptions, jsonb, timestamptz, boolean) from public;

-- The owner is told about every change of the subscription once: a new status (or another
-- subscription), a plan change, a cancellation scheduled or withdrawn. Dedupe keys name the
-- subscription, the change and the period, so redeliveries and re-reads tell nobody twice.
create or replace function private.notify_billing_change(p_before public.subscriptions, p_after public.subscriptions)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  timezone text := (select b.timezone from public.businesses b where b.id = p_after.business_id);
  plan_name text := coalesce((select p.name from public.plans p where p.id = p_after.plan_id), 'Your plan');
  subscription_key text := coalesce(p_after.stripe_subscription_id, p_after.id::text);
  period_key text := extract(epoch from p_after.current_period_start)::bigint::text;
  period_end text := to_char(p_after.current_period_end at time zone timezone, 'FMMonth FMDD, YYYY');
  details jsonb := jsonb_build_object('status', p_after.status, 'plan_id', p_after.plan_id, 'stripe_subscription_id', p_after.stripe_subscription_id,
                                      'current_period_end', p_after.current_period_end);
begin
  if p_before.id is null or p_before.status is distinct from p_after.status
     or p_before.stripe_subscription_id is distinct from p_after.stripe_subscription_id then
    perform private.notify_owner(p_after.business_id, 'billing.' || p_after.status,
      'billing.status:' || subscription_key || ':' || p_after.status || ':' || period_key,
      case p_after.status
        when 'active' then format('%s plan active', plan_name)
        when 'trialing' then 'Trial started'
        when 'past_due' then 'Payment failed: update your card'
        when 'unpaid' then 'Subscription unpaid: leads are no longer texted'
        when 'canceled' then 'Subscription ended: leads are no longer texted'
        when 'incomplete' then 'First payment did not go through'
        when 'incomplete_expired' then 'Subscription not started: payment never completed'
        when 'paused' then 'Subscription paused: leads are no longer texted'
      end,
      case p_after.status
        when 'active' then format('%s conversations per period; the current period ends %s.', p_after.conversation_quota, period_end)
        when 'trialing' then format('%s: %s conversations until %s.', plan_name, p_after.conversation_quota, period_end)
        when 'past_due' then format('Stripe could not charge your card for %s. Leads are still texted until %s; after that you keep getting an alert for every lead, but leads are not texted back until the payment goes through. Update your card under Billing.',
                                    plan_name, to_char(p_after.grace_ends_at at time zone timezone, 'FMMonth FMDD, YYYY "at" FMHH12:MI AM'))
        when 'incomplete' then format('The first payment for %s failed, so the subscription has not started. Pay the open invoice or choose the plan again under Billing.', plan_name)
        else 'You keep getting an alert for every lead, but leads are not texted back. Choose a plan under Billing to start again.'
      end,
      case when p_after.status in ('active', 'trialing') then 'info' when p_after.status in ('past_due', 'unpaid') then 'critical' else 'warning' end,
      details);
  elsif p_before.plan_id is distinct from p_after.plan_id then
    perform private.notify_owner(p_after.business_id, 'billing.plan_changed',
      'billing.plan:' || subscription_key || ':' || coalesce(p_after.plan_id, '-') || ':' || period_key,
      format('Plan changed to %s', plan_name),
      format('%s conversations per period from now on.', p_after.conversation_quota), 'info', details);
  end if;
  if p_after.cancel_at_period_end and not coalesce(p_before.cancel_at_period_end, false) and p_after.status not in ('canceled', 'incomplete_expired') then
    perform private.notify_owner(p_after.business_id, 'billing.cancel_scheduled',
      'billing.cancel_scheduled:' || subscription_key || ':' || extract(epoch from coalesce(p_after.cancel_at, p_after.current_period_end))::bigint,
      'Subscription set to end',
      format('%s ends on %s and will not renew. Leads are texted until then; renew it under Billing to keep going.', plan_name,
             to_char(coalesce(p_after.cancel_at, p_after.current_period_end) at time zone timezone, 'FMMonth FMDD, YYYY')),
      'warning', details);
  elsif p_before.cancel_at_period_end and not p_after.cancel_at_period_end and p_before.stripe_subscription_id = p_after.stripe_subscription_id
        and p_after.status not in ('canceled', 'incomplete_expired') then
    perform private.notify_owner(p_after.business_id, 'billing.cancel_withdrawn',
      'billing.cancel_withdrawn:' || subscription_key || ':' || period_key,
      'Subscription renews again', format('%s renews on %s.', plan_name, period_end), 'info', details);
  end if;
end
$$;
comment on function private.notify_billing_change(public.subscriptions, public.subscriptions) is 'Tells the owner (once, by dedupe key) what changed between two states of the business''s subscription: status, plan, scheduled cancellation.';
revoke execute on function private.notify_billing_change(public.subscriptions, public.subscriptions) from public;

-- Writes a Stripe subscription snapshot (see functions/_shared/billing.ts) as the business's row. The
-- quota starts again when an invoice for a period newer than the last reset is paid.
create or replace function private.apply_stripe_subscription(
  p_business_id uuid, p_held public.subscriptions, p_snapshot jsonb, p_event_created timestamptz, p_paid_period_start timestamptz)
returns public.subscriptions
language plpgsql
volatile
set search_path = ''
as $$
declare
  plan public.plans;
  applied public.subscriptions;
begin
  select * into plan from public.plans p where p.stripe_lookup_key = p_snapshot ->> 'lookup_key';
  if plan.id is null then
    raise exception 'no plan has the Stripe lookup key "%" (price %)', p_snapshot ->> 'lookup_key', p_snapshot ->> 'price_id'
      using errcode = '22023', hint = 'Give the Stripe price a lookup key listed in public.plans.stripe_lookup_key.';
  end if;
  insert into public.subscriptions as s (
    business_id, plan_id, status, current_period_start, current_period_end, conversation_quota, past_due_since,
    cancel_at_period_end, cancel_at, canceled_at, stripe_subscription_id, stripe_created_at, stripe_state_at)
  values (
    p_business_id, plan.id, p_snapshot ->> 'status',
    (p_snapshot ->> 'current_period_start')::timestamptz, (p_snapshot ->> 'current_period_end')::timestamptz,
    plan.conversations_per_period, p_event_created, coalesce((p_snapshot ->> 'cancel_at_period_end')::boolean, false),
    (p_snapshot ->> 'cancel_at')::timestamptz, (p_snapshot ->> 'canceled_at')::timestamptz,
    p_snapshot ->> 'id', (p_snapshot ->> 'created')::timestamptz,
    -- A re-read can be ahead of the event that caused it: it is as recent as the latest change it shows.
    greatest(p_event_created, (p_snapshot ->> 'changed_at')::timestamptz))
  on conflict (business_id) do update set
    plan_id = excluded.plan_id,
    status = excluded.status,
    current_period_start = excluded.current_period_start,
    current_period_end = excluded.current_period_end,
    conversation_quota = excluded.conversation_quota,
    -- Still past due on the same subscription: since the first time it was.
    past_due_since = case when s.status = 'past_due' and s.stripe_subscription_id = excluded.stripe_subscription_id
                          then s.past_due_since else excluded.past_due_since end,
    cancel_at_period_end = excluded.cancel_at_period_end,
    cancel_at = excluded.cancel_at,
    canceled_at = excluded.canceled_at,
    stripe_subscription_id = excluded.stripe_subscription_id,
    stripe_created_at = excluded.stripe_created_at,
    stripe_state_at = case when s.stripe_subscription_id = excluded.stripe_subscription_id
                           then greatest(s.stripe_state_at, excluded.stripe_state_at) else excluded.stripe_state_at end
  returning * into applied;
  if p_paid_period_start is not null and (applied.quota_period_start is null or p_paid_period_start > applied.quota_period_start) then
    update public.subscriptions s set conversations_used = 0, quota_period_start = p_paid_period_start
     where s.id = applied.id
    returning * into applied;
  end if;
  perform private.notify_billing_change(p_held, applied);
  return applied;
end
$$;
comment on function private.apply_stripe_subscription(uuid, public.subscriptions, jsonb, timestamptz, timestamptz) is 'Upserts the business''s subscription from a Stripe snapshot (plan by price lookup key), resets the quota for a newly paid period, notifies the owner of the change.';
revoke execute on function private.apply_stripe_subscription(uuid, public.subscriptions, jsonb, timestamptz, timestamptz) from public;

-- stripe-webhook, service role. Called first with the event's own subscription snapshot (or none,
-- for events that carry another object); answers needs_refetch when the function must read the
-- subscription from Stripe and call again with p_fetched. Nothing is recorded until the event is
-- decided, so a failure anywhere leaves it to Stripe's retry.
create or replace function public.record_stripe_event(
  p_event_id text, p_event_type text, p_event_created timestamptz,
  p_subscription jsonb default null, p_fetched boolean default false, p_paid_period_start timestamptz default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  target_business uuid;
  held public.subscriptions;
  applied public.subscriptions;
  verdict text;
begin
  -- Two deliveries of one event wait for each other here; the second then sees the first's row.
  perform pg_advisory_xact_lock(hashtextextended('stripe_event:' || p_event_id, 0));
  if exists (select 1 from private.stripe_events e where e.id = p_event_id) then
    return jsonb_build_object('outcome', 'duplicate');
  end if;
  if p_subscription is null then
    return jsonb_build_object('outcome', 'needs_refetch');
  end if;
  select c.business_id into target_business from private.billing_customers c where c.stripe_customer_id = p_subscription ->> 'customer';
  if target_business is null then
    verdict := 'unknown_customer';
  else
    -- One business's events are applied one at a time, even before it has a subscription row.
    perform pg_advisory_xact_lock(hashtextextended('billing:' || target_business, 0));
    select * into held from public.subscriptions s where s.business_id = target_business for update;
    verdict := private.stripe_snapshot_verdict(held, p_subscription, p_event_created, p_fetched);
    if verdict = 'needs_refetch' then
      return jsonb_build_object('outcome', verdict, 'business_id', target_business);
    end if;
    if verdict = 'apply' then
      applied := private.apply_stripe_subscription(target_business, held, p_subscription, p_event_created, p_paid_period_start);
      verdict := 'applied';
    elsif verdict = 'superseded' and p_subscription ->> 'status' = 'incomplete' then
      -- A checkout whose first payment failed while a trial runs: the trial stays, the owner learns why nothing changed.
      perform private.notify_owner(target_business, 'billing.incomplete', 'billing.status:' || (p_subscription ->> 'id') || ':incomplete',
        'First payment did not go through',
        'The card was not charged and your current plan continues. Choose the plan again under Billing with another card.',
        'warning', jsonb_build_object('stripe_subscription_id', p_subscription ->> 'id'));
    end if;
  end if;
  insert into private.stripe_events (id, type, created, business_id, stripe_subscription_id, outcome)
  values (p_event_id, p_event_type, p_event_created, target_business, p_subscription ->> 'id', verdict);
  return jsonb_build_object('outcome', verdict, 'business_id', target_business, 'status', coalesce(applied.status, held.status));
end
$$;
comment on function public.record_stripe_event(text, text, timestamptz, jsonb, boolean, timestamptz) is 'stripe-webhook: processes one Stripe event once (by id): duplicate, needs_refetch, applied, stale, superseded or unknown_customer.';
revoke execute on function public.record_stripe_event(text, text, timestamptz, jsonb, boolean, timestamptz) from public, anon, authenticated;
grant execute on function public.record_stripe_event(text, text, timestamptz, jsonb, boolean, timestamptz) to service_role;
