-- Outgoing webhooks, part 3: delivery. Like the SMS outbox: a pending delivery wakes the
-- webhook-deliver edge function at commit (pg_net, coalesced); it claims due deliveries with leases
-- (SKIP LOCKED), signs and posts each one, and records the answer here. A failure is retried with
-- backoff that starts fast (5 s, 30 s, 2 min, ...) for 24 hours; an endpoint whose deliveries have all
-- failed for 24 hours is turned off and its owner told. The minute sweep wakes the function for retries
-- that came due, retires rotated-out secrets and purges history older than 30 days.
--
-- Every function that decides by the clock takes p_now, so tests move time instead of waiting.

-- The wait after the n-th failed attempt: fast at first (a receiver that was briefly down gets the
-- event within minutes), then growing to 8 hours. Attempt times after the first: 5 s, 35 s, 2 min 35 s,
-- 12 min 35 s, 42 min 35 s, 1 h 43 min, 3 h 43 min, 7 h 43 min, 15 h 43 min, 23 h 43 min, 24 h.
create or replace function private.webhook_retry_delay(p_attempts integer)
returns interval
language sql
immutable
set search_path = ''
as $$
  select (array['5 seconds', '30 seconds', '2 minutes', '10 minutes', '30 minutes', '1 hour', '2 hours', '4 hours', '8 hours']::interval[])
         [least(greatest(coalesce(p_attempts, 1), 1), 9)]
$$;
comment on function private.webhook_retry_delay(integer) is 'Backoff after the n-th failed attempt: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, then 8 h.';
revoke execute on function private.webhook_retry_delay(integer) from public;

-- Waking webhook-deliver, coalesced as sms-dispatch is (private.wake_function, outbox migration); a wake no
-- claim answered within 30 s is posted again.
insert into private.function_wakes (function_name, lost_after) values ('webhook-deliver', interval '30 seconds');

create or replace function private.webhook_deliveries_wake_at_commit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from public.webhook_deliveries d where d.id = new.id and d.status = 'pending' and d.next_attempt_at <= now()) then
    perform private.wake_once_at_commit('webhook-deliver');
  end if;
  return null;
end
$$;
comment on function private.webhook_deliveries_wake_at_commit() is 'Deferred constraint trigger: at commit, one coalesced webhook-deliver wake per transaction that left a delivery due now.';
revoke execute on function private.webhook_deliveries_wake_at_commit() from public;

-- resent_at too: a resend sets only it, and the resend trigger makes the delivery pending.
create constraint trigger webhook_deliveries_wake_at_commit
  after insert or update of status, resent_at on public.webhook_deliveries
  deferrable initially deferred
  for each row
  when (new.status = 'pending')
  execute function private.webhook_deliveries_wake_at_commit();

create or replace function public.claim_webhook_deliveries(p_batch_size int default 10, p_lease_seconds int default 60, p_now timestamptz default now())
returns table (delivery_id uuid, attempt int, webhook_id text, event_type text, payload text, url text, secrets text[], allow_loopback boolean)
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_batch_size is null or p_batch_size < 1 or p_batch_size > 100 then
    raise exception 'p_batch_size must be between 1 and 100' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds < 10 or p_lease_seconds > 900 then
    raise exception 'p_lease_seconds must be between 10 and 900' using errcode = '22023';
  end if;
  if p_now is null then
    raise exception 'p_now must be a time' using errcode = '22023';
  end if;
  perform private.answer_wake('webhook-deliver');

  return query
  with due as (
    select d.id, d.claimable_at
      from public.webhook_deliveries d
      join public.webhook_endpoints e on e.id = d.endpoint_id
     where d.claimable_at <= p_now and e.enabled
     order by d.claimable_at
     limit p_batch_size
     for update of d skip locked
  ), claimed as (
    update public.webhook_deliveries d
       set status = 'sending', lease_until = p_now + make_interval(secs => p_lease_seconds),
           attempts = d.attempts + 1, last_attempt_at = p_now
      from due
     where d.id = due.id
    returning d.id, d.attempts, d.webhook_id, d.event_id, d.endpoint_id, d.event_type, due.claimable_at
  )
  select c.id, c.attempts, c.webhook_id, c.event_type, ev.payload::text, e.url,
         array_remove(array[
           (select s.decrypted_secret from vault.decrypted_secrets s where s.id = e.secret),
           (select s.decrypted_secret from vault.decrypted_secrets s where s.id = e.previous_secret and e.previous_secret_expires_at > p_now)
         ], null),
         private.platform_is_local()
    from claimed c
    join public.webhook_endpoints e on e.id = c.endpoint_id
    join public.webhook_events ev on ev.id = c.event_id
   order by c.claimable_at;
end
$$;
comment on function public.claim_webhook_deliveries(int, int, timestamptz) is 'webhook-deliver: lease due deliveries of enabled endpoints (SKIP LOCKED) with what signing and sending needs: webhook-id (msg_<event hex>, the same on every retry and resend), the exact body, URL, signing secrets (current, and the rotated-out one for 24 h), and whether loopback targets are allowed (local platform).';
revoke execute on function public.claim_webhook_deliveries(int, int, timestamptz) from public, anon, authenticated;
grant execute on function public.claim_webhook_deliveries(int, int, timestamptz) to service_role;

-- Turns off the endpoints whose every delivery has failed for 24 hours and tells each owner once.
create or replace function private.disable_failing_webhook_endpoints(p_now timestamptz, p_endpoint_id uuid default null)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  endpoint record;
  disabled integer := 0;
begin
  for endpoint in
    update public.webhook_endpoints e
       set enabled = false, disabled_at = p_now, disabled_reason = 'failing'
     where e.enabled and e.failing_since <= p_now - interval '24 hours'
       and (p_endpoint_id is null or e.id = p_endpoint_id)
    returning e.id, e.business_id, e.url, e.failing_since
  loop
    perform private.notify_owner(endpoint.business_id, 'webhook.endpoint_disabled',
      'webhook.endpoint_disabled:' || endpoint.id || ':' || extract(epoch from endpoint.failing_since)::bigint,
      'A webhook endpoint was turned off',
      format('Every delivery to %s has failed since %s UTC, so leadloop stopped sending to it. Fix the receiver, '
             'turn the endpoint back on under Settings > Webhooks, and resend what it missed from the delivery log.',
             endpoint.url, to_char(endpoint.failing_since at time zone 'UTC', 'YYYY-MM-DD HH24:MI')),
      'critical',
      jsonb_build_object('endpoint_id', endpoint.id, 'url', endpoint.url, 'failing_since', private.webhook_time(endpoint.failing_since)));
    disabled := disabled + 1;
  end loop;
  return disabled;
end
$$;
comment on function private.disable_failing_webhook_endpoints(timestamptz, uuid) is 'Turns off enabled endpoints failing since 24 hours before p_now (one, or all) and notifies their owners (kind webhook.endpoint_disabled, once per failing streak). Returns how many.';
revoke execute on function private.disable_failing_webhook_endpoints(timestamptz, uuid) from public;

create or replace function public.record_webhook_attempt(
  p_delivery_id uuid, p_attempt int, p_response_status int default null, p_latency_ms int default null,
  p_response_excerpt text default null, p_error text default null, p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  delivery public.webhook_deliveries;
  succeeded boolean := p_error is null and p_response_status between 200 and 299;
  disabled integer := 0;
begin
  if p_response_status is null and p_error is null then
    raise exception 'an attempt has a response status or an error' using errcode = '22023';
  end if;
  if p_response_status is not null and p_response_status not between 100 and 599 then
    raise exception 'p_response_status must be an HTTP status (100-599)' using errcode = '22023';
  end if;
  if p_now is null then
    raise exception 'p_now must be a time' using errcode = '22023';
  end if;
  select * into delivery from public.webhook_deliveries d where d.id = p_delivery_id for update;
  if delivery.id is null then
    raise exception 'webhook delivery % not found', p_delivery_id using errcode = 'P0002';
  end if;
  -- Only the attempt that holds the lease settles it: a worker whose lease ran out and was re-claimed
  -- (attempts moved on) or a resend in between changes nothing.
  if delivery.status <> 'sending' or delivery.attempts <> p_attempt then
    return jsonb_build_object('recorded', false, 'status', delivery.status);
  end if;

  update public.webhook_deliveries d
     set status = case when succeeded then 'succeeded' when p_now >= d.expires_at then 'failed' else 'pending' end,
         lease_until = null,
         response_status = p_response_status,
         latency_ms = greatest(p_latency_ms, 0),
         response_excerpt = left(p_response_excerpt, 1000),
         error = left(p_error, 500),
         delivered_at = case when succeeded then p_now else d.delivered_at end,
         next_attempt_at = case when succeeded or p_now >= d.expires_at then d.next_attempt_at
                                else least(p_now + private.webhook_retry_delay(d.attempts), d.expires_at) end
   where d.id = delivery.id
  returning * into delivery;

  if succeeded then
    update public.webhook_endpoints e set failing_since = null, last_success_at = p_now where e.id = delivery.endpoint_id;
  else
    update public.webhook_endpoints e set failing_since = coalesce(e.failing_since, p_now), last_failure_at = p_now
     where e.id = delivery.endpoint_id;
    disabled := private.disable_failing_webhook_endpoints(p_now, delivery.endpoint_id);
  end if;
  return jsonb_build_object('recorded', true, 'status', delivery.status,
    'next_attempt_at', case when delivery.status = 'pending' then delivery.next_attempt_at end,
    'endpoint_disabled', disabled > 0);
end
$$;
comment on function public.record_webhook_attempt(uuid, int, int, int, text, text, timestamptz) is 'webhook-deliver: the outcome of one attempt (2xx = delivered; any other status or an error = retry with backoff until 24 h, then failed). Updates the endpoint''s failing streak and turns it off after 24 h of failures. {recorded:false} when the attempt no longer holds the lease.';
revoke execute on function public.record_webhook_attempt(uuid, int, int, int, text, text, timestamptz) from public, anon, authenticated;
grant execute on function public.record_webhook_attempt(uuid, int, int, int, text, text, timestamptz) to service_role;

-- Resending: an owner sets resent_at (the one column they may update, under RLS) and this trigger turns
-- it into a fresh delivery of the same webhook-id and body (receivers deduplicate by it), with attempts
-- counted afresh and 24 hours of retries. While the delivery is already due or sending, or was resent in
-- the last 10 seconds, nothing changes: one click, one request.
create or replace function private.webhook_deliveries_resend()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not (select e.enabled from public.webhook_endpoints e where e.id = new.endpoint_id) then
    raise exception 'the endpoint is turned off: turn it on, then resend' using errcode = '55000';
  end if;
  if old.status = 'sending' or (old.status = 'pending' and old.next_attempt_at <= now())
     or old.resent_at > now() - interval '10 seconds' then
    new.resent_at := old.resent_at;
    return new;
  end if;
  new.status := 'pending';
  new.attempts := 0;
  new.lease_until := null;
  new.next_attempt_at := now();
  new.expires_at := now() + interval '24 hours';
  new.resent_at := now();
  return new;
end
$$;
comment on function private.webhook_deliveries_resend() is 'BEFORE UPDATE OF resent_at on webhook_deliveries: deliver again now (same webhook-id, attempts afresh, 24 h of retries); 55000 while the endpoint is off; no change while already due or sending.';
revoke execute on function private.webhook_deliveries_resend() from public;

create trigger webhook_deliveries_resend before update of resent_at on public.webhook_deliveries
  for each row execute function private.webhook_deliveries_resend();

grant update (resent_at) on public.webhook_deliveries to authenticated;
create policy "owners can resend their webhook deliveries" on public.webhook_deliveries
  for update to authenticated
  using (business_id in (select private.owned_business_ids()))
  with check (business_id in (select private.owned_business_ids()));

create or replace function public.resend_webhook_delivery(p_delivery_id uuid)
returns text
language plpgsql
set search_path = ''
as $$
declare
  new_status text;
begin
  update public.webhook_deliveries d set resent_at = now() where d.id = p_delivery_id
  returning d.status into new_status;
  if new_status is null then
    raise exception 'no webhook delivery % of a business you own', p_delivery_id using errcode = 'P0002';
  end if;
  return new_status;
end
$$;
comment on function public.resend_webhook_delivery(uuid) is 'Owners: deliver again now, with the same webhook-id (private.webhook_deliveries_resend). Security invoker: P0002 unless RLS lets the caller (its owner); 55000 while the endpoint is off. Returns the delivery''s status.';
revoke execute on function public.resend_webhook_delivery(uuid) from public, anon;
grant execute on function public.resend_webhook_delivery(uuid) to authenticated;

create index webhook_endpoints_previous_secret_expires_idx on public.webhook_endpoints (previous_secret_expires_at)
  where previous_secret is not null;

create or replace function private.webhook_sweep(p_now timestamptz default now(), p_batch_size int default 500)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  expired integer := 0;
  disabled integer := 0;
  secrets_retired integer := 0;
  events_purged integer := 0;
  due boolean;
  woken boolean := false;
begin
  -- Deliveries whose 24 hours ran out while their endpoint was off (an enabled endpoint's last
  -- attempt is made at expires_at, by the function).
  with gone as (
    select d.id from public.webhook_deliveries d
      join public.webhook_endpoints e on e.id = d.endpoint_id
     where d.status = 'pending' and d.claimable_at <= p_now and d.expires_at <= p_now and not e.enabled
     order by d.claimable_at limit p_batch_size
     for update of d skip locked
  )
  update public.webhook_deliveries d set status = 'failed', error = 'not sent: the endpoint was turned off'
    from gone where d.id = gone.id;
  get diagnostics expired = row_count;

  disabled := private.disable_failing_webhook_endpoints(p_now);

  with old as (
    select e.id, e.previous_secret from public.webhook_endpoints e
     where e.previous_secret is not null and e.previous_secret_expires_at <= p_now
     order by e.previous_secret_expires_at limit p_batch_size
     for update skip locked
  ), cleared as (
    update public.webhook_endpoints e set previous_secret = null, previous_secret_expires_at = null
      from old where e.id = old.id
    returning old.previous_secret as secret_id
  )
  delete from vault.secrets s using cleared where s.id = cleared.secret_id;
  get diagnostics secrets_retired = row_count;

  -- The log keeps 30 days (deliveries go with their event).
  with old as (
    select ev.id from public.webhook_events ev where ev.created_at < p_now - interval '30 days'
     order by ev.created_at limit p_batch_size
  )
  delete from public.webhook_events ev using old where ev.id = old.id;
  get diagnostics events_purged = row_count;

  due := exists (
    select 1 from public.webhook_deliveries d
      join public.webhook_endpoints e on e.id = d.endpoint_id
     where d.claimable_at <= p_now and e.enabled);
  if due then
    woken := private.wake_function('webhook-deliver', true);
  end if;

  return jsonb_build_object('expired', expired, 'endpoints_disabled', disabled, 'secrets_retired', secrets_retired,
                            'events_purged', events_purged, 'due', due, 'woken', woken);
end
$$;
comment on function private.webhook_sweep(timestamptz, int) is 'pg_cron, every minute: fail deliveries that expired while their endpoint was off, turn off endpoints failing for 24 h, retire rotated-out secrets, purge events older than 30 days, wake webhook-deliver when deliveries are due.';
revoke execute on function private.webhook_sweep(timestamptz, int) from public;

select cron.schedule('leadloop-webhook-sweep', '* * * * *', 'select private.webhook_sweep()');
