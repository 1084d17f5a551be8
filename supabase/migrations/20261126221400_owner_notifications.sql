-- Owner notifications: what the owner must be told about, once. Whatever notices a problem the owner
-- should act on (a dead-lettered alert, a cap reached, a billing change, a failing webhook endpoint)
-- calls private.notify_owner with a dedupe key that names the occurrence; a second call with the
-- same key tells nobody again. The rows are the dashboard's attention list (live over Realtime);
-- other channels (email) fan out from the insert.

create table public.owner_notifications (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  kind text not null check (kind ~ '^[a-z][a-z0-9_.]{1,60}$'),
  severity text not null default 'warning' check (severity in ('info', 'warning', 'critical')),
  title text not null check (length(btrim(title)) between 1 and 200),
  body text not null default '' check (length(body) <= 2000),
  details jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object'),
  lead_id uuid references public.leads (id) on delete cascade,
  message_id uuid references public.messages (id) on delete set null,
  dedupe_key text not null check (length(dedupe_key) between 1 and 200),
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolved_by uuid references auth.users (id) on delete set null,
  unique (business_id, dedupe_key),
  constraint owner_notifications_resolver_only_when_resolved check (resolved_by is null or resolved_at is not null)
);
comment on table public.owner_notifications is 'What the owner must be told, once per occurrence (dedupe_key): the dashboard''s attention list, and the source of other channels. Written only by private.notify_owner; members mark rows resolved.';
comment on column public.owner_notifications.kind is 'What happened, dotted: owner_alert.dead_letter, sms.daily_cap_reached, billing.past_due, webhook.endpoint_disabled, ...';
comment on column public.owner_notifications.dedupe_key is 'Names the occurrence (e.g. daily_cap:2026-12-02): notify_owner with a key already used tells nobody again.';
create index owner_notifications_open_idx on public.owner_notifications (business_id, created_at desc) where resolved_at is null;
create index owner_notifications_lead_id_idx on public.owner_notifications (lead_id) where lead_id is not null;
create index owner_notifications_message_id_idx on public.owner_notifications (message_id) where message_id is not null;
create index owner_notifications_resolved_by_idx on public.owner_notifications (resolved_by) where resolved_by is not null;

alter table public.owner_notifications enable row level security;
revoke all on public.owner_notifications from anon, authenticated;
grant select on public.owner_notifications to authenticated;
grant update (resolved_at) on public.owner_notifications to authenticated;
grant all on public.owner_notifications to service_role;

create policy "members can read their business notifications" on public.owner_notifications
  for select to authenticated
  using (business_id in (select private.member_business_ids()));
create policy "members can resolve their business notifications" on public.owner_notifications
  for update to authenticated
  using (business_id in (select private.member_business_ids()))
  with check (business_id in (select private.member_business_ids()));

alter publication supabase_realtime add table public.owner_notifications;

-- Who resolved it is the caller, never a value the client sends; reopening clears both.
create or replace function private.owner_notifications_stamp_resolver()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.resolved_by := case when new.resolved_at is null then null else coalesce((select auth.uid()), old.resolved_by) end;
  return new;
end
$$;
comment on function private.owner_notifications_stamp_resolver() is 'BEFORE UPDATE on owner_notifications: resolved_by is the calling user when resolved_at is set, null when it is cleared.';
revoke execute on function private.owner_notifications_stamp_resolver() from public;

create trigger owner_notifications_stamp_resolver before update on public.owner_notifications
  for each row execute function private.owner_notifications_stamp_resolver();

create or replace function private.notify_owner(
  p_business_id uuid, p_kind text, p_dedupe_key text, p_title text, p_body text default '',
  p_severity text default 'warning', p_details jsonb default '{}'::jsonb,
  p_lead_id uuid default null, p_message_id uuid default null)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  notification_id uuid;
begin
  insert into public.owner_notifications (business_id, kind, severity, title, body, details, lead_id, message_id, dedupe_key)
  values (p_business_id, p_kind, p_severity, left(p_title, 200), left(coalesce(p_body, ''), 2000),
          coalesce(p_details, '{}'::jsonb), p_lead_id, p_message_id, p_dedupe_key)
  on conflict (business_id, dedupe_key) do nothing
  returning id into notification_id;
  return notification_id;
end
$$;
comment on function private.notify_owner(uuid, text, text, text, text, text, jsonb, uuid, uuid) is
  'Tells the owner once: inserts an owner_notifications row unless the dedupe key was used for the business; returns its id, or null when already told.';
revoke execute on function private.notify_owner(uuid, text, text, text, text, text, jsonb, uuid, uuid) from public;
