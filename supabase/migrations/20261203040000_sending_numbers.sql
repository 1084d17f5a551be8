-- Sending numbers: the Twilio number a business texts from and receives on, and its Twilio SID
-- (IncomingPhoneNumber PN...), set by the twilio-numbers edge function when an owner buys or connects
-- a number. An owner reads the number through business_sending_number with their own JWT (RLS and
-- private.owned_business_ids decide); only the service role, after that check and after Twilio
-- confirmed the number, writes it with set_business_sending_number.
--
-- leadloop texts for every business from one Twilio account, so a number must never pass from one
-- business to another: leads who texted it would reach a stranger. A replaced number therefore stays
-- in the account and stays the business's (previous_sending_numbers): texts still queued from it go
-- out, the owner can connect it again, and nobody else can connect it.

alter table public.businesses
  add column twilio_number_sid text unique check (twilio_number_sid ~ '^PN[0-9a-f]{32}$'),
  add constraint businesses_number_sid_needs_number check (twilio_number_sid is null or twilio_number is not null);
comment on column public.businesses.twilio_number_sid is 'Twilio IncomingPhoneNumber SID (PN...) of twilio_number, when leadloop bought or connected it; the key to update or release it at Twilio.';

-- What an owner needs before buying or connecting a number: zero rows for anyone who does not own
-- the business (staff, other owners, a business that does not exist), so the caller cannot tell
-- those apart. Security invoker: the businesses policies apply to the caller as well.
create or replace function public.business_sending_number(p_business_id uuid)
returns table (business_id uuid, name text, twilio_number text, twilio_number_sid text)
language sql
stable
set search_path = ''
as $$
  select b.id, b.name, b.twilio_number, b.twilio_number_sid
    from public.businesses b
   where b.id = p_business_id and b.id in (select private.owned_business_ids())
$$;
comment on function public.business_sending_number(uuid) is 'The sending number of a business the caller owns (no row otherwise): the ownership check of the twilio-numbers function, run with the owner''s JWT.';
revoke execute on function public.business_sending_number(uuid) from public, anon;
grant execute on function public.business_sending_number(uuid) to authenticated, service_role;

create table public.previous_sending_numbers (
  phone_number text primary key check (private.is_e164(phone_number)),
  business_id uuid not null references public.businesses (id) on delete cascade,
  twilio_number_sid text unique check (twilio_number_sid ~ '^PN[0-9a-f]{32}$'),
  replaced_at timestamptz not null default now()
);
comment on table public.previous_sending_numbers is 'Numbers a business sent from before its current one. They stay in the Twilio account and belong to that business: no other business may connect them.';
create index previous_sending_numbers_business_id_idx on public.previous_sending_numbers (business_id);

alter table public.previous_sending_numbers enable row level security;
revoke all on public.previous_sending_numbers from anon, authenticated;
grant select on public.previous_sending_numbers to authenticated;
grant all on public.previous_sending_numbers to service_role;

create policy "members can read their business previous numbers" on public.previous_sending_numbers
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

-- The one rule for "is this number someone else's": another business sends from it now, or did before.
create or replace function public.sending_number_taken(p_business_id uuid, p_phone_number text, p_sid text default null)
returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (select 1 from public.businesses b
                  where b.id <> p_business_id and (b.twilio_number = p_phone_number or b.twilio_number_sid = p_sid))
      or exists (select 1 from public.previous_sending_numbers p
                  where p.business_id <> p_business_id and (p.phone_number = p_phone_number or p.twilio_number_sid = p_sid))
$$;
comment on function public.sending_number_taken(uuid, text, text) is 'Service role only: true when another business sends, or sent, from this number (or SID). twilio-numbers asks before it buys or configures a number; set_business_sending_number enforces it.';
revoke execute on function public.sending_number_taken(uuid, text, text) from public, anon, authenticated;
grant execute on function public.sending_number_taken(uuid, text, text) to service_role;

-- The same rule for a list: the Twilio account's numbers (each paired by position with its SID) that are
-- another business's, so twilio-numbers can offer an owner the rest without asking once per number.
create or replace function public.sending_numbers_taken(p_business_id uuid, p_phone_numbers text[], p_sids text[])
returns setof text
language sql
stable
set search_path = ''
as $$
  select n.phone_number
    from unnest(p_phone_numbers, p_sids) as n(phone_number, sid)
   where public.sending_number_taken(p_business_id, n.phone_number, n.sid)
$$;
comment on function public.sending_numbers_taken(uuid, text[], text[]) is 'Service role only: of these numbers (p_sids[i] is the SID of p_phone_numbers[i]), the ones another business sends or sent from, by sending_number_taken. twilio-numbers lists the account''s other numbers to an owner.';
revoke execute on function public.sending_numbers_taken(uuid, text[], text[]) from public, anon, authenticated;
grant execute on function public.sending_numbers_taken(uuid, text[], text[]) to service_role;

-- Stores a number Twilio has confirmed is the account's. A number (or SID) that is another business's
-- is refused with 23505 and nothing changes. The number it replaces moves to previous_sending_numbers
-- and is returned, so the caller can say what was replaced.
create or replace function public.set_business_sending_number(p_business_id uuid, p_phone_number text, p_sid text)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  business public.businesses;
  replaced boolean;
begin
  if p_phone_number is null or not private.is_e164(p_phone_number) then
    raise exception 'p_phone_number must be an E.164 number' using errcode = '22023';
  end if;
  if p_sid is null or p_sid !~ '^PN[0-9a-f]{32}$' then
    raise exception 'p_sid must be a Twilio IncomingPhoneNumber SID (PN...)' using errcode = '22023';
  end if;
  select * into business from public.businesses b where b.id = p_business_id for update;
  if business.id is null then
    raise exception 'no business %', p_business_id using errcode = 'P0002';
  end if;
  if public.sending_number_taken(p_business_id, p_phone_number, p_sid) then
    raise exception 'the number % belongs to another business', p_phone_number using errcode = '23505';
  end if;
  replaced := business.twilio_number is not null and business.twilio_number <> p_phone_number;
  if replaced then
    insert into public.previous_sending_numbers (phone_number, business_id, twilio_number_sid)
    values (business.twilio_number, business.id, business.twilio_number_sid)
    on conflict (phone_number) do update
      set twilio_number_sid = coalesce(excluded.twilio_number_sid, previous_sending_numbers.twilio_number_sid), replaced_at = now();
  end if;
  -- A previous number connected again is current, not previous.
  delete from public.previous_sending_numbers p where p.business_id = p_business_id and p.phone_number = p_phone_number;
  update public.businesses set twilio_number = p_phone_number, twilio_number_sid = p_sid where id = p_business_id;
  return jsonb_build_object(
    'business_id', business.id,
    'twilio_number', p_phone_number,
    'twilio_number_sid', p_sid,
    'previous_number', case when replaced then business.twilio_number end,
    'previous_sid', case when replaced then business.twilio_number_sid end);
end
$$;
comment on function public.set_business_sending_number(uuid, text, text) is 'Service role only (twilio-numbers, after the owner check and Twilio''s confirmation): makes the number the business''s sending number and keeps the one it replaces as a previous number; 23505 when the number is another business''s.';
revoke execute on function public.set_business_sending_number(uuid, text, text) from public, anon, authenticated;
grant execute on function public.set_business_sending_number(uuid, text, text) to service_role;
