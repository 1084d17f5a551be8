-- Team (issue 9 item 6): owners invite people by email; the link in the email joins the person who opens
-- it, signed in with that same (confirmed) address, to the business in the invited role. Only a SHA-256
-- of the token is stored; a token works once, for 7 days, until the owner revokes it. Owners see who is on
-- the team and remove members (never the last owner: an owner cannot remove themselves, so one remains).
--
-- Why the address must match: the link travels by email and can be forwarded or leak (a shared inbox, a
-- mail scanner that follows links). Tying it to the invited address means the owner decided who joins,
-- not whoever held the link; the invitee signs up or signs in with that address first.

create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  email text not null check (email = lower(email) and length(email) between 3 and 254),
  role text not null check (role in ('owner', 'staff')),
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  invited_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  revoked_at timestamptz,
  constraint invitations_settled_once check (accepted_at is null or revoked_at is null)
);
comment on table public.invitations is 'Team invitations: who (email, role) an owner invited to a business, until when, and whether it was accepted or revoked. The token itself is only in the email; token_hash is its SHA-256.';
comment on column public.invitations.token_hash is 'SHA-256 (hex) of the one-time token in the invitation link.';
create unique index invitations_one_pending_per_email on public.invitations (business_id, email) where accepted_at is null and revoked_at is null;
create index invitations_invited_by_idx on public.invitations (invited_by) where invited_by is not null;
create index invitations_accepted_by_idx on public.invitations (accepted_by) where accepted_by is not null;

alter table public.invitations enable row level security;
revoke all on public.invitations from anon, authenticated;
grant select (id, business_id, email, role, invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at)
  on public.invitations to authenticated;
grant all on public.invitations to service_role;

create policy "owners can read their business invitations" on public.invitations
  for select to authenticated
  using (business_id in (select private.owned_business_ids()));

create or replace function private.invitation_token_hash(p_token text)
returns text
language sql
immutable
set search_path = ''
as $$
  select encode(extensions.digest(coalesce(p_token, ''), 'sha256'), 'hex')
$$;
comment on function private.invitation_token_hash(text) is 'SHA-256 (hex) of an invitation token: what invitations stores and looks tokens up by.';
revoke execute on function private.invitation_token_hash(text) from public;

create or replace function public.invite_member(p_business_id uuid, p_email text, p_role text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  address text := lower(btrim(coalesce(p_email, '')));
  token text := encode(extensions.gen_random_bytes(32), 'hex');
  business public.businesses;
  inviter text;
  invitation public.invitations;
begin
  perform private.require_owner(p_business_id);
  if not private.is_email(address) then
    raise exception 'enter an email address, like name@example.com' using errcode = '22023', detail = 'field: email';
  elsif p_role is null or p_role not in ('owner', 'staff') then
    raise exception 'the role must be owner or staff' using errcode = '22023', detail = 'field: role';
  end if;
  if exists (select 1 from public.business_members m join auth.users u on u.id = m.user_id
              where m.business_id = p_business_id and lower(u.email) = address) then
    raise exception '% is already on the team', address using errcode = '23505', detail = 'field: email';
  end if;
  if (select count(*) from public.invitations i where i.business_id = p_business_id and i.created_at > now() - interval '1 day') >= 50 then
    raise exception 'at most 50 invitations a day: try again tomorrow' using errcode = '54000';
  end if;
  -- Inviting again replaces the pending invitation (a new link; the old one stops working).
  update public.invitations i set revoked_at = now()
   where i.business_id = p_business_id and i.email = address and i.accepted_at is null and i.revoked_at is null;
  insert into public.invitations (business_id, email, role, token_hash, invited_by, expires_at)
  values (p_business_id, address, p_role, private.invitation_token_hash(token), (select auth.uid()), now() + interval '7 days')
  returning * into invitation;
  select * into business from public.businesses b where b.id = p_business_id;
  inviter := coalesce((select u.email from auth.users u where u.id = (select auth.uid())), business.name);
  perform private.enqueue_email(p_business_id, address, 'team_invitation', jsonb_build_object(
      'inviter', inviter,
      'role_name', private.email_fragment('role.' || p_role, business.default_locale),
      'accept_url', private.dashboard_url('/join?token=' || token),
      'expires', private.email_datetime(invitation.expires_at, business.timezone)),
    'invitation:' || invitation.id);
  return invitation.id;
end
$$;
comment on function public.invite_member(uuid, text, text) is 'Owners: invite an email address to the business as owner or staff; emails a one-time link (7 days). Inviting the same address again replaces the pending invitation. 23505 when already a member.';
revoke execute on function public.invite_member(uuid, text, text) from public, anon;
grant execute on function public.invite_member(uuid, text, text) to authenticated, service_role;

create or replace function public.accept_invitation(p_token text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := (select auth.uid());
  account auth.users;
  invitation public.invitations;
begin
  if uid is null then
    raise exception 'sign in first, then open the link again' using errcode = '42501';
  end if;
  select * into invitation from public.invitations i where i.token_hash = private.invitation_token_hash(btrim(coalesce(p_token, ''))) for update;
  if invitation.id is null then
    raise exception 'this invitation link is not valid: check that you opened the whole link' using errcode = 'P0002';
  elsif invitation.revoked_at is not null then
    raise exception 'this invitation was withdrawn or replaced by a newer one: use the latest email, or ask for a new invitation' using errcode = 'P0001';
  elsif invitation.accepted_at is not null then
    raise exception 'this invitation was already used' using errcode = 'P0001';
  elsif invitation.expires_at <= now() then
    raise exception 'this invitation has expired: ask the owner for a new one' using errcode = 'P0001';
  end if;
  select * into account from auth.users u where u.id = uid;
  if lower(account.email) is distinct from invitation.email or account.email_confirmed_at is null then
    raise exception 'this invitation is for %: sign in with that address (confirmed) to accept it', invitation.email using errcode = '42501';
  end if;
  insert into public.business_members (business_id, user_id, role) values (invitation.business_id, uid, invitation.role)
  on conflict (business_id, user_id) do nothing;
  update public.invitations i set accepted_at = now(), accepted_by = uid where i.id = invitation.id;
  return invitation.business_id;
end
$$;
comment on function public.accept_invitation(text) is 'Signed-in users: join the business of the invitation whose link carries p_token, in its role. The account''s confirmed email must be the invited address; an unknown, revoked, used or expired token is refused (P0002/P0001) with the reason. Returns the business id.';
revoke execute on function public.accept_invitation(text) from public, anon;
grant execute on function public.accept_invitation(text) to authenticated, service_role;

create or replace function public.revoke_invitation(p_invitation_id uuid)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  business_id uuid := (select i.business_id from public.invitations i where i.id = p_invitation_id);
  revoked integer;
begin
  perform private.require_owner(business_id);
  update public.invitations i set revoked_at = now()
   where i.id = p_invitation_id and i.accepted_at is null and i.revoked_at is null;
  get diagnostics revoked = row_count;
  return revoked = 1;
end
$$;
comment on function public.revoke_invitation(uuid) is 'Owners: withdraw a pending invitation (its link stops working). False when it was already accepted or revoked.';
revoke execute on function public.revoke_invitation(uuid) from public, anon;
grant execute on function public.revoke_invitation(uuid) to authenticated, service_role;

-- Members may see who is on their team (auth.users is not readable by them).
create or replace function public.team_members(p_business_id uuid)
returns table (user_id uuid, email text, role text, joined_at timestamptz, alert_phone text, alert_phone_state text,
               alert_new_leads boolean, alert_summaries boolean)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_member(p_business_id);
  return query
    select m.user_id, u.email::text, m.role, m.created_at, m.alert_phone,
           private.alert_phone_state(m) ->> 'state',
           m.alert_new_leads, m.alert_summaries
      from public.business_members m join auth.users u on u.id = m.user_id
     where m.business_id = p_business_id
     order by m.role, m.created_at;
end
$$;
comment on function public.team_members(uuid) is 'Members: the business''s team with each member''s email, role and alert phone (member_alert_phones migration: its state none, unverified or verified, and what it gets).';
revoke execute on function public.team_members(uuid) from public, anon;
grant execute on function public.team_members(uuid) to authenticated, service_role;
