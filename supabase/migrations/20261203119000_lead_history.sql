-- The lead's history: every change of status, assignee or notes (who, when, from, to), written by a
-- trigger so no path (dashboard, the owner's SMS command, a member removed) can skip it. Marking a lead
-- spam puts its number on the do-not-text list, which ends its conversation (opt_outs trigger).
-- The team list (business_team) gives the dashboard names for assignees and authors.

-- What the dashboard shows for a user: their name from the sign-up metadata, else their email.
create or replace function private.user_display_name(p_user_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select left(coalesce(nullif(btrim(u.raw_user_meta_data ->> 'full_name'), ''), nullif(btrim(u.raw_user_meta_data ->> 'name'), ''),
                       u.email, 'a member'), 200)
    from auth.users u where u.id = p_user_id
$$;
comment on function private.user_display_name(uuid) is 'A user''s name for the team: full_name or name from their metadata, else their email (null for an unknown user).';
revoke execute on function private.user_display_name(uuid) from public;

create table public.lead_events (
  id bigint generated always as identity primary key,
  business_id uuid not null references public.businesses (id) on delete cascade,
  lead_id uuid not null references public.leads (id) on delete cascade,
  actor_id uuid references auth.users (id) on delete set null,
  actor_name text check (actor_name is null or length(actor_name) <= 200),
  via text not null default 'dashboard' check (via in ('dashboard', 'sms', 'system')),
  field text not null check (field in ('status', 'assigned_to', 'notes')),
  from_value text check (from_value is null or length(from_value) <= 4000),
  to_value text check (to_value is null or length(to_value) <= 4000),
  created_at timestamptz not null default clock_timestamp()
);
comment on table public.lead_events is 'The lead''s pipeline history: one row per change of status, assigned_to (user ids) or notes (the text before and after), with who made it (actor, their name when they did) and how (dashboard, sms command, system such as a removed member). Written only by the leads trigger.';
comment on column public.lead_events.actor_name is 'The actor''s name when they made the change, kept if the member later leaves.';
comment on column public.lead_events.via is 'dashboard (a member under RLS), sms (the owner''s text command), system (no member: e.g. the assignee left the team).';
create index lead_events_lead_id_created_at_idx on public.lead_events (lead_id, created_at desc);
create index lead_events_business_id_idx on public.lead_events (business_id);
create index lead_events_actor_id_idx on public.lead_events (actor_id) where actor_id is not null;

alter table public.lead_events enable row level security;
revoke all on public.lead_events from anon, authenticated;
grant select on public.lead_events to authenticated;
grant all on public.lead_events to service_role;

create policy "members can read their business lead history" on public.lead_events
  for select to authenticated
  using (business_id in (select private.member_business_ids()));


-- Who is acting: the signed-in member, or the owner's phone command (it sets leadloop.actor_id for
-- its transaction), or nobody (system).
create or replace function private.leads_record_history()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  sms_actor uuid := nullif(current_setting('leadloop.actor_id', true), '')::uuid;
  actor uuid := coalesce(sms_actor, (select auth.uid()));
  actor_name text := private.user_display_name(actor);
  via text := case when sms_actor is not null then 'sms' when actor is not null then 'dashboard' else 'system' end;
begin
  insert into public.lead_events (business_id, lead_id, actor_id, actor_name, via, field, from_value, to_value)
  select new.business_id, new.id, actor, actor_name, via, change.field, change.from_value, change.to_value
    from (values ('status', old.status, new.status),
                 ('assigned_to', old.assigned_to::text, new.assigned_to::text),
                 ('notes', old.notes, new.notes)) as change(field, from_value, to_value)
   where change.from_value is distinct from change.to_value;
  return null;
end
$$;
comment on function private.leads_record_history() is 'AFTER UPDATE OF status, assigned_to, notes on leads: one lead_events row per changed field, with the acting member (or the owner''s SMS command, or system).';
revoke execute on function private.leads_record_history() from public;

create trigger leads_record_history after update of status, assigned_to, notes on public.leads
  for each row
  when (old.status is distinct from new.status or old.assigned_to is distinct from new.assigned_to
        or old.notes is distinct from new.notes)
  execute function private.leads_record_history();

-- Spam: the number goes on the business's do-not-text list (source owner, rule spam); the opt_outs
-- trigger cancels what waits for it and ends its open conversation. Setting another status later
-- leaves the number on the list: taking it off is a deliberate step on the do-not-text list.
create or replace function private.leads_spam_opt_out()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if private.is_e164(new.phone) then
    insert into public.opt_outs (business_id, phone, source, matched_rule)
    values (new.business_id, new.phone, 'owner', 'spam')
    on conflict (business_id, phone) do nothing;
  end if;
  return null;
end
$$;
comment on function private.leads_spam_opt_out() is 'AFTER UPDATE OF status on leads, to spam: the lead''s number goes on the do-not-text list (source owner, matched_rule spam), which ends its conversation.';
revoke execute on function private.leads_spam_opt_out() from public;

create trigger leads_spam_opt_out after update of status on public.leads
  for each row when (new.status = 'spam' and old.status is distinct from 'spam')
  execute function private.leads_spam_opt_out();

-- The team, with names: the assignee picker and the authors of history rows and owner replies.
create or replace function public.business_team(p_business_id uuid)
returns table (user_id uuid, role text, name text)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_member(p_business_id);
  return query
  select m.user_id, m.role, private.user_display_name(m.user_id)
    from public.business_members m
   where m.business_id = p_business_id
   order by m.role = 'owner' desc, 3;
end
$$;
comment on function public.business_team(uuid) is 'Dashboard: the members of one of the caller''s businesses with their display names (owners first). 42501 for any other business.';
revoke execute on function public.business_team(uuid) from public, anon;
grant execute on function public.business_team(uuid) to authenticated;
