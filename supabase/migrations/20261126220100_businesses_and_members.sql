-- Businesses and who belongs to them. Membership is the basis of every RLS policy: members read
-- their business's rows, owners change its settings.

create table public.businesses (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 120),
  owner_phone text not null check (private.is_e164(owner_phone)),
  timezone text not null default 'America/New_York' check (private.is_valid_timezone(timezone)),
  twilio_number text unique check (twilio_number is null or private.is_e164(twilio_number)),
  default_locale text not null default 'en' check (default_locale in ('en', 'es')),
  followup_enabled boolean not null default true,
  nudge_delay_minutes integer not null default 60 check (nudge_delay_minutes between 5 and 10080),
  idle_timeout_minutes integer not null default 1440 check (idle_timeout_minutes between 15 and 20160),
  max_questions integer not null default 3 check (max_questions between 1 and 6),
  quiet_hours_start time not null default '08:00',
  quiet_hours_end time not null default '20:00',
  duplicate_window_minutes integer not null default 5 check (duplicate_window_minutes between 0 and 1440),
  allowed_calling_codes text[] not null default '{1}'
    check (cardinality(allowed_calling_codes) between 1 and 50 and array_to_string(allowed_calling_codes, ',') ~ '^[1-9][0-9]{0,2}(,[1-9][0-9]{0,2})*$'),
  opt_out_confirmation_by text not null default 'leadloop' check (opt_out_confirmation_by in ('leadloop', 'twilio')),
  sending_problem text check (sending_problem is null or length(sending_problem) <= 500),
  sending_problem_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint businesses_quiet_hours_allowed check (private.texting_window_problem(quiet_hours_start, quiet_hours_end) is null)
);
comment on table public.businesses is 'A customer of leadloop: its owner phone, Twilio sending number (routes inbound SMS), follow-up settings and quiet hours. The wording of its texts is private.sms_copy.';
comment on column public.businesses.default_locale is 'The owner''s language (owner alert and summary) and the first guess for a lead whose form message says nothing.';
comment on column public.businesses.quiet_hours_start is 'Texts to leads go out only from this time in the lead''s own zone (08:00 at the earliest)...';
comment on column public.businesses.quiet_hours_end is '...until this time (21:00 at the latest); outside the window, and outside a stricter state''s, they are deferred.';
comment on column public.businesses.timezone is 'The business''s zone: the summary''s clock, and a lead''s zone when neither the lead''s device, a ZIP nor the area code tells it.';
comment on column public.businesses.opt_out_confirmation_by is 'Who sends the one opt-out confirmation: leadloop, or twilio when the number uses Advanced Opt-Out (then leadloop stays silent).';
comment on column public.businesses.allowed_calling_codes is 'Country calling codes leads may be texted at (SMS pumping guard).';
comment on column public.businesses.sending_problem is 'Owner-visible account problem reported by Twilio (30034/30032 unregistered number).';

create trigger businesses_touch_updated_at before update on public.businesses
  for each row execute function private.touch_updated_at();

-- The CHECK constraint above is the guarantee; this says what is wrong in words the dashboard shows.
create or replace function private.businesses_check_texting_window()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  problem text := private.texting_window_problem(new.quiet_hours_start, new.quiet_hours_end);
begin
  if problem is not null then
    raise exception using errcode = '23514', message = problem,
      detail = 'field: ' || case when new.quiet_hours_start < '08:00' then 'quiet_hours_start' else 'quiet_hours_end' end;
  end if;
  return new;
end
$$;
comment on function private.businesses_check_texting_window() is 'BEFORE INSERT/UPDATE on businesses: refuses a texting window outside 08:00-21:00 (or under an hour) with a clear message.';
revoke execute on function private.businesses_check_texting_window() from public;

create trigger businesses_check_texting_window before insert or update of quiet_hours_start, quiet_hours_end on public.businesses
  for each row execute function private.businesses_check_texting_window();

create table public.business_members (
  business_id uuid not null references public.businesses (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'staff' check (role in ('owner', 'staff')),
  created_at timestamptz not null default now(),
  primary key (business_id, user_id)
);
comment on table public.business_members is 'Who may see a business (any member) and change its settings (owners). The basis of every RLS policy.';
create index business_members_user_id_idx on public.business_members (user_id, business_id, role);

-- Membership helpers for RLS. Security definer so the policy on business_members does not recurse;
-- they only ever answer for the calling user.
create or replace function private.member_business_ids()
returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return query
  select m.business_id from public.business_members m where m.user_id = (select auth.uid());
end
$$;
comment on function private.member_business_ids() is 'Businesses the calling user belongs to (any role).';
revoke execute on function private.member_business_ids() from public, anon;
grant execute on function private.member_business_ids() to authenticated, service_role;

create or replace function private.owned_business_ids()
returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return query
  select m.business_id from public.business_members m where m.user_id = (select auth.uid()) and m.role = 'owner';
end
$$;
comment on function private.owned_business_ids() is 'Businesses the calling user owns.';
revoke execute on function private.owned_business_ids() from public, anon;
grant execute on function private.owned_business_ids() to authenticated, service_role;

alter table public.businesses enable row level security;
revoke all on public.businesses from anon, authenticated;
grant select on public.businesses to authenticated;
grant update (name, owner_phone, timezone, default_locale, followup_enabled, nudge_delay_minutes,
  idle_timeout_minutes, max_questions, quiet_hours_start, quiet_hours_end, duplicate_window_minutes,
  allowed_calling_codes, opt_out_confirmation_by) on public.businesses to authenticated;
grant all on public.businesses to service_role;

create policy "members can read their businesses" on public.businesses
  for select to authenticated
  using (id in (select private.member_business_ids()));
create policy "owners can change their business settings" on public.businesses
  for update to authenticated
  using (id in (select private.owned_business_ids()))
  with check (id in (select private.owned_business_ids()));

alter table public.business_members enable row level security;
revoke all on public.business_members from anon, authenticated;
-- Nobody is added by hand: people join through an invitation they accept (accept_invitation), and the
-- creator of a business becomes its owner inside create_business.
grant select, delete on public.business_members to authenticated;
grant all on public.business_members to service_role;

create policy "members can read their business team" on public.business_members
  for select to authenticated
  using (business_id in (select private.member_business_ids()));
create policy "owners can remove members other than themselves" on public.business_members
  for delete to authenticated
  using (business_id in (select private.owned_business_ids()) and user_id <> (select auth.uid()));
