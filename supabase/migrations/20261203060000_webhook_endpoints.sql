-- Outgoing webhooks, part 1: the endpoints an owner registers, the event catalog they choose from,
-- and the event and delivery rows the other two webhook migrations write (event capture; delivery by
-- the webhook-deliver edge function). Owners alone see and manage any of it: staff, other businesses
-- and anon are refused by RLS.
--
-- Each endpoint has a Standard Webhooks signing secret (whsec_ + base64 of 32 random bytes). A trigger
-- generates it and stores it in the vault (webhook_endpoints.secret is the vault secret's id, a column the
-- API roles cannot read); create_webhook_endpoint and rotate_webhook_endpoint_secret return it, the only
-- time it is shown. The sender reads it through claim_webhook_deliveries (service role). The owners' RPCs
-- are security invoker: RLS and column grants decide, as for any other request.

-- Whether this database runs on a developer's machine (the local stack writes vault secret
-- platform_mode = 'local'); anything else is production. Plain-http endpoints on loopback are allowed
-- only then, and webhook-deliver is told so with every claim.
create or replace function private.platform_is_local()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select s.decrypted_secret = 'local' from vault.decrypted_secrets s where s.name = 'platform_mode' limit 1), false)
$$;
comment on function private.platform_is_local() is 'True when vault secret platform_mode is ''local'' (set by the local stack); production otherwise.';
revoke execute on function private.platform_is_local() from public;

create table public.webhook_event_types (
  type text primary key check (type ~ '^[a-z]+(\.[a-z_]+)+$'),
  description text not null check (length(description) between 1 and 300),
  payload_version integer not null default 1 check (payload_version >= 1),
  sort_order integer not null unique
);
comment on table public.webhook_event_types is 'The events an endpoint can subscribe to, with the version of their payload (docs/webhooks.md). The dashboard lists them from here; webhook_endpoints.events may name only these.';
insert into public.webhook_event_types (type, description, sort_order) values
  ('lead.created', 'A form submission was saved (duplicates too, marked as such).', 1),
  ('lead.updated', 'Something about a lead changed: its follow-up, its phone status, or the need, timing and location the conversation collected.', 2),
  ('conversation.completed', 'The text conversation with a lead ended: completed, no reply, opted out or failed.', 3),
  ('summary.ready', 'The callback summary of a conversation is ready.', 4),
  ('lead.opted_out', 'A phone number may no longer be texted (STOP, a carrier, or added by the owner).', 5);

alter table public.webhook_event_types enable row level security;
revoke all on public.webhook_event_types from anon, authenticated;
grant select on public.webhook_event_types to authenticated;
grant all on public.webhook_event_types to service_role;
create policy "signed-in users can read the webhook event catalog" on public.webhook_event_types
  for select to authenticated
  using (true);

create table public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  url text not null check (length(url) between 8 and 2048),
  description text not null default '' check (length(description) <= 200),
  events text[] not null check (cardinality(events) between 1 and 20),
  secret uuid not null,
  secret_hint text not null check (secret_hint ~ '^whsec_…[A-Za-z0-9+/]{4}$'),
  secret_created_at timestamptz not null default now(),
  previous_secret uuid,
  previous_secret_expires_at timestamptz,
  enabled boolean not null default true,
  failing_since timestamptz,
  last_success_at timestamptz,
  last_failure_at timestamptz,
  disabled_at timestamptz,
  disabled_reason text check (disabled_reason = 'failing'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint webhook_endpoints_previous_secret_expires check ((previous_secret is null) = (previous_secret_expires_at is null)),
  constraint webhook_endpoints_disabled_reason_only_when_disabled check (disabled_reason is null or not enabled)
);
comment on table public.webhook_endpoints is 'An owner''s webhook receiver: URL, subscribed events, signing secret (in the vault), enabled. One that fails every delivery for 24 hours is turned off and the owner told.';
comment on column public.webhook_endpoints.secret is 'Vault secret id (vault.secrets) of the whsec_ signing secret. Not readable through the API; the secret itself is shown once, when created or rotated.';
comment on column public.webhook_endpoints.secret_hint is 'The last four characters of the signing secret, so the owner can tell which one the receiver has.';
comment on column public.webhook_endpoints.secret_created_at is 'When the current secret was made. Setting it (rotate_webhook_endpoint_secret does) makes a new secret.';
comment on column public.webhook_endpoints.previous_secret is 'Vault secret id of the secret a rotation replaced: deliveries carry its signature too until previous_secret_expires_at, so a receiver can switch without losing any.';
comment on column public.webhook_endpoints.failing_since is 'The first failed attempt since the last successful one; null while deliveries succeed.';
comment on column public.webhook_endpoints.disabled_reason is 'failing: turned off by leadloop after 24 hours of failed deliveries (owner_notifications kind webhook.endpoint_disabled).';
create index webhook_endpoints_business_id_idx on public.webhook_endpoints (business_id, created_at);

create trigger webhook_endpoints_touch_updated_at before update on public.webhook_endpoints
  for each row execute function private.touch_updated_at();

alter table public.webhook_endpoints enable row level security;
revoke all on public.webhook_endpoints from anon, authenticated;
-- Every column but the vault references. The secret columns are the trigger's: no client chooses a
-- secret, or points its endpoint at another's.
grant select (id, business_id, url, description, events, secret_hint, secret_created_at, previous_secret_expires_at, enabled,
              failing_since, last_success_at, last_failure_at, disabled_at, disabled_reason, created_at, updated_at)
  on public.webhook_endpoints to authenticated;
grant insert (business_id, url, description, events) on public.webhook_endpoints to authenticated;
grant update (url, description, events, enabled, secret_created_at) on public.webhook_endpoints to authenticated;
grant delete on public.webhook_endpoints to authenticated;
grant all on public.webhook_endpoints to service_role;

create policy "owners can read their webhook endpoints" on public.webhook_endpoints
  for select to authenticated
  using (business_id in (select private.owned_business_ids()));
create policy "owners can add webhook endpoints to their business" on public.webhook_endpoints
  for insert to authenticated
  with check (business_id in (select private.owned_business_ids()));
create policy "owners can change their webhook endpoints" on public.webhook_endpoints
  for update to authenticated
  using (business_id in (select private.owned_business_ids()))
  with check (business_id in (select private.owned_business_ids()));
create policy "owners can delete their webhook endpoints" on public.webhook_endpoints
  for delete to authenticated
  using (business_id in (select private.owned_business_ids()));

alter publication supabase_realtime add table public.webhook_endpoints;

-- Why a URL cannot receive webhooks, or null. The sender checks the address it resolves to again at
-- send time (no private networks in production); this is what can be told from the text alone.
create or replace function private.webhook_url_problem(p_url text, p_local boolean)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  parts text[] := regexp_match(p_url, '^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^#]*)(#.*)?$');
  host_port text[];
begin
  if p_url is null or btrim(p_url) = '' then
    return 'enter the address that should receive the webhooks';
  elsif length(p_url) > 2048 then
    return 'the address is longer than 2048 characters';
  elsif p_url ~ '[[:space:][:cntrl:]]' then
    return 'the address must not contain spaces';
  elsif parts is null then
    return 'enter a full address, like https://example.com/webhooks/leadloop';
  elsif parts[4] is not null then
    return 'the address must not contain a #fragment';
  elsif position('@' in parts[2]) > 0 then
    return 'the address must not contain a user name or password';
  end if;
  host_port := regexp_match(lower(parts[2]), '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(:([0-9]{1,5}))?$');
  if host_port is null then
    return 'the address has no valid host name';
  elsif host_port[6] is not null and host_port[6]::int not between 1 and 65535 then
    return 'the port must be between 1 and 65535';
  elsif lower(parts[1]) = 'https' then
    return null;
  elsif lower(parts[1]) = 'http' and p_local and host_port[1] in ('127.0.0.1', 'localhost', '[::1]') then
    return null;
  elsif lower(parts[1]) = 'http' and p_local then
    return 'the address must start with https:// (http:// only for 127.0.0.1 or localhost on a development machine)';
  end if;
  return 'the address must start with https://';
end
$$;
comment on function private.webhook_url_problem(text, boolean) is 'Why a webhook URL is refused (no https, credentials, fragment, bad host or port), or null. With p_local, http://127.0.0.1|localhost|[::1] are allowed too.';
revoke execute on function private.webhook_url_problem(text, boolean) from public;

-- The URL, the events and the enabled switch, whoever writes them: the address policy, known event
-- types (sorted, each once), and the bookkeeping of turning an endpoint on and off.
create or replace function private.webhook_endpoints_before_write()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  problem text;
  unknown text;
begin
  -- Checked when written, not again on every later update (the platform mode may differ by then;
  -- the sender checks the address at every send anyway).
  if tg_op = 'INSERT' or new.url is distinct from old.url then
    new.url := btrim(new.url);
    problem := private.webhook_url_problem(new.url, private.platform_is_local());
    if problem is not null then
      raise exception 'url: %', problem using errcode = '22023';
    end if;
  end if;
  new.description := btrim(coalesce(new.description, ''));
  if tg_op = 'INSERT' or new.events is distinct from old.events then
    if coalesce(cardinality(new.events), 0) = 0 then
      raise exception 'events: choose at least one event' using errcode = '22023';
    end if;
    select e into unknown from unnest(new.events) e
     where e is null or not exists (select 1 from public.webhook_event_types t where t.type = e) limit 1;
    if found then
      raise exception 'events: unknown event type "%"', coalesce(unknown, 'null') using errcode = '22023',
        hint = 'Known types: ' || (select string_agg(t.type, ', ' order by t.sort_order) from public.webhook_event_types t);
    end if;
    new.events := array(select distinct e from unnest(new.events) e order by e);
  end if;
  if tg_op = 'UPDATE' then
    if new.enabled and not old.enabled then
      -- Turned back on: a fresh start, the 24-hour clock included.
      new.disabled_at := null;
      new.disabled_reason := null;
      new.failing_since := null;
    elsif not new.enabled and old.enabled and new.disabled_at is not distinct from old.disabled_at then
      new.disabled_at := now();
    end if;
    if new.url <> old.url then
      new.failing_since := null;
    end if;
  end if;
  return new;
end
$$;
comment on function private.webhook_endpoints_before_write() is 'BEFORE INSERT/UPDATE on webhook_endpoints: URL policy (22023 "url: ..."), known event types (22023 "events: ..."), on/off bookkeeping.';
revoke execute on function private.webhook_endpoints_before_write() from public;

create trigger webhook_endpoints_before_write before insert or update of url, description, events, enabled on public.webhook_endpoints
  for each row execute function private.webhook_endpoints_before_write();

-- The signing secret, however an endpoint is created or rotated: generated here, kept in the vault, and
-- left in a transaction-local setting for create_webhook_endpoint / rotate_webhook_endpoint_secret to
-- return (they clear it). A rotation keeps the replaced secret signing beside the new one for 24 hours;
-- one replaced before that leaves the vault now. Setting secret_created_at (to any value) rotates.
create or replace function private.webhook_endpoints_new_secret()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  secret text := 'whsec_' || encode(extensions.gen_random_bytes(32), 'base64');
begin
  if tg_op = 'INSERT' then
    new.previous_secret := null;
    new.previous_secret_expires_at := null;
  else
    delete from vault.secrets s where s.id = old.previous_secret;
    new.previous_secret := old.secret;
    new.previous_secret_expires_at := now() + interval '24 hours';
  end if;
  new.secret := vault.create_secret(secret, null, 'leadloop webhook endpoint ' || new.id || ' signing secret');
  new.secret_hint := 'whsec_…' || right(rtrim(secret, '='), 4);
  new.secret_created_at := now();
  perform set_config('leadloop.webhook_secret', secret, true);
  return new;
end
$$;
comment on function private.webhook_endpoints_new_secret() is 'BEFORE INSERT, and UPDATE OF secret_created_at, on webhook_endpoints: a new whsec_ secret in the vault (the replaced one kept 24 h), its hint, and the secret in setting leadloop.webhook_secret for this transaction.';
revoke execute on function private.webhook_endpoints_new_secret() from public;

create trigger webhook_endpoints_new_secret before insert or update of secret_created_at on public.webhook_endpoints
  for each row execute function private.webhook_endpoints_new_secret();

-- After RLS has accepted the row, so nobody learns anything about another business's endpoints.
create or replace function private.webhook_endpoints_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Concurrent creations for one business count one after the other.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('leadloop.webhook_endpoints:' || new.business_id, 0));
  if (select count(*) from public.webhook_endpoints e where e.business_id = new.business_id) > 10 then
    raise exception 'a business can have at most 10 webhook endpoints: delete one first' using errcode = '54000';
  end if;
  return null;
end
$$;
comment on function private.webhook_endpoints_limit() is 'AFTER INSERT on webhook_endpoints: at most 10 per business (54000).';
revoke execute on function private.webhook_endpoints_limit() from public;

create trigger webhook_endpoints_limit after insert on public.webhook_endpoints
  for each row execute function private.webhook_endpoints_limit();

create or replace function private.webhook_endpoints_forget_secrets()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from vault.secrets s where s.id in (old.secret, old.previous_secret);
  return null;
end
$$;
comment on function private.webhook_endpoints_forget_secrets() is 'AFTER DELETE on webhook_endpoints: its signing secrets leave the vault with it.';
revoke execute on function private.webhook_endpoints_forget_secrets() from public;

create trigger webhook_endpoints_forget_secrets after delete on public.webhook_endpoints
  for each row execute function private.webhook_endpoints_forget_secrets();

create or replace function public.create_webhook_endpoint(p_business_id uuid, p_url text, p_events text[], p_description text default '')
returns table (endpoint_id uuid, signing_secret text)
language plpgsql
set search_path = ''
as $$
declare
  new_id uuid;
  secret text;
begin
  insert into public.webhook_endpoints (business_id, url, description, events)
  values (p_business_id, p_url, coalesce(p_description, ''), coalesce(p_events, '{}'))
  returning id into new_id;
  secret := current_setting('leadloop.webhook_secret');
  perform set_config('leadloop.webhook_secret', '', true);
  return query select new_id, secret;
end
$$;
comment on function public.create_webhook_endpoint(uuid, text, text[], text) is 'Owners: registers an endpoint (enabled) and returns its id and whsec_ signing secret, the only time the secret is shown. Security invoker: 42501 (RLS) for anyone but an owner of the business; 22023 for a refused URL or unknown event type; 54000 past 10 per business.';
revoke execute on function public.create_webhook_endpoint(uuid, text, text[], text) from public, anon;
grant execute on function public.create_webhook_endpoint(uuid, text, text[], text) to authenticated;

create or replace function public.rotate_webhook_endpoint_secret(p_endpoint_id uuid)
returns text
language plpgsql
set search_path = ''
as $$
declare
  rotated uuid;
  secret text;
begin
  update public.webhook_endpoints e set secret_created_at = now() where e.id = p_endpoint_id
  returning e.id into rotated;
  if rotated is null then
    raise exception 'no webhook endpoint % of a business you own', p_endpoint_id using errcode = 'P0002';
  end if;
  secret := current_setting('leadloop.webhook_secret');
  perform set_config('leadloop.webhook_secret', '', true);
  return secret;
end
$$;
comment on function public.rotate_webhook_endpoint_secret(uuid) is 'Owners: a new whsec_ signing secret for the endpoint, returned once. The old one still signs (a second signature) for 24 hours. Security invoker: P0002 unless RLS lets the caller change the endpoint (its owner).';
revoke execute on function public.rotate_webhook_endpoint_secret(uuid) from public, anon;
grant execute on function public.rotate_webhook_endpoint_secret(uuid) to authenticated;

-- What happened (one row per event, the exact body every endpoint receives) and, per subscribed
-- endpoint, its delivery. Written by the capture triggers (webhook_events migration), delivered by
-- webhook-deliver (webhook_delivery migration).
create table public.webhook_events (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  type text not null check (type ~ '^[a-z]+(\.[a-z_]+)+$'),
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  dedupe_key text unique check (dedupe_key is null or length(dedupe_key) <= 200),
  created_at timestamptz not null default now()
);
comment on table public.webhook_events is 'One business event as its endpoints receive it: payload is the whole signed body ({type, timestamp, version, data}, docs/webhooks.md). Its id is the webhook-id (msg_<hex>), the same on every retry and resend.';
comment on column public.webhook_events.dedupe_key is 'Coalesces the lead.updated events of one transaction into one (lead.updated:<lead>:<transaction>).';
create index webhook_events_business_id_created_at_idx on public.webhook_events (business_id, created_at desc);
create index webhook_events_created_at_idx on public.webhook_events (created_at);

alter table public.webhook_events enable row level security;
revoke all on public.webhook_events from anon, authenticated;
grant select on public.webhook_events to authenticated;
grant all on public.webhook_events to service_role;
create policy "owners can read their webhook events" on public.webhook_events
  for select to authenticated
  using (business_id in (select private.owned_business_ids()));

create table public.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  endpoint_id uuid not null references public.webhook_endpoints (id) on delete cascade,
  event_id uuid not null references public.webhook_events (id) on delete cascade,
  event_type text not null check (event_type ~ '^[a-z]+(\.[a-z_]+)+$'),
  webhook_id text not null generated always as ('msg_' || replace(event_id::text, '-', '')) stored,
  status text not null default 'pending' check (status in ('pending', 'sending', 'succeeded', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '24 hours',
  lease_until timestamptz,
  last_attempt_at timestamptz,
  response_status integer check (response_status between 100 and 599),
  response_excerpt text check (length(response_excerpt) <= 1000),
  latency_ms integer check (latency_ms >= 0),
  error text check (length(error) <= 500),
  delivered_at timestamptz,
  resent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- The one rule of what webhook-deliver may claim, as a column so one index range serves the claim in order.
  claimable_at timestamptz generated always as (case status when 'pending' then next_attempt_at when 'sending' then lease_until end) stored,
  unique (event_id, endpoint_id),
  constraint webhook_deliveries_sending_has_lease check ((status = 'sending') = (lease_until is not null))
);
comment on table public.webhook_deliveries is 'The delivery log: one event to one endpoint, pending -> sending (leased) -> succeeded, or back to pending with backoff, or failed after 24 hours. The last attempt''s status code, latency and response excerpt.';
comment on column public.webhook_deliveries.webhook_id is 'The webhook-id header: msg_ and the event''s id in hex, the same for every attempt and resend and for every endpoint of the event.';
comment on column public.webhook_deliveries.attempts is 'Attempts since the delivery was created or last resent.';
comment on column public.webhook_deliveries.expires_at is 'Retries stop here (24 hours after creation or resend); the last attempt is made at this time.';
comment on column public.webhook_deliveries.response_excerpt is 'The first 1000 characters of the receiver''s answer (at most 64 KiB of it is read).';
comment on column public.webhook_deliveries.resent_at is 'When the owner last asked to deliver it again; setting it is how a resend is asked for (private.webhook_deliveries_resend).';
comment on column public.webhook_deliveries.claimable_at is 'When webhook-deliver may claim it (its endpoint must be on too): pending from next_attempt_at (its backoff), sending from lease_until (the worker vanished; the receiver may have got it, and tells by webhook-id); never once settled.';
comment on column public.webhook_deliveries.error is 'Why the last attempt failed without an HTTP answer (timeout, refused address, redirect, DNS), or null.';
create index webhook_deliveries_business_id_created_at_idx on public.webhook_deliveries (business_id, created_at desc);
create index webhook_deliveries_endpoint_id_created_at_idx on public.webhook_deliveries (endpoint_id, created_at desc);
-- The outbox: only what a worker may claim is indexed.
create index webhook_deliveries_claimable_idx on public.webhook_deliveries (claimable_at) where claimable_at is not null;

create trigger webhook_deliveries_touch_updated_at before update on public.webhook_deliveries
  for each row execute function private.touch_updated_at();

alter table public.webhook_deliveries enable row level security;
revoke all on public.webhook_deliveries from anon, authenticated;
grant select on public.webhook_deliveries to authenticated;
grant all on public.webhook_deliveries to service_role;
create policy "owners can read their webhook deliveries" on public.webhook_deliveries
  for select to authenticated
  using (business_id in (select private.owned_business_ids()));

alter publication supabase_realtime add table public.webhook_deliveries;
