-- The billing gate: a lead is texted back only while the business's subscription is trialing or
-- active, inside its period, with conversation quota left. Each started conversation counts once.

create table public.subscriptions (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null unique references public.businesses (id) on delete cascade,
  status text not null check (status in ('trialing', 'active', 'past_due', 'canceled')),
  current_period_start timestamptz not null,
  current_period_end timestamptz not null,
  conversation_quota integer not null check (conversation_quota between 0 and 1000000),
  conversations_used integer not null default 0 check (conversations_used >= 0),
  usage_period_start timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint subscriptions_period_order check (current_period_start < current_period_end)
);
comment on table public.subscriptions is 'The billing gate: a lead is texted back only while the subscription is trialing/active, inside its period, with conversation quota left.';
comment on column public.subscriptions.conversations_used is 'Conversations started in the period that began at usage_period_start; a new current_period_start starts the count again at 0.';

create trigger subscriptions_touch_updated_at before update on public.subscriptions
  for each row execute function private.touch_updated_at();

alter table public.subscriptions enable row level security;
revoke all on public.subscriptions from anon, authenticated;
grant select on public.subscriptions to authenticated;
grant all on public.subscriptions to service_role;

create policy "members can read their subscription" on public.subscriptions
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

create or replace function private.conversations_used(p_subscription public.subscriptions)
returns integer
language sql
immutable
set search_path = ''
as $$
  select case when p_subscription.usage_period_start = p_subscription.current_period_start
              then p_subscription.conversations_used else 0 end
$$;
comment on function private.conversations_used(public.subscriptions) is 'Conversations counted in the current period (0 once a new period has begun).';
revoke execute on function private.conversations_used(public.subscriptions) from public;

-- The subscription row lock is held until the caller's transaction ends, and the caller counts the
-- conversation it starts (count_conversation) before then: the quota is exact under concurrency.
create or replace function private.billing_gate(p_business_id uuid, p_at timestamptz default now())
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  subscription public.subscriptions;
begin
  select * into subscription from public.subscriptions s where s.business_id = p_business_id for update;
  if subscription.id is null or subscription.status not in ('trialing', 'active')
     or p_at < subscription.current_period_start or p_at >= subscription.current_period_end then
    return 'no_active_subscription';
  end if;
  if private.conversations_used(subscription) >= subscription.conversation_quota then
    return 'quota_exhausted';
  end if;
  return null;
end
$$;
comment on function private.billing_gate(uuid, timestamptz) is 'Null when the business may start a conversation now, else why not (no_active_subscription, quota_exhausted). Locks the subscription row.';
revoke execute on function private.billing_gate(uuid, timestamptz) from public;

create or replace function private.count_conversation(p_business_id uuid)
returns void
language sql
volatile
set search_path = ''
as $$
  update public.subscriptions s
     set conversations_used = private.conversations_used(s) + 1, usage_period_start = s.current_period_start
   where s.business_id = p_business_id
$$;
comment on function private.count_conversation(uuid) is 'Counts one started conversation against the current period''s quota.';
revoke execute on function private.count_conversation(uuid) from public;
