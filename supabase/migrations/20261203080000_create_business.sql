-- Self-serve business creation (issue 9 item 2): any signed-in user creates a business and becomes its
-- owner, on the trial plan (private.start_trial reads its length and quota from public.plans), and its
-- owner phone is unconfirmed until the code texted to it is entered (owner_phone_verification.sql: the
-- businesses trigger asks private.start_owner_phone_verification for the code, which goes out as soon
-- as the business has a sending number, since the code is texted from that number).
--
-- One function writes the three rows so a business never exists without its owner or its trial, and
-- each refusal names the field and what to fix. A user may own several businesses (the dashboard has a
-- business switcher), but not an unbounded number: each one can buy numbers and send texts.

create or replace function private.max_owned_businesses()
returns integer
language sql
immutable
set search_path = ''
as $$ select 10 $$;
comment on function private.max_owned_businesses() is 'How many businesses one user may own (create_business refuses more).';
revoke execute on function private.max_owned_businesses() from public;

create or replace function public.create_business(p_name text, p_owner_phone text, p_timezone text, p_locale text default 'en')
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  clean_name text := regexp_replace(btrim(coalesce(p_name, '')), '\s+', ' ', 'g');
  phone text := btrim(coalesce(p_owner_phone, ''));
  business public.businesses;
  refusal text;
begin
  if caller is null then
    raise exception 'sign in to create a business' using errcode = '42501';
  end if;
  if length(clean_name) not between 1 and 120 then
    raise exception 'name: give the business a name of 1 to 120 characters' using errcode = '22023';
  end if;
  if not private.is_e164(phone) then
    raise exception 'owner_phone: give the owner''s mobile number with its country code, like +14155550123' using errcode = '22023';
  end if;
  if not private.is_valid_timezone(p_timezone) then
    raise exception 'timezone: "%" is not a time zone; use an IANA name like America/New_York', left(coalesce(p_timezone, ''), 64) using errcode = '22023';
  end if;
  if p_locale is null or p_locale not in ('en', 'es') then
    raise exception 'locale: the language must be en or es' using errcode = '22023';
  end if;
  -- One creation at a time per user, so parallel calls cannot pass the limit together.
  perform pg_advisory_xact_lock(hashtextextended('leadloop.create_business:' || caller::text, 0));
  if (select count(*) from public.business_members m where m.user_id = caller and m.role = 'owner') >= private.max_owned_businesses() then
    raise exception 'you already own % businesses, the most one account may own', private.max_owned_businesses() using errcode = '54000';
  end if;

  insert into public.businesses (name, owner_phone, timezone, default_locale)
  values (clean_name, phone, p_timezone, p_locale)
  returning * into business;
  -- The owner phone gets every lead's details by SMS: the pumping guard's rule for numbers applies to it too.
  refusal := private.texting_refusal(business, phone);
  if refusal is not null then
    raise exception 'owner_phone: leadloop cannot text % (%); give a US or Canadian mobile number', phone, replace(refusal, '_', ' ') using errcode = '22023';
  end if;
  insert into public.business_members (business_id, user_id, role) values (business.id, caller, 'owner');
  perform private.start_trial(business.id);
  return business.id;
end
$$;
comment on function public.create_business(text, text, text, text) is 'Signed-in users: creates a business with the caller as its owner, starts the trial (plans.trial) and asks for the owner phone''s code (texted once the business has a sending number). Errors name the field: name, owner_phone, timezone, locale (22023); 54000 past private.max_owned_businesses().';
revoke execute on function public.create_business(text, text, text, text) from public, anon;
grant execute on function public.create_business(text, text, text, text) to authenticated;
