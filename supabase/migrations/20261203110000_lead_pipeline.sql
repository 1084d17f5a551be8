-- Working a lead: where the owner has it in their pipeline (status), what they wrote down (notes),
-- who on the team has it (assigned_to), and whether the lead said something nobody has read yet.
-- Members change exactly status, notes and assigned_to (column grants under an RLS policy); the
-- unread marker belongs to the database: every inbound text tied to a lead raises it, and
-- mark_lead_read clears it for a member who opened the thread.

alter table public.leads
  add column status text not null default 'new'
    check (status in ('new', 'contacted', 'booked', 'won', 'lost', 'spam')),
  add column notes text check (notes is null or length(notes) <= 4000),
  add column assigned_to uuid,
  add column unread_count integer not null default 0 check (unread_count >= 0),
  add column last_inbound_at timestamptz,
  -- A member of the lead's own business; removing the member (or their account) unassigns their leads.
  add constraint leads_assigned_to_member_fk foreign key (business_id, assigned_to)
    references public.business_members (business_id, user_id) on delete set null (assigned_to);
comment on column public.leads.status is 'The owner''s pipeline: new -> contacted -> booked -> won | lost, or spam. Set by members; independent of the SMS follow-up state.';
comment on column public.leads.notes is 'The team''s notes about the lead (at most 4000 characters).';
comment on column public.leads.assigned_to is 'The member who has the lead (a user in business_members of the same business), or nobody.';
comment on column public.leads.unread_count is 'Texts from the lead that no member has read: raised by every inbound message tied to the lead, cleared by mark_lead_read.';
comment on column public.leads.last_inbound_at is 'When the lead last texted the business (any inbound message tied to the lead).';
create index leads_business_id_assigned_to_idx on public.leads (business_id, assigned_to) where assigned_to is not null;

grant update (status, notes, assigned_to) on public.leads to authenticated;
create policy "members can work their business leads" on public.leads
  for update to authenticated
  using (business_id in (select private.member_business_ids()))
  with check (business_id in (select private.member_business_ids()));

-- An inbound text counts once, when it is first tied to a lead: at insert, or when a text from an
-- unknown number is later attached to one.
create or replace function private.leads_count_unread()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and old.lead_id is not distinct from new.lead_id then
    return null;
  end if;
  update public.leads l
     set unread_count = l.unread_count + 1,
         last_inbound_at = greatest(l.last_inbound_at, new.created_at)
   where l.id = new.lead_id;
  return null;
end
$$;
comment on function private.leads_count_unread() is 'AFTER INSERT / UPDATE OF lead_id on messages: an inbound text newly tied to a lead raises its unread_count and last_inbound_at.';
revoke execute on function private.leads_count_unread() from public;

create trigger messages_count_unread after insert or update of lead_id on public.messages
  for each row when (new.direction = 'inbound' and new.lead_id is not null)
  execute function private.leads_count_unread();

create or replace function public.mark_lead_read(p_lead_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from public.leads l
                  where l.id = p_lead_id and l.business_id in (select private.member_business_ids())) then
    raise exception 'no lead % in your businesses', p_lead_id using errcode = '42501';
  end if;
  -- Only a change is written, so opening a read thread sends no realtime event.
  update public.leads l set unread_count = 0 where l.id = p_lead_id and l.unread_count > 0;
end
$$;
comment on function public.mark_lead_read(uuid) is 'Dashboard: a member has read the lead''s thread; its unread_count goes to 0. 42501 for a lead outside the caller''s businesses.';
revoke execute on function public.mark_lead_read(uuid) from public, anon;
grant execute on function public.mark_lead_read(uuid) to authenticated;
