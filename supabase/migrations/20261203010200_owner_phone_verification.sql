-- Owner phone verification (issue 12): the owner phone receives every lead's details, so a new or changed
-- one must prove it belongs to the owner before it gets anything else; otherwise a business could point
-- its alerts at someone else's phone. A 6-digit code goes to the phone by SMS (through the outbox, kind
-- 'verification'); only its salted hash is stored, it expires after 10 minutes and allows 5 tries, and new
-- codes are throttled (one a minute, five an hour per business, whatever the phone). Owner alerts and
-- summaries wait, saved, as deferred with status_reason owner_phone_unverified (the lead shows
-- owner_alert_status awaiting_verification) and go out to the confirmed phone once it is confirmed.

alter table public.businesses add column owner_phone_verified_at timestamptz;
comment on column public.businesses.owner_phone_verified_at is 'When the owner confirmed owner_phone with the code texted to it; null while unconfirmed (owner texts wait). Cleared whenever owner_phone changes.';

-- One code table for every alert phone: the owner phone (user_id null) and team members' alert phones
-- (member_alert_phones migration). A member's row goes with their membership.
create table private.phone_verifications (
  business_id uuid not null references public.businesses (id) on delete cascade,
  user_id uuid,
  phone text check (phone is null or private.is_e164(phone)),
  code_hash text check (code_hash is null or code_hash ~ '^[0-9a-f]{64}$'),
  salt text not null default encode(extensions.gen_random_bytes(16), 'hex'),
  expires_at timestamptz,
  attempts integer not null default 0 check (attempts between 0 and 100),
  last_sent_at timestamptz,
  sends_this_hour integer not null default 0 check (sends_this_hour >= 0),
  hour_started_at timestamptz,
  constraint phone_verifications_one_per_phone_owner unique nulls not distinct (business_id, user_id),
  constraint phone_verifications_member_fkey foreign key (business_id, user_id)
    references public.business_members (business_id, user_id) on delete cascade,
  constraint phone_verifications_code_complete check ((code_hash is null) = (expires_at is null) and (code_hash is null) = (phone is null))
);
comment on table private.phone_verifications is 'The live code of an alert phone (the owner phone when user_id is null, else that member''s alert phone): salted SHA-256, expiry, tries, and its send throttle. The throttle outlives codes and phone changes.';
alter table private.phone_verifications enable row level security;
revoke all on private.phone_verifications from public, anon, authenticated;

insert into private.sms_copy (key, locale, audience, asks, body, body_without_name) values
  ('owner_phone_code', 'en', 'owner', '{}', '{code} is your leadloop code to confirm this phone for {business} lead alerts. It expires in 10 minutes. Didn''t ask for it? Ignore this text.', null),
  ('owner_phone_code', 'es', 'owner', '{}', '{code} es su código de leadloop para confirmar este teléfono para los avisos de clientes de {business}. Vence en 10 minutos. ¿No lo pidió? Ignore este mensaje.', null);

-- The code machinery every alert phone shares: texts a fresh code to p_phone unless the throttle (one a
-- minute, five an hour per business and phone owner, whatever the phone) says wait.
create or replace function private.send_phone_code(p_business public.businesses, p_user_id uuid, p_phone text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  verification private.phone_verifications;
  code text := lpad((('x' || encode(extensions.gen_random_bytes(4), 'hex'))::bit(32)::bigint % 1000000)::text, 6, '0');
  resend_after timestamptz;
begin
  if p_business.twilio_number is null then
    return jsonb_build_object('sent', false, 'reason', 'no_sending_number', 'resend_after', null);
  end if;
  insert into private.phone_verifications as v (business_id, user_id) values (p_business.id, p_user_id)
  on conflict on constraint phone_verifications_one_per_phone_owner do update set business_id = v.business_id
  returning * into verification;
  if verification.hour_started_at is null or verification.hour_started_at <= now() - interval '1 hour' then
    verification.hour_started_at := now();
    verification.sends_this_hour := 0;
  end if;
  resend_after := greatest(verification.last_sent_at + interval '1 minute',
                           case when verification.sends_this_hour >= 5 then verification.hour_started_at + interval '1 hour' end);
  if resend_after > now() then
    return jsonb_build_object('sent', false, 'reason', 'throttled', 'resend_after', resend_after);
  end if;
  update private.phone_verifications v
     set phone = p_phone, code_hash = encode(extensions.digest(v.salt || code, 'sha256'), 'hex'),
         expires_at = now() + interval '10 minutes', attempts = 0, last_sent_at = now(),
         sends_this_hour = verification.sends_this_hour + 1, hour_started_at = verification.hour_started_at
   where v.business_id = p_business.id and v.user_id is not distinct from p_user_id;
  perform private.enqueue_outbound(p_business, 'verification', p_phone,
    private.render_sms('owner_phone_code', p_business.default_locale,
                       jsonb_build_object('code', code, 'business', p_business.name), '{}', p_business.id));
  return jsonb_build_object('sent', true, 'reason', null, 'resend_after', now() + interval '1 minute');
end
$$;
comment on function private.send_phone_code(public.businesses, uuid, text) is 'Texts a new 6-digit code to an alert phone (the owner phone when p_user_id is null, else that member''s): {sent, reason (no_sending_number, throttled), resend_after}. At most one a minute and five an hour per business and phone owner.';
revoke execute on function private.send_phone_code(public.businesses, uuid, text) from public;

-- Whether p_code is the live code sent to p_phone; a wrong code uses up one of its 5 tries, a right one
-- is spent. Callers lock the row that owns the phone first.
create or replace function private.check_phone_code(p_business_id uuid, p_user_id uuid, p_phone text, p_code text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  verification private.phone_verifications;
begin
  select * into verification from private.phone_verifications v
   where v.business_id = p_business_id and v.user_id is not distinct from p_user_id for update;
  if verification.code_hash is null or verification.expires_at <= now() or verification.attempts >= 5
     or verification.phone is distinct from p_phone then
    return false;
  end if;
  if encode(extensions.digest(verification.salt || btrim(coalesce(p_code, '')), 'sha256'), 'hex') <> verification.code_hash then
    update private.phone_verifications v set attempts = v.attempts + 1
     where v.business_id = p_business_id and v.user_id is not distinct from p_user_id;
    return false;
  end if;
  update private.phone_verifications v set code_hash = null, expires_at = null, phone = null
   where v.business_id = p_business_id and v.user_id is not distinct from p_user_id;
  return true;
end
$$;
comment on function private.check_phone_code(uuid, uuid, text, text) is 'True (and the code spent) when p_code is the live, unexpired code texted to p_phone for this alert phone; a wrong code counts one of its 5 tries. False for wrong, expired, used-up codes or a code sent to another phone.';
revoke execute on function private.check_phone_code(uuid, uuid, text, text) from public;

-- The owner phone's "send code": whoever creates a business or changes its phone calls it (the businesses
-- trigger below does); it needs a sending number, so a business without one gets its code when the number is set.
create or replace function private.start_owner_phone_verification(p_business_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  business public.businesses;
begin
  select * into business from public.businesses b where b.id = p_business_id;
  if business.id is null then
    raise exception 'business % not found', p_business_id using errcode = 'P0002';
  end if;
  if business.owner_phone_verified_at is not null then
    return jsonb_build_object('sent', false, 'reason', 'already_verified', 'resend_after', null);
  end if;
  return private.send_phone_code(business, null, business.owner_phone);
end
$$;
comment on function private.start_owner_phone_verification(uuid) is 'Texts a new 6-digit code to the business''s unconfirmed owner phone (private.send_phone_code): {sent, reason (already_verified, no_sending_number, throttled), resend_after}.';
revoke execute on function private.start_owner_phone_verification(uuid) from public;

-- Owner texts waiting for the phone go out to it now (the daily cap counts them as they are released).
create or replace function private.release_owner_texts(p_business public.businesses)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  released integer;
begin
  with held as (
    update public.messages m
       set status = 'queued', status_reason = null, to_phone = p_business.owner_phone, send_after = now(), next_attempt_at = now()
     where m.business_id = p_business.id and m.status = 'deferred' and m.status_reason = 'owner_phone_unverified'
    returning m.lead_id
  )
  update public.leads l set owner_alert_status = 'queued'
    from held where l.id = held.lead_id and l.owner_alert_status = 'awaiting_verification';
  get diagnostics released = row_count;
  return released;
end
$$;
comment on function private.release_owner_texts(public.businesses) is 'Sends the owner texts held for verification to the confirmed owner phone (queued now); their leads show the alert queued again.';
revoke execute on function private.release_owner_texts(public.businesses) from public;

-- Holds an owner text until the owner phone is confirmed (called by private.guard_outbound and when the
-- phone changes).
create or replace function private.hold_owner_texts(p_business_id uuid, p_message_id uuid default null)
returns void
language sql
security definer
set search_path = ''
as $$
  with held as (
    update public.messages m
       set status = 'deferred', status_reason = 'owner_phone_unverified', send_after = 'infinity', next_attempt_at = 'infinity'
     where m.business_id = p_business_id and private.is_owner_text(m.kind) and m.status in ('queued', 'deferred')
       and (p_message_id is null or m.id = p_message_id)
    returning m.lead_id, m.kind
  )
  update public.leads l set owner_alert_status = 'awaiting_verification'
    from held where held.kind = 'owner_alert' and l.id = held.lead_id and l.owner_alert_status = 'queued'
$$;
comment on function private.hold_owner_texts(uuid, uuid) is 'Holds the business''s unsent owner texts (or one of them) until its owner phone is confirmed: deferred without end, status_reason owner_phone_unverified.';
revoke execute on function private.hold_owner_texts(uuid, uuid) from public;

-- A new or changed owner phone is unconfirmed, unless a trusted writer (the seed, the service role) sets
-- owner_phone_verified_at in the same statement; owners cannot write that column.
create or replace function private.businesses_owner_phone_unverified()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.owner_phone is distinct from old.owner_phone
     and new.owner_phone_verified_at is not distinct from old.owner_phone_verified_at then
    new.owner_phone_verified_at := null;
  end if;
  return new;
end
$$;
comment on function private.businesses_owner_phone_unverified() is 'BEFORE UPDATE on businesses: a changed owner_phone is unconfirmed again.';
revoke execute on function private.businesses_owner_phone_unverified() from public;

create trigger businesses_owner_phone_unverified before update of owner_phone on public.businesses
  for each row execute function private.businesses_owner_phone_unverified();

create or replace function private.businesses_start_owner_phone_verification()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.owner_phone_verified_at is not null then
    return null;
  end if;
  if tg_op = 'UPDATE' and new.owner_phone is distinct from old.owner_phone then
    -- A code sent to the old phone no longer confirms anything (confirm_owner_phone compares phones).
    perform private.hold_owner_texts(new.id);
  end if;
  if tg_op = 'INSERT' or new.owner_phone is distinct from old.owner_phone
     or (old.twilio_number is null and new.twilio_number is not null) then
    perform private.start_owner_phone_verification(new.id);
  end if;
  return null;
end
$$;
comment on function private.businesses_start_owner_phone_verification() is 'AFTER INSERT or UPDATE on businesses: an unconfirmed owner phone gets its code (new business, new phone, or a sending number at last); a changed phone holds the owner texts not yet sent.';
revoke execute on function private.businesses_start_owner_phone_verification() from public;

create trigger businesses_start_owner_phone_verification after insert or update of owner_phone, twilio_number on public.businesses
  for each row execute function private.businesses_start_owner_phone_verification();

create or replace function private.require_owner(p_business_id uuid)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_business_id is null or p_business_id not in (select private.owned_business_ids()) then
    raise exception 'only an owner of this business can do this' using errcode = '42501';
  end if;
end
$$;
comment on function private.require_owner(uuid) is 'Raises 42501 unless the calling user owns the business (RPC guard).';
revoke execute on function private.require_owner(uuid) from public;

create or replace function public.confirm_owner_phone(p_business_id uuid, p_code text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  business public.businesses;
begin
  perform private.require_owner(p_business_id);
  select * into business from public.businesses b where b.id = p_business_id for update;
  if business.owner_phone_verified_at is not null then
    return true;
  end if;
  if not private.check_phone_code(p_business_id, null, business.owner_phone, p_code) then
    return false;
  end if;
  update public.businesses b set owner_phone_verified_at = now() where b.id = p_business_id
  returning * into business;
  perform private.release_owner_texts(business);
  return true;
end
$$;
comment on function public.confirm_owner_phone(uuid, text) is 'Owners: confirm the owner phone with the 6-digit code texted to it. True when confirmed (held owner texts go out now); false for a wrong, expired or used-up code (5 tries per code).';
revoke execute on function public.confirm_owner_phone(uuid, text) from public, anon;
grant execute on function public.confirm_owner_phone(uuid, text) to authenticated, service_role;

create or replace function public.resend_owner_phone_code(p_business_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_owner(p_business_id);
  return private.start_owner_phone_verification(p_business_id);
end
$$;
comment on function public.resend_owner_phone_code(uuid) is 'Owners: text a new code to the unconfirmed owner phone. {sent, reason (already_verified, no_sending_number, throttled), resend_after}.';
revoke execute on function public.resend_owner_phone_code(uuid) from public, anon;
grant execute on function public.resend_owner_phone_code(uuid) to authenticated, service_role;
