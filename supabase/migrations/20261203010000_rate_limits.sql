-- Race-free limits (issue 12): leads per client address, per widget and per business each hour, and the
-- business-wide daily cap on texts. Each is a counter row per bucket and window, taken with one
-- INSERT ... ON CONFLICT DO UPDATE ... RETURNING: the row lock makes concurrent takers queue, so N parallel
-- submissions from one address with limit L accept exactly L (a refused one rolls its increment back).
-- Counting stored rows instead cannot be exact: parallel inserts all read the same committed count.
-- Windows are fixed clock hours (and the business's local day for texts), so a burst can straddle two
-- windows; that is the usual price of a counter and bounded by twice the limit.

create or replace function private.max_daily_sms_cap()
returns integer
language plpgsql
immutable
set search_path = ''
as $$
begin
  return 10000;
end
$$;
comment on function private.max_daily_sms_cap() is 'The platform''s ceiling for a business''s daily SMS cap: an owner may lower their cap, never raise it above this.';
revoke execute on function private.max_daily_sms_cap() from public;
grant execute on function private.max_daily_sms_cap() to authenticated, service_role;

alter table public.businesses
  add column max_leads_per_hour integer not null default 300 check (max_leads_per_hour between 1 and 100000),
  add column daily_sms_cap integer not null default 200 check (daily_sms_cap between 1 and private.max_daily_sms_cap());
comment on column public.businesses.max_leads_per_hour is 'Leads the business accepts per clock hour across all its widgets; more answer 429.';
comment on column public.businesses.daily_sms_cap is 'Texts (owner alerts, summaries and texts to leads) the business sends per local day; the rest are canceled with status_reason daily_sms_cap and the owner is told once. At most private.max_daily_sms_cap().';
grant update (max_leads_per_hour, daily_sms_cap) on public.businesses to authenticated;

-- ---------- leads per hour ----------

create table private.rate_counters (
  bucket text not null check (length(bucket) between 1 and 200),
  window_start timestamptz not null,
  hits integer not null check (hits >= 0),
  primary key (bucket, window_start)
);
comment on table private.rate_counters is 'Accepted leads per bucket (address:<widget>:<address>, widget:<id>, business:<id>) and clock hour; purged by the lifecycle sweep after a day.';
alter table private.rate_counters enable row level security;
revoke all on private.rate_counters from public, anon, authenticated;

-- An IPv6 client usually holds a whole /64: counting single addresses would give it billions of buckets.
create or replace function private.address_bucket(p_address text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case when p_address like '%:%' then network(set_masklen(p_address::inet, 64))::text else p_address end;
end
$$;
comment on function private.address_bucket(text) is 'The rate-limit bucket of a client address: the address for IPv4 and ''unknown'', its /64 network for IPv6.';
revoke execute on function private.address_bucket(text) from public;

-- The address's count is taken as soon as the submission is checked (leads_before_insert): only that
-- address's own submissions share its row, so a burst from one address queues on it and, once the limit
-- is reached, each of the rest is refused as soon as it gets the row, before doing any work. The widget's
-- and business's rows, which every visitor shares, are only looked at then (without a lock) and taken
-- at commit (leads_settle_at_commit), so they are locked for the commit alone. Rows are always taken in
-- the order address, widget, business: two submissions never wait on each other in opposite orders.
create or replace function private.take_address_allowance(p_widget public.widgets, p_address text)
returns void
language plpgsql
set search_path = ''
as $$
declare
  hits integer;
begin
  insert into private.rate_counters as c (bucket, window_start, hits)
  values ('address:' || p_widget.id || ':' || private.address_bucket(p_address), date_trunc('hour', now()), 1)
  on conflict (bucket, window_start) do update set hits = c.hits + 1
  returning c.hits into hits;
  if hits > p_widget.max_leads_per_ip_per_hour then
    raise exception using errcode = 'PT429', detail = 'limit: address',
      message = 'Too many requests from your network. Please wait a little while and try again, or call us.';
  end if;
end
$$;
comment on function private.take_address_allowance(public.widgets, text) is 'Counts the submission against its client address''s hourly limit (widgets.max_leads_per_ip_per_hour; IPv6 per /64, ''unknown'' is one address) and refuses it over the limit: PT429 (HTTP 429).';
revoke execute on function private.take_address_allowance(public.widgets, text) from public;

-- With p_take false, a look without locks that turns a submission away when the widget's or business's
-- hour is already full (counters only grow within a window, so a full one stays full); with p_take
-- true, the counted take at commit. One statement each, the limits joined in.
create or replace function private.check_form_limits(p_widget_id uuid, p_take boolean)
returns void
language plpgsql
set search_path = ''
as $$
declare
  this_hour timestamptz := date_trunc('hour', now());
  widget_key text := 'widget:' || p_widget_id;
  -- taking counts this submission, so it is refused above the limit; a look is refused at it
  allowance integer := case when p_take then 0 else 1 end;
  over_limit boolean;
begin
  if p_take then
    with taken as (
      insert into private.rate_counters as c (bucket, window_start, hits)
      select k.bucket, this_hour, 1
        from public.widgets w, unnest(array[widget_key, 'business:' || w.business_id]) with ordinality as k(bucket, n)
       where w.id = p_widget_id
       order by k.n
      on conflict (bucket, window_start) do update set hits = c.hits + 1
      returning c.bucket, c.hits
    )
    select bool_or(case when t.bucket = widget_key then t.hits > w.max_leads_per_hour else t.hits > b.max_leads_per_hour end)
      into over_limit
      from taken t, public.widgets w join public.businesses b on b.id = w.business_id
     where w.id = p_widget_id;
  else
    select bool_or(case when c.bucket = widget_key then c.hits + allowance > w.max_leads_per_hour
                        else c.hits + allowance > b.max_leads_per_hour end)
      into over_limit
      from public.widgets w join public.businesses b on b.id = w.business_id
      join private.rate_counters c on c.window_start = this_hour and c.bucket in (widget_key, 'business:' || w.business_id)
     where w.id = p_widget_id;
  end if;
  if over_limit then
    raise exception using errcode = 'PT429', detail = 'limit: form',
      message = 'This form is receiving too many requests right now. Please try again in a few minutes, or call us.';
  end if;
end
$$;
comment on function private.check_form_limits(uuid, boolean) is 'Leads per hour per widget (widgets.max_leads_per_hour) and per business (businesses.max_leads_per_hour): a lock-free look (p_take false) or the exact counted take at commit (p_take true). Over a limit: PT429 (HTTP 429).';
revoke execute on function private.check_form_limits(uuid, boolean) from public;

-- ---------- texts per day ----------

create table private.daily_sms_counts (
  business_id uuid not null references public.businesses (id) on delete cascade,
  day date not null,
  texts integer not null check (texts >= 0),
  primary key (business_id, day)
);
comment on table private.daily_sms_counts is 'Outbound texts per business and local day (of send_after), counted at commit; the daily SMS cap reads it. Purged by the lifecycle sweep after a week.';
alter table private.daily_sms_counts enable row level security;
revoke all on private.daily_sms_counts from public, anon, authenticated;

-- What happens to a text over the cap: canceled with its reason, the lead or conversation that waited for
-- it told, and the owner told once per day.
create or replace function private.refuse_over_daily_cap(p_message public.messages, p_business public.businesses, p_day date)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  cap integer := least(p_business.daily_sms_cap, private.max_daily_sms_cap());
begin
  update public.messages m set status = 'canceled', status_reason = 'daily_sms_cap' where m.id = p_message.id;
  if p_message.kind = 'owner_alert' then
    update public.leads l set owner_alert_status = 'skipped_daily_cap'
     where l.id = p_message.lead_id and l.owner_alert_status in ('queued', 'awaiting_verification');
  elsif p_message.kind = 'text_back' then
    perform private.close_conversation(p_message.conversation_id, 'failed', 'send_failed');
  end if;
  perform private.notify_owner(p_business.id, 'sms.daily_cap_reached', 'daily_sms_cap:' || p_day,
    'Daily text limit reached',
    format('Your business reached its limit of %s texts for %s. Texts to leads and your own alerts are not sent until the next day; '
           'new leads are still saved on the dashboard. You can change the limit in Settings (at most %s).',
           cap, to_char(p_day, 'FMMonth FMDD'), private.max_daily_sms_cap()),
    'warning', jsonb_build_object('day', p_day, 'cap', cap), p_message.lead_id, p_message.id);
end
$$;
comment on function private.refuse_over_daily_cap(public.messages, public.businesses, date) is 'Cancels a text over the daily SMS cap (status_reason daily_sms_cap), marks its owner alert or ends its conversation, and tells the owner once per day (sms.daily_cap_reached).';
revoke execute on function private.refuse_over_daily_cap(public.messages, public.businesses, date) from public;

-- Counted at commit (deferred constraint triggers, like the dispatch wake): the counter row every text of
-- the business shares is then locked for an instant, not for the rest of the transaction. The row is read
-- again at commit, so a text held for owner phone verification (send_after infinity) counts when released,
-- and one deleted before commit (a conversation undone by the billing gate) never counts. The opt-out
-- confirmation and the owner's verification code count but are never refused.
create or replace function private.messages_count_daily_sms()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner_business uuid;
  message_kind text;
  local_day date;
  cap integer;
  counted integer;
  message public.messages;
  business public.businesses;
begin
  select m.business_id, m.kind, (m.send_after at time zone b.timezone)::date, least(b.daily_sms_cap, private.max_daily_sms_cap())
    into owner_business, message_kind, local_day, cap
    from public.messages m join public.businesses b on b.id = m.business_id
   where m.id = new.id and m.status in ('queued', 'deferred') and m.send_after <> 'infinity';
  if owner_business is null then
    return null;
  end if;
  insert into private.daily_sms_counts as d (business_id, day, texts) values (owner_business, local_day, 1)
  on conflict on constraint daily_sms_counts_pkey do update set texts = d.texts + 1
   where d.texts < cap or message_kind in ('opt_out_ack', 'verification')
  returning d.texts into counted;
  if counted is null then
    select * into message from public.messages m where m.id = new.id;
    select * into business from public.businesses b where b.id = message.business_id;
    perform private.refuse_over_daily_cap(message, business, local_day);
  end if;
  return null;
end
$$;
comment on function private.messages_count_daily_sms() is 'Deferred constraint trigger: at commit, counts an outbound text against its business''s day and refuses it over the daily SMS cap (private.refuse_over_daily_cap).';
revoke execute on function private.messages_count_daily_sms() from public;

create constraint trigger messages_count_daily_sms_on_insert
  after insert on public.messages
  deferrable initially deferred
  for each row
  when (new.direction = 'outbound')
  execute function private.messages_count_daily_sms();
create constraint trigger messages_count_daily_sms_on_release
  after update of send_after on public.messages
  deferrable initially deferred
  for each row
  when (new.direction = 'outbound' and old.send_after = 'infinity' and new.send_after <> 'infinity')
  execute function private.messages_count_daily_sms();

-- ---------- housekeeping ----------

create or replace function private.purge_limit_counters(p_now timestamptz default now())
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  purged integer;
  purged_days integer;
begin
  delete from private.rate_counters c where c.window_start < p_now - interval '1 day';
  get diagnostics purged = row_count;
  delete from private.daily_sms_counts d where d.day < (p_now - interval '7 days')::date;
  get diagnostics purged_days = row_count;
  return purged + purged_days;
end
$$;
comment on function private.purge_limit_counters(timestamptz) is 'Lifecycle sweep: forgets hourly lead counters older than a day and daily text counters older than a week; returns the rows removed.';
revoke execute on function private.purge_limit_counters(timestamptz) from public;
