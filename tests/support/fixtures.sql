-- The test business, defined once: a business with an active subscription and a widget, and
-- its owner as a member when one is given. The Node fixture (tests/support/fixtures.ts) runs
-- this file on its connection before each use; pgTAP can include it (\ir) from its helpers.
-- Session-local (pg_temp), so nothing is added to the schema under test, and `create or
-- replace` so running it again on a pooled connection is harmless.
--
-- Defaults: the widest texting window the law allows (08:00-21:00 in the lead's time), the owner phone
-- already confirmed, every other setting as a new business gets it, and limits (leads per hour, texts
-- per day) high enough not to get in a test's way. Leads are texted in their own local time: a test
-- that wants its lead texted now submits it with pg_temp.daytime_zone() as the zone the lead's browser
-- reported (tests of quiet hours choose theirs).

-- A US mobile number in a real area code (the widget validates numbers), random enough that
-- parallel tests never share one; none in a state with stricter texting rules (FL, OK, MD). Its
-- exchange is never N11, 555 or 976 (impossible, fictional or premium-rate numbers are not texted).
create or replace function pg_temp.fixture_phone() returns text
language sql volatile as $$
  select format('+1%s%s%s',
    (array['212', '303', '312', '415', '512', '602', '617', '713', '206', '404'])[1 + floor(random() * 10)::int],
    e + case when e % 100 = 11 or e in (555, 976) then 1 else 0 end,
    lpad(floor(random() * 10000)::int::text, 4, '0'))
  from (select 200 + floor(random() * 799)::int as e) exchange
$$;

-- A zone (a place that keeps no daylight saving time) where the local time now is nearest p_local: one
-- at each whole-hour offset from -11 to +14, so always within half an hour of it.
create or replace function pg_temp.zone_where_it_is(p_local time) returns text
language sql volatile as $$
  select z from unnest(array['Pacific/Pago_Pago', 'Pacific/Honolulu', 'Pacific/Gambier', 'Pacific/Pitcairn', 'America/Phoenix',
    'America/Regina', 'America/Bogota', 'America/Santo_Domingo', 'America/Sao_Paulo', 'Atlantic/South_Georgia',
    'Atlantic/Cape_Verde', 'Africa/Abidjan', 'Africa/Lagos', 'Africa/Johannesburg', 'Europe/Istanbul', 'Asia/Dubai',
    'Asia/Karachi', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Singapore', 'Asia/Tokyo', 'Australia/Brisbane', 'Pacific/Noumea',
    'Pacific/Tarawa', 'Pacific/Tongatapu', 'Pacific/Kiritimati']) as z
  order by least(abs(extract(epoch from (now() at time zone z)::time - p_local)),
                 86400 - abs(extract(epoch from (now() at time zone z)::time - p_local)))
  limit 1
$$;

-- Where it is early afternoon now: a lead whose browser reports it may be texted for hours yet,
-- whatever the hour of the test run.
create or replace function pg_temp.daytime_zone() returns text
language sql volatile as $$ select pg_temp.zone_where_it_is('13:00') $$;

create or replace function pg_temp.fixture_business(
  p_owner uuid default null,
  p_name text default null,
  p_timezone text default 'America/New_York',
  p_quota int default 100,
  p_origins text[] default '{https://shop.example}',
  p_max_questions int default 3,
  p_duplicate_window_minutes int default 5,
  p_leads_per_ip_per_hour int default 1000,
  p_leads_per_hour int default 1000,
  p_owner_phone_verified boolean default true,
  p_daily_sms_cap int default null
) returns table (business_id uuid, widget_id uuid, name text, owner_phone text, twilio_number text, lead_timezone text)
language plpgsql volatile as $$
#variable_conflict use_column
declare
  v_business public.businesses;
  v_widget uuid;
begin
  insert into public.businesses (name, owner_phone, twilio_number, timezone, max_questions, duplicate_window_minutes,
                                 quiet_hours_start, quiet_hours_end, owner_phone_verified_at, max_leads_per_hour, daily_sms_cap)
  values (coalesce(p_name, 'Test Co ' || left(gen_random_uuid()::text, 8)), pg_temp.fixture_phone(), pg_temp.fixture_phone(),
          p_timezone, p_max_questions, p_duplicate_window_minutes, '08:00', '21:00',
          case when p_owner_phone_verified then now() end, 100000, coalesce(p_daily_sms_cap, private.max_daily_sms_cap()))
  returning * into v_business;
  if p_owner is not null then
    insert into public.business_members (business_id, user_id, role) values (v_business.id, p_owner, 'owner');
  end if;
  insert into public.subscriptions (business_id, status, current_period_start, current_period_end, conversation_quota)
  values (v_business.id, 'active', now() - interval '1 day', now() + interval '29 days', p_quota);
  insert into public.widgets (business_id, allowed_origins, consent_text, max_leads_per_ip_per_hour, max_leads_per_hour)
  values (v_business.id, p_origins,
          format('I agree to receive text messages from %s about my request. Msg & data rates may apply. Reply STOP to opt out, HELP for help.', v_business.name),
          p_leads_per_ip_per_hour, p_leads_per_hour)
  returning id into v_widget;
  return query select v_business.id, v_widget, v_business.name, v_business.owner_phone, v_business.twilio_number, pg_temp.daytime_zone();
end
$$;
