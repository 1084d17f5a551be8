-- The do-not-text list from the dashboard (issue 9 item 5): members add a number with a reason, owners
-- remove one they (or a teammate) added, with a reason; every change to the list, from the dashboard, a
-- STOP, a reply or a carrier, leaves an audit row saying who, when and why. A number the lead opted out
-- themselves (keyword, reply) or that a carrier reported cannot be removed here: only the lead's START
-- undoes it (sms-compliance: consent is the lead's to give back).

create table public.do_not_text_events (
  id bigint generated always as identity primary key,
  business_id uuid not null references public.businesses (id) on delete cascade,
  phone text not null check (private.is_e164(phone)),
  action text not null check (action in ('added', 'removed')),
  source text not null check (length(source) between 1 and 20),
  reason text not null check (length(reason) between 1 and 300),
  actor_id uuid references auth.users (id) on delete set null,
  actor_email text check (length(actor_email) <= 320),
  created_at timestamptz not null default now()
);
comment on table public.do_not_text_events is 'Audit of the do-not-text list (public.opt_outs): every number added or removed, by whom (a member, or null for the lead''s own STOP/START and carrier reports), when and why. Written by a trigger on opt_outs only.';
comment on column public.do_not_text_events.source is 'The opt-out''s source: owner (a member, from the dashboard), keyword, reply or carrier.';
comment on column public.do_not_text_events.actor_email is 'The member''s email at the time, so the audit still reads after the account is gone.';
create index do_not_text_events_business_idx on public.do_not_text_events (business_id, created_at desc);

alter table public.do_not_text_events enable row level security;
revoke all on public.do_not_text_events from anon, authenticated;
grant select on public.do_not_text_events to authenticated;
grant all on public.do_not_text_events to service_role;

create policy "members can read their business do-not-text audit" on public.do_not_text_events
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

create or replace function private.require_member(p_business_id uuid)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_business_id is null or p_business_id not in (select private.member_business_ids()) then
    raise exception 'only a member of this business can do this' using errcode = '42501';
  end if;
end
$$;
comment on function private.require_member(uuid) is 'Raises 42501 unless the calling user belongs to the business (RPC guard).';
revoke execute on function private.require_member(uuid) from public;

-- The reason travels from the RPC to the trigger in a transaction-local setting, so the trigger stays the
-- one writer of the audit whoever changes the list.
create or replace function private.opt_outs_audit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  reason text := nullif(current_setting('leadloop.do_not_text_reason', true), '');
  actor uuid := (select auth.uid());
  row_ public.opt_outs := case when tg_op = 'INSERT' then new else old end;
begin
  -- A business being deleted takes its audit with it.
  if tg_op = 'DELETE' and not exists (select 1 from public.businesses b where b.id = old.business_id) then
    return null;
  end if;
  insert into public.do_not_text_events (business_id, phone, action, source, reason, actor_id, actor_email)
  values (row_.business_id, row_.phone, case when tg_op = 'INSERT' then 'added' else 'removed' end, row_.source,
          left(coalesce(reason, case when tg_op = 'INSERT' then row_.matched_rule
                                     when row_.source = 'owner' then 'removed'
                                     else 'the lead opted back in (START)' end), 300),
          actor, (select u.email from auth.users u where u.id = actor));
  return null;
end
$$;
comment on function private.opt_outs_audit() is 'AFTER INSERT OR DELETE on opt_outs: one do_not_text_events row per change, with the member (auth.uid()) and the reason given to add_do_not_text / remove_do_not_text (else the matched rule, or START).';
revoke execute on function private.opt_outs_audit() from public;

create trigger opt_outs_audit after insert or delete on public.opt_outs
  for each row execute function private.opt_outs_audit();

create or replace function private.do_not_text_reason(p_reason text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  reason text := private.sms_single_line(p_reason, 1000);
begin
  if reason is null or length(reason) < 3 then
    raise exception 'say why (at least 3 characters)' using errcode = '22023', detail = 'field: reason';
  elsif length(reason) > 300 then
    raise exception 'keep the reason under 300 characters' using errcode = '22023', detail = 'field: reason';
  end if;
  return reason;
end
$$;
comment on function private.do_not_text_reason(text) is 'The reason for a do-not-text change as one clean line, 3 to 300 characters, or a 22023 error saying what is wrong.';
revoke execute on function private.do_not_text_reason(text) from public;

create or replace function public.add_do_not_text(p_business_id uuid, p_phone text, p_reason text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  reason text;
  added integer;
begin
  perform private.require_member(p_business_id);
  reason := private.do_not_text_reason(p_reason);
  if not coalesce(private.is_e164(p_phone), false) then
    raise exception 'enter the number with its country code, like +14155550123' using errcode = '22023', detail = 'field: phone';
  end if;
  perform set_config('leadloop.do_not_text_reason', reason, true);
  insert into public.opt_outs (business_id, phone, source, matched_rule) values (p_business_id, p_phone, 'owner', 'owner')
  on conflict (business_id, phone) do nothing;
  get diagnostics added = row_count;
  perform set_config('leadloop.do_not_text_reason', '', true);
  return added = 1;
end
$$;
comment on function public.add_do_not_text(uuid, text, text) is 'Members: put a number on the business''s do-not-text list with a reason (audited). True when added, false when it was already on it. Ends the number''s open conversations and cancels its waiting texts.';
revoke execute on function public.add_do_not_text(uuid, text, text) from public, anon;
grant execute on function public.add_do_not_text(uuid, text, text) to authenticated, service_role;

create or replace function public.remove_do_not_text(p_business_id uuid, p_phone text, p_reason text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  entry public.opt_outs;
  reason text;
begin
  perform private.require_owner(p_business_id);
  reason := private.do_not_text_reason(p_reason);
  select * into entry from public.opt_outs o where o.business_id = p_business_id and o.phone = p_phone for update;
  if entry.phone is null then
    raise exception 'that number is not on the do-not-text list' using errcode = 'P0002';
  elsif entry.source <> 'owner' then
    raise exception 'this number opted out itself or its carrier refused texts: only the lead can undo that, by texting START to your number'
      using errcode = 'P0001', detail = 'source: ' || entry.source;
  end if;
  perform set_config('leadloop.do_not_text_reason', reason, true);
  delete from public.opt_outs o where o.business_id = p_business_id and o.phone = p_phone;
  perform set_config('leadloop.do_not_text_reason', '', true);
end
$$;
comment on function public.remove_do_not_text(uuid, text, text) is 'Owners: take a number a member put on the do-not-text list off it, with a reason (audited). A STOP, reply or carrier opt-out is refused (P0001): only the lead''s START lifts it.';
revoke execute on function public.remove_do_not_text(uuid, text, text) from public, anon;
grant execute on function public.remove_do_not_text(uuid, text, text) to authenticated, service_role;
