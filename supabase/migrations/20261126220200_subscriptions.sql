-- Plans and the billing gate. A lead is texted back only while the business's subscription entitles
-- it (trialing or active inside its period; past_due until the grace ends), with conversation quota
-- left. Each started conversation counts once; the count starts again when a period's invoice is paid
-- (stripe_billing.sql). Stripe owns the state of paid subscriptions; rows without a Stripe id are
-- trials and arrangements made by hand.

create table public.plans (
  id text primary key check (id ~ '^[a-z][a-z0-9_]{1,39}$'),
  name text not null check (length(btrim(name)) between 1 and 60),
  description text not null default '' check (length(description) <= 300),
  stripe_lookup_key text unique check (stripe_lookup_key ~ '^[A-Za-z0-9_.-]{1,200}$'),
  conversations_per_period integer not null check (conversations_per_period between 0 and 1000000),
  price_cents integer not null default 0 check (price_cents between 0 and 100000000),
  currency text not null default 'usd' check (currency ~ '^[a-z]{3}$'),
  billing_interval text check (billing_interval in ('month', 'year')),
  trial_days integer check (trial_days between 1 and 90),
  active boolean not null default true,
  sort_order integer not null default 0,
  created_at timestamptz not null default now(),
  -- A plan is sold through Stripe (a price found by its lookup key, billed every interval) or is a
  -- trial leadloop starts itself (so many days, never billed).
  constraint plans_sold_or_trial check (
    (stripe_lookup_key is not null and billing_interval is not null and trial_days is null)
    or (stripe_lookup_key is null and billing_interval is null and trial_days is not null and price_cents = 0))
);
comment on table public.plans is 'What a business can be on: Stripe plans (found by stripe_lookup_key, so the same rows serve test and live mode) and the trial leadloop starts itself. The one place quotas and displayed prices are written.';
comment on column public.plans.stripe_lookup_key is 'Lookup key of the Stripe price that sells this plan; the webhook maps a subscription''s price back to its plan through it. Null for the trial.';
comment on column public.plans.conversations_per_period is 'Lead conversations a business on this plan may start per billing period (per trial for the trial).';
comment on column public.plans.price_cents is 'Price per billing_interval, for display and for creating the Stripe price; Stripe charges what its price says.';
comment on column public.plans.trial_days is 'Only for the trial plan: how long private.start_trial runs it.';

alter table public.plans enable row level security;
revoke all on public.plans from anon, authenticated;
grant select on public.plans to authenticated;
grant all on public.plans to service_role;

create policy "signed-in users can read the plans" on public.plans
  for select to authenticated
  using (true);

insert into public.plans (id, name, description, stripe_lookup_key, conversations_per_period, price_cents, billing_interval, trial_days, sort_order)
values
  ('trial', 'Free trial', 'Every feature for 14 days.', null, 50, 0, null, 14, 0),
  ('starter', 'Starter', 'For a one-truck business.', 'leadloop_starter_monthly', 150, 2900, 'month', null, 1),
  ('growth', 'Growth', 'For a busy crew.', 'leadloop_growth_monthly', 500, 7900, 'month', null, 2),
  ('pro', 'Pro', 'For several crews and locations.', 'leadloop_pro_monthly', 2000, 19900, 'month', null, 3);

create table public.subscriptions (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null unique references public.businesses (id) on delete cascade,
  plan_id text references public.plans (id),
  status text not null check (status in ('trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'paused')),
  current_period_start timestamptz not null,
  current_period_end timestamptz not null,
  conversation_quota integer not null check (conversation_quota between 0 and 1000000),
  conversations_used integer not null default 0 check (conversations_used >= 0),
  quota_period_start timestamptz,
  past_due_since timestamptz,
  grace_ends_at timestamptz,
  cancel_at_period_end boolean not null default false,
  cancel_at timestamptz,
  canceled_at timestamptz,
  stripe_subscription_id text unique check (stripe_subscription_id ~ '^sub_[A-Za-z0-9_]{1,250}$'),
  stripe_created_at timestamptz,
  stripe_state_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint subscriptions_period_order check (current_period_start < current_period_end),
  constraint subscriptions_stripe_times check ((stripe_subscription_id is null) = (stripe_state_at is null) and (stripe_subscription_id is null) = (stripe_created_at is null))
);
comment on table public.subscriptions is 'The billing gate: one row per business. Stripe subscriptions are written by the stripe-webhook (public.record_stripe_event); a row without stripe_subscription_id is a trial (private.start_trial) or an arrangement made by hand.';
comment on column public.subscriptions.plan_id is 'The plan the business is on; null for an arrangement made by hand (then conversation_quota is whatever was agreed).';
comment on column public.subscriptions.conversations_used is 'Conversations started since quota_period_start; set back to 0 when an invoice for a newer period is paid.';
comment on column public.subscriptions.quota_period_start is 'Start of the period whose payment (or trial start) last reset conversations_used.';
comment on column public.subscriptions.past_due_since is 'When the subscription became past_due (kept while it stays past_due, cleared when it leaves).';
comment on column public.subscriptions.grace_ends_at is 'past_due_since + 3 days (set by private.subscriptions_track_past_due): until then leads are still texted; after it the gate answers payment_overdue (owner alerts never stop).';
comment on column public.subscriptions.stripe_state_at is 'Stripe time of the state this row holds (the event''s, or for a re-read the latest change the subscription shows); older events are ignored, events of the same second make the webhook re-read the subscription from Stripe.';
comment on column public.subscriptions.stripe_created_at is 'When Stripe created the subscription: between two subscriptions of one business, the newer one wins at equal standing.';
create index subscriptions_plan_id_idx on public.subscriptions (plan_id);

create trigger subscriptions_touch_updated_at before update on public.subscriptions
  for each row execute function private.touch_updated_at();

-- past_due_since follows the status whoever writes it (the webhook, a test, an operator by hand), and
-- the grace rule lives here, once: the gate and the dashboard both read grace_ends_at.
create or replace function private.subscriptions_track_past_due()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status <> 'past_due' then
    new.past_due_since := null;
  else
    new.past_due_since := least(new.past_due_since, now());  -- least() skips a null
  end if;
  new.grace_ends_at := new.past_due_since + interval '3 days';
  return new;
end
$$;
comment on function private.subscriptions_track_past_due() is 'BEFORE INSERT/UPDATE on subscriptions: past_due_since is never later than now (now when the writer gives none) and null unless past_due; grace_ends_at = past_due_since + 3 days.';
revoke execute on function private.subscriptions_track_past_due() from public;

create trigger subscriptions_track_past_due before insert or update on public.subscriptions
  for each row execute function private.subscriptions_track_past_due();

alter table public.subscriptions enable row level security;
revoke all on public.subscriptions from anon, authenticated;
grant select on public.subscriptions to authenticated;
grant all on public.subscriptions to service_role;

create policy "members can read their subscription" on public.subscriptions
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

alter publication supabase_realtime add table public.subscriptions;

-- Until when the subscription entitles the business to text leads. Stripe moves a paid subscription
-- to its next period at the period end and reports it by webhook: a day of slack keeps texting
-- while that report is on its way.
create or replace function private.entitled_until(p_subscription public.subscriptions)
returns timestamptz
language plpgsql
immutable
set search_path = ''
as $$
begin
  return p_subscription.current_period_end
         + case when p_subscription.stripe_subscription_id is null then interval '0' else interval '1 day' end;
end
$$;
comment on function private.entitled_until(public.subscriptions) is 'End of the current period, plus a day for a Stripe subscription (its renewal arrives by webhook).';
revoke execute on function private.entitled_until(public.subscriptions) from public;

-- The subscription row lock is held until the caller's transaction ends, and the caller counts the
-- conversation it starts (count_conversation) before then: the quota is exact under concurrency.
-- When the answer is a problem the owner can fix, the owner is told once per occurrence.
create or replace function private.billing_gate(p_business_id uuid, p_at timestamptz default now())
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  subscription public.subscriptions;
  verdict text;
begin
  select * into subscription from public.subscriptions s where s.business_id = p_business_id for update;
  if subscription.id is null then
    return 'no_active_subscription';
  end if;
  verdict := case
    when subscription.status = 'past_due' and p_at >= subscription.grace_ends_at then 'payment_overdue'
    when subscription.status not in ('trialing', 'active', 'past_due') or p_at >= private.entitled_until(subscription) then 'no_active_subscription'
    when subscription.conversations_used >= subscription.conversation_quota then 'quota_exhausted'
  end;
  if verdict = 'payment_overdue' then
    perform private.notify_owner(p_business_id, 'billing.payment_overdue',
      'billing.payment_overdue:' || subscription.id || ':' || extract(epoch from subscription.past_due_since)::bigint,
      'Leads are no longer texted: payment overdue',
      'The grace period after the failed payment has ended. You are still alerted about every lead, but leads are not texted back until the payment goes through. Update your card under Billing.',
      'critical', jsonb_build_object('grace_ends_at', subscription.grace_ends_at));
  elsif verdict = 'no_active_subscription' and subscription.status in ('trialing', 'active') then
    -- The period ran out with nothing to renew it (a trial, an arrangement by hand, or Stripe's renewal never arrived).
    perform private.notify_owner(p_business_id, 'billing.period_ended',
      'billing.period_ended:' || subscription.id || ':' || extract(epoch from subscription.current_period_end)::bigint,
      case when subscription.status = 'trialing' then 'Your trial has ended: leads are no longer texted' else 'Your plan has ended: leads are no longer texted' end,
      'You are still alerted about every lead, but leads are not texted back. Choose a plan under Billing to keep going.',
      'critical', jsonb_build_object('current_period_end', subscription.current_period_end));
  elsif verdict = 'quota_exhausted' then
    perform private.notify_owner(p_business_id, 'billing.quota_exhausted',
      'billing.quota_exhausted:' || subscription.id || ':' || extract(epoch from coalesce(subscription.quota_period_start, subscription.current_period_start))::bigint,
      'Conversation quota used up',
      format('All %s conversations of this period are used. You are still alerted about every lead, but new leads are not texted back until the next period or a bigger plan.', subscription.conversation_quota),
      'warning', jsonb_build_object('conversation_quota', subscription.conversation_quota, 'period_end', subscription.current_period_end));
  end if;
  return verdict;
end
$$;
comment on function private.billing_gate(uuid, timestamptz) is 'Null when the business may start a conversation now, else why not (no_active_subscription, payment_overdue, quota_exhausted); a period run out, the grace over or the quota used up is told to the owner once. Locks the subscription row.';
revoke execute on function private.billing_gate(uuid, timestamptz) from public;

create or replace function private.count_conversation(p_business_id uuid)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  update public.subscriptions s set conversations_used = s.conversations_used + 1 where s.business_id = p_business_id;
end
$$;
comment on function private.count_conversation(uuid) is 'Counts one started conversation against the current quota.';
revoke execute on function private.count_conversation(uuid) from public;

-- What create_business calls for a new business: the trial is a plan row like any other.
create or replace function private.start_trial(p_business_id uuid, p_plan_id text default 'trial', p_at timestamptz default now())
returns public.subscriptions
language plpgsql
volatile
set search_path = ''
as $$
declare
  plan public.plans;
  started public.subscriptions;
begin
  select * into plan from public.plans p where p.id = p_plan_id and p.trial_days is not null and p.active;
  if plan.id is null then
    raise exception 'no active trial plan "%"', p_plan_id using errcode = '22023';
  end if;
  insert into public.subscriptions (business_id, plan_id, status, current_period_start, current_period_end, conversation_quota, quota_period_start)
  values (p_business_id, plan.id, 'trialing', p_at, p_at + make_interval(days => plan.trial_days), plan.conversations_per_period, p_at)
  on conflict (business_id) do nothing
  returning * into started;
  return started;
end
$$;
comment on function private.start_trial(uuid, text, timestamptz) is 'Starts the plan''s trial (trial_days, conversations_per_period) for a business that has no subscription yet; returns the row, or null when it already had one.';
revoke execute on function private.start_trial(uuid, text, timestamptz) from public;
