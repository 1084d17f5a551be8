-- Sending numbers: the Twilio number a business texts from and receives on, and its Twilio SID
-- (IncomingPhoneNumber PN...), set by the twilio-numbers edge function when an owner buys or connects
-- a number. An owner reads the number through business_sending_number with their own JWT (RLS and
-- private.owned_business_ids decide); only the service role, after that check and after Twilio
-- confirmed the number, writes it with set_business_sending_number.

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

-- Stores a number Twilio has confirmed is the account's. One business per number: a number (or its
-- SID) held by another business is refused with 23505 and nothing changes. The previous number is
-- returned so the caller can say what was replaced; it stays in the Twilio account (see
-- functions/README.md: texts still queued from it go out, and it can be connected again).
create or replace function public.set_business_sending_number(p_business_id uuid, p_phone_number text, p_sid text)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  business public.businesses;
  holder uuid;
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
  select b.id into holder from public.businesses b
   where b.id <> p_business_id and (b.twilio_number = p_phone_number or b.twilio_number_sid = p_sid)
   limit 1;
  if holder is not null then
    raise exception 'the number % is already used by another business', p_phone_number using errcode = '23505';
  end if;
  update public.businesses set twilio_number = p_phone_number, twilio_number_sid = p_sid where id = p_business_id;
  return jsonb_build_object(
    'business_id', business.id,
    'twilio_number', p_phone_number,
    'twilio_number_sid', p_sid,
    'previous_number', case when business.twilio_number is distinct from p_phone_number then business.twilio_number end,
    'previous_sid', case when business.twilio_number is distinct from p_phone_number then business.twilio_number_sid end);
end
$$;
comment on function public.set_business_sending_number(uuid, text, text) is 'Service role only (twilio-numbers, after the owner check and Twilio''s confirmation): makes the number the business''s sending number; 23505 when another business holds it; returns the number it replaced.';
revoke execute on function public.set_business_sending_number(uuid, text, text) from public, anon, authenticated;
grant execute on function public.set_business_sending_number(uuid, text, text) to service_role;
