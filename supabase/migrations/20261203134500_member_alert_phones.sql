-- Alert phones for team members (issue 9 item 5). Each member (owner or staff) may give the business an
-- alert phone; it proves itself with a texted code (the owner phone's machinery: private.send_phone_code /
-- private.check_phone_code on private.phone_verifications) and then gets, as its own texts, the new-lead
-- alerts and (when chosen) the summaries the owner phone gets, and may text lead commands ("1234 called").
--
-- Speed to lead: the lead's transaction does nothing more. Member copies are written when the owner's
-- own text has left (sent, or failed for good) or is held for the owner phone's code, by a trigger on the
-- owner text's status, so the owner's alert is queued and sent first and never waits on them. Each copy
-- goes through private.enqueue_outbound like any text (daily cap, opt-out of that phone at write and send
-- time; no quiet hours, as for owner texts), deduped per owner text and phone: a phone shared by two
-- members, or the owner phone itself, gets one text per event.

alter table public.business_members
  add column alert_phone text check (alert_phone is null or private.is_e164(alert_phone)),
  add column alert_phone_verified_at timestamptz,
  add column alert_new_leads boolean not null default true,
  add column alert_summaries boolean not null default false,
  add constraint business_members_verified_phone check (alert_phone is not null or alert_phone_verified_at is null);
comment on column public.business_members.alert_phone is 'The member''s alert phone for this business (E.164), set with set_member_alert_phone; gets texts only once confirmed.';
comment on column public.business_members.alert_phone_verified_at is 'When the member confirmed alert_phone with the texted code (confirm_member_alert_phone); null while unconfirmed.';
comment on column public.business_members.alert_new_leads is 'Whether the confirmed alert phone gets the new-lead alerts (member_alert).';
comment on column public.business_members.alert_summaries is 'Whether the confirmed alert phone gets the lead summaries (member_summary).';
-- The fan-out's one lookup: the confirmed alert phones of a business.
create index business_members_verified_alert_phone_idx on public.business_members (business_id)
  where alert_phone_verified_at is not null;

-- Who may manage a member's alert phone: the member themself or an owner of the business. 42501 for
-- anyone else (another business's member, staff for someone else, anon); P0002 when p_user_id is not on
-- the team. Returns the member row, locked.
create or replace function private.alert_phone_member(p_business_id uuid, p_user_id uuid)
returns public.business_members
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  member public.business_members;
begin
  perform private.require_member(p_business_id);
  if p_user_id is distinct from caller and p_business_id not in (select private.owned_business_ids()) then
    raise exception 'only an owner can change another member''s alert phone' using errcode = '42501';
  end if;
  select * into member from public.business_members m
   where m.business_id = p_business_id and m.user_id = p_user_id for update;
  if member.user_id is null then
    raise exception 'that person is not on this business''s team' using errcode = 'P0002';
  end if;
  return member;
end
$$;
comment on function private.alert_phone_member(uuid, uuid) is 'RPC guard: the member row (locked) whose alert phone the caller may manage (their own, or any member''s for an owner); 42501 otherwise, P0002 when p_user_id is not a member.';
revoke execute on function private.alert_phone_member(uuid, uuid) from public;

-- The state the dashboard shows for one member's alert phone.
create or replace function private.alert_phone_state(p_member public.business_members, p_code jsonb default null)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'user_id', p_member.user_id, 'alert_phone', p_member.alert_phone,
    'state', case when p_member.alert_phone is null then 'none' when p_member.alert_phone_verified_at is null then 'unverified' else 'verified' end,
    'alert_new_leads', p_member.alert_new_leads, 'alert_summaries', p_member.alert_summaries, 'code', p_code)
$$;
comment on function private.alert_phone_state(public.business_members, jsonb) is '{user_id, alert_phone, state (none, unverified, verified), alert_new_leads, alert_summaries, code}: a member''s alert phone as the RPCs return it; code is the send result when one was asked for.';
revoke execute on function private.alert_phone_state(public.business_members, jsonb) from public;

-- Texts still waiting for a phone that no longer belongs to that member (removed, changed or cleared)
-- stop at once, unless another confirmed member of the business still has the phone.
create or replace function private.cancel_member_texts(p_business_id uuid, p_phone text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_phone is null or exists (select 1 from public.business_members m
                                 where m.business_id = p_business_id and m.alert_phone = p_phone
                                   and m.alert_phone_verified_at is not null) then
    return;
  end if;
  update public.messages m set status = 'canceled', status_reason = 'alert_phone_removed'
   where m.business_id = p_business_id and m.to_phone = p_phone and m.status in ('queued', 'deferred')
     and m.kind in ('member_alert', 'member_summary', 'member_notice');
end
$$;
comment on function private.cancel_member_texts(uuid, text) is 'Cancels (status_reason alert_phone_removed) the member texts waiting for a phone no confirmed member of the business has any more.';
revoke execute on function private.cancel_member_texts(uuid, text) from public;

create or replace function private.business_members_cancel_texts()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.cancel_member_texts(old.business_id, old.alert_phone);
  return null;
end
$$;
comment on function private.business_members_cancel_texts() is 'AFTER DELETE on business_members, or an alert phone changed or unconfirmed: the texts waiting for the old phone stop.';
revoke execute on function private.business_members_cancel_texts() from public;

create trigger business_members_cancel_texts_on_delete after delete on public.business_members
  for each row when (old.alert_phone is not null) execute function private.business_members_cancel_texts();
create trigger business_members_cancel_texts_on_change after update of alert_phone, alert_phone_verified_at on public.business_members
  for each row when (old.alert_phone_verified_at is not null
                     and (new.alert_phone is distinct from old.alert_phone or new.alert_phone_verified_at is null))
  execute function private.business_members_cancel_texts();

create or replace function public.set_member_alert_phone(p_business_id uuid, p_user_id uuid, p_phone text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  member public.business_members := private.alert_phone_member(p_business_id, p_user_id);
  business public.businesses;
  phone text := private.clean_phone(p_phone);
  refusal text;
begin
  if not private.is_e164(phone) then
    raise exception 'phone: give a mobile number with its country code, like +14155550123' using errcode = '22023';
  end if;
  select * into business from public.businesses b where b.id = p_business_id;
  -- The alert phone gets every lead's details by SMS: the pumping guard's rule for numbers applies to it too.
  refusal := private.texting_refusal(business, phone);
  if refusal is not null then
    raise exception 'phone: leadloop cannot text % (%)', phone, replace(refusal, '_', ' ') using errcode = '22023';
  end if;
  if member.alert_phone = phone and member.alert_phone_verified_at is not null then
    return private.alert_phone_state(member);
  end if;
  if member.alert_phone is distinct from phone then
    update public.business_members m set alert_phone = phone, alert_phone_verified_at = null
     where m.business_id = p_business_id and m.user_id = p_user_id
    returning * into member;
  end if;
  -- The same unconfirmed phone again asks for a new code (throttled).
  return private.alert_phone_state(member, private.send_phone_code(business, p_user_id, phone));
end
$$;
comment on function public.set_member_alert_phone(uuid, uuid, text) is 'A member for themself, an owner for any member: set the member''s alert phone (E.164; spaces, dots, dashes and brackets ignored) and text it a code; the same unconfirmed phone again sends a new code (throttled). Returns private.alert_phone_state with code {sent, reason (no_sending_number, throttled), resend_after}. 22023 (phone: ...) for a number leadloop cannot text, 42501 for others, P0002 for a non-member.';
revoke execute on function public.set_member_alert_phone(uuid, uuid, text) from public, anon;
grant execute on function public.set_member_alert_phone(uuid, uuid, text) to authenticated, service_role;

create or replace function public.clear_member_alert_phone(p_business_id uuid, p_user_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  member public.business_members := private.alert_phone_member(p_business_id, p_user_id);
begin
  update public.business_members m set alert_phone = null, alert_phone_verified_at = null
   where m.business_id = p_business_id and m.user_id = p_user_id
  returning * into member;
  update private.phone_verifications v set code_hash = null, expires_at = null, phone = null
   where v.business_id = p_business_id and v.user_id = p_user_id;
  return private.alert_phone_state(member);
end
$$;
comment on function public.clear_member_alert_phone(uuid, uuid) is 'A member for themself, an owner for any member: remove the member''s alert phone (its waiting texts stop, its live code is void). Returns private.alert_phone_state.';
revoke execute on function public.clear_member_alert_phone(uuid, uuid) from public, anon;
grant execute on function public.clear_member_alert_phone(uuid, uuid) to authenticated, service_role;

create or replace function public.confirm_member_alert_phone(p_business_id uuid, p_user_id uuid, p_code text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  member public.business_members := private.alert_phone_member(p_business_id, p_user_id);
begin
  if member.alert_phone is null then
    raise exception 'set an alert phone first' using errcode = '55000';
  end if;
  if member.alert_phone_verified_at is not null then
    return true;
  end if;
  if not private.check_phone_code(p_business_id, p_user_id, member.alert_phone, p_code) then
    return false;
  end if;
  update public.business_members m set alert_phone_verified_at = now()
   where m.business_id = p_business_id and m.user_id = p_user_id;
  return true;
end
$$;
comment on function public.confirm_member_alert_phone(uuid, uuid, text) is 'The member themself or an owner: confirm the member''s alert phone with the 6-digit code texted to it. True when confirmed (it gets texts from now on); false for a wrong, expired or used-up code (5 tries per code). 55000 when no alert phone is set.';
revoke execute on function public.confirm_member_alert_phone(uuid, uuid, text) from public, anon;
grant execute on function public.confirm_member_alert_phone(uuid, uuid, text) to authenticated, service_role;

create or replace function public.set_member_alert_choices(p_business_id uuid, p_user_id uuid, p_new_leads boolean default null, p_summaries boolean default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  member public.business_members := private.alert_phone_member(p_business_id, p_user_id);
begin
  if p_new_leads is null and p_summaries is null then
    raise exception 'choose p_new_leads, p_summaries or both' using errcode = '22023';
  end if;
  update public.business_members m
     set alert_new_leads = coalesce(p_new_leads, m.alert_new_leads), alert_summaries = coalesce(p_summaries, m.alert_summaries)
   where m.business_id = p_business_id and m.user_id = p_user_id
  returning * into member;
  return private.alert_phone_state(member);
end
$$;
comment on function public.set_member_alert_choices(uuid, uuid, boolean, boolean) is 'The member themself or an owner: what the member''s alert phone gets: new-lead alerts (p_new_leads), summaries (p_summaries); null keeps a choice. Returns private.alert_phone_state.';
revoke execute on function public.set_member_alert_choices(uuid, uuid, boolean, boolean) from public, anon;
grant execute on function public.set_member_alert_choices(uuid, uuid, boolean, boolean) to authenticated, service_role;

-- ---------- fan-out ----------

-- One owner text's copies: the same body to every confirmed member alert phone that chose it and is not
-- the phone the owner text went to; one text per phone.
create or replace function private.fan_out_to_members(p_message public.messages)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  business public.businesses;
  copy_kind text := case p_message.kind when 'owner_alert' then 'member_alert' when 'owner_summary' then 'member_summary' end;
  phone text;
  written integer := 0;
begin
  if copy_kind is null or not exists (select 1 from public.business_members m
                                        where m.business_id = p_message.business_id and m.alert_phone_verified_at is not null) then
    return 0;
  end if;
  select * into business from public.businesses b where b.id = p_message.business_id;
  for phone in
    select distinct m.alert_phone from public.business_members m
     where m.business_id = p_message.business_id and m.alert_phone_verified_at is not null
       and m.alert_phone <> p_message.to_phone and m.alert_phone <> business.owner_phone
       and case copy_kind when 'member_alert' then m.alert_new_leads else m.alert_summaries end
     order by 1
  loop
    if private.enqueue_outbound(business, copy_kind, phone, p_message.body, p_lead_id => p_message.lead_id,
                                p_dedupe_key => copy_kind || ':' || p_message.id || ':' || phone) is not null then
      written := written + 1;
    end if;
  end loop;
  return written;
end
$$;
comment on function private.fan_out_to_members(public.messages) is 'Writes an owner alert''s (member_alert) or summary''s (member_summary) copies to the confirmed alert phones that chose them, one per phone, never to the owner phone; idempotent (dedupe key <kind>:<owner text>:<phone>). Returns how many it wrote.';
revoke execute on function private.fan_out_to_members(public.messages) from public;

create or replace function private.messages_fan_out_to_members()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.fan_out_to_members(new);
  return null;
end
$$;
comment on function private.messages_fan_out_to_members() is 'AFTER UPDATE OF status on an owner alert or summary that has left (sent, delivered, failed) or is held for the owner phone''s code: its member copies.';
revoke execute on function private.messages_fan_out_to_members() from public;

create trigger messages_fan_out_to_members after update of status on public.messages
  for each row when (new.kind in ('owner_alert', 'owner_summary') and new.status is distinct from old.status
                     and (new.status in ('sent', 'delivered', 'undelivered', 'failed')
                          or (new.status = 'deferred' and new.status_reason = 'owner_phone_unverified')))
  execute function private.messages_fan_out_to_members();
