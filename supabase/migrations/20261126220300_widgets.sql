-- Widgets: the embeddable lead forms of a business, and the one read anon has (get_widget_config).

create table public.widgets (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  name text not null default 'Website form' check (length(btrim(name)) between 1 and 120),
  allowed_origins text[] not null
    check (cardinality(allowed_origins) between 1 and 20 and private.all_valid_origins(allowed_origins)),
  consent_text text not null check (length(consent_text) between 40 and 1000 and consent_text ilike '%STOP%'),
  fields jsonb not null default '{"name": {"required": true}, "phone": {"required": true}, "email": {"required": false}, "message": {"required": false}}'::jsonb
    check (jsonb_typeof(fields) = 'object'),
  default_country text not null default 'US' check (default_country ~ '^[A-Z]{2}$'),
  active boolean not null default true,
  max_leads_per_ip_per_hour integer not null default 5 check (max_leads_per_ip_per_hour between 1 and 1000),
  max_leads_per_hour integer not null default 120 check (max_leads_per_hour between 1 and 100000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.widgets is 'An embeddable lead form: its public id, the origins allowed to post it, the consent text shown, the fields, and its rate limits.';
comment on column public.widgets.consent_text is 'Shown next to the unchecked SMS consent box; snapshotted on each lead. Must name the business and purpose, "Msg & data rates may apply" and "Reply STOP to opt out".';
create index widgets_business_id_idx on public.widgets (business_id);

create trigger widgets_touch_updated_at before update on public.widgets
  for each row execute function private.touch_updated_at();

alter table public.widgets enable row level security;
revoke all on public.widgets from anon, authenticated;
grant select, insert, delete on public.widgets to authenticated;
grant update (name, allowed_origins, consent_text, fields, default_country, active,
  max_leads_per_ip_per_hour, max_leads_per_hour) on public.widgets to authenticated;
grant all on public.widgets to service_role;

create policy "members can read their widgets" on public.widgets
  for select to authenticated
  using (business_id in (select private.member_business_ids()));
create policy "owners can create widgets for their business" on public.widgets
  for insert to authenticated
  with check (business_id in (select private.owned_business_ids()));
create policy "owners can change their widgets" on public.widgets
  for update to authenticated
  using (business_id in (select private.owned_business_ids()))
  with check (business_id in (select private.owned_business_ids()));
create policy "owners can delete their widgets" on public.widgets
  for delete to authenticated
  using (business_id in (select private.owned_business_ids()));

-- The one thing anon may read: what the embed needs to render the form.
create or replace function public.get_widget_config(p_widget_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'widget_id', w.id,
    'business_name', b.name,
    'consent_text', w.consent_text,
    'fields', w.fields,
    'default_country', w.default_country)
  from public.widgets w
  join public.businesses b on b.id = w.business_id
  where w.id = p_widget_id and w.active
$$;
comment on function public.get_widget_config(uuid) is 'Public configuration of an active widget for the embed (null when unknown or inactive). The only read anon has.';
revoke execute on function public.get_widget_config(uuid) from public;
grant execute on function public.get_widget_config(uuid) to anon, authenticated, service_role;
