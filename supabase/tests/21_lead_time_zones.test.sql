-- Quiet hours in the lead's own time: where the lead is (the browser's zone, a ZIP in the form, the area
-- code, else the business), the window (the owner's, inside 08:00-21:00, narrowed by FL/OK/MD), DST both
-- ways, Hawaii and Arizona, zones an area code spans, the state's 3-per-24h limit, and the check again at
-- claim time.
begin;
\ir _helpers.psql
select plan(39);

create temp table b as select pg_temp.new_business() as id;
create function pg_temp.biz() returns public.businesses
language sql as $$ select bz from public.businesses bz where bz.id = (select id from b) $$;
-- A lead record for the window functions: zones and state as intake would store them.
create function pg_temp.lead_in(p_zones text[], p_region text default null, p_phone text default '+15550001234') returns public.leads
language sql as $$ select jsonb_populate_record(null::public.leads, jsonb_build_object('timezones', p_zones, 'region', p_region, 'phone', p_phone)) $$;
create function pg_temp.next_at(p_zones text[], p_at timestamptz, p_region text default null) returns timestamptz
language sql as $$ select n.send_at from private.next_lead_send_time(pg_temp.biz(), pg_temp.lead_in(p_zones, p_region), p_at) n $$;

-- the tables
select is((select country || ' ' || region || ' ' || timezones::text from private.area_code_time_zones where area_code = '512'), 'US TX {America/Chicago}',
          'area code 512: Texas, Central');
select is((select timezones from private.area_code_time_zones where area_code = '850'), '{America/Chicago,America/New_York}',
          'area code 850 spans the Florida panhandle''s two zones');
select is((select timezones from private.area_code_time_zones where area_code = '808'), '{Pacific/Honolulu}', 'area code 808: Hawaii');
select is((select country || ' ' || region from private.area_code_time_zones where area_code = '416'), 'CA ON', 'area code 416: Ontario, Canada');
select is((select count(*)::int from (select unnest(timezones) as zone from private.area_code_time_zones) z where not private.is_place_timezone(zone)), 0,
          'every zone in the area code table is a valid IANA place');
select is((select count(*)::int from (select unnest(timezones) as zone from private.zip3_time_zones) z where not private.is_place_timezone(zone)), 0,
          'every zone in the ZIP table is a valid IANA place');
select is((select count(*)::int from private.zip3_time_zones a join private.zip3_time_zones o
             on a.zip3_from < o.zip3_from and a.zip3_to >= o.zip3_from), 0, 'ZIP prefix ranges do not overlap');
select ok((select count(*) from private.area_code_time_zones) > 350, 'the US and Canadian geographic area codes are there');

-- where the lead is: first known of device, ZIP, area code, business
select is((select timezones || array[timezone_source, region] from private.lead_locality('+15125550100', null, null, 'America/New_York')),
          '{America/Chicago,area_code,TX}', 'the area code decides when nothing better is known');
select is((select timezones || array[timezone_source, region] from private.lead_locality('+12125550100', '96813', null, 'America/New_York')),
          '{Pacific/Honolulu,zip,HI}', 'a ZIP in the form beats the area code');
select is((select timezones || array[timezone_source] from private.lead_locality('+12125550100', '96813', 'America/Denver', 'America/New_York')),
          '{America/Denver,device}', 'the zone the lead''s own browser reported beats both');
select is((select timezones || array[timezone_source] from private.lead_locality('+12125550100', null, 'UTC', 'America/New_York')),
          '{America/New_York,area_code}', 'a browser that reports UTC says nothing about where the lead is');
select is((select timezones || array[timezone_source] from private.lead_locality('+447700900123', null, null, 'America/Los_Angeles')),
          '{America/Los_Angeles,business}', 'nothing known: the business''s zone');
select is((select region from private.lead_locality('+13055550100', '78704', 'America/Chicago', 'America/New_York')), 'FL',
          'a Florida area code with a Texas ZIP: Florida''s stricter rules apply');
select is(private.form_zip('Leak under the sink, 4512 Oak Hollow Dr, Austin TX 78745'), '78745', 'the ZIP is read from the form message');
select is(private.form_zip('12000 BTU unit, budget $15000'), null, '...never a BTU rating or a price');

-- the owner's window: narrower is fine, wider is not
select throws_ok($$update public.businesses set quiet_hours_start = '07:00' where id = (select id from b)$$, '23514',
                 'Texts to leads may start at 08:00 at the earliest (the federal rule): choose 08:00 or later.', 'a start before 08:00 is refused, clearly');
select throws_ok($$update public.businesses set quiet_hours_end = '21:30' where id = (select id from b)$$, '23514',
                 'Texts to leads must end by 21:00 at the latest (the federal rule): choose 21:00 or earlier.', 'an end after 21:00 is refused, clearly');
select throws_ok($$update public.businesses set quiet_hours_start = '09:00', quiet_hours_end = '09:30' where id = (select id from b)$$, '23514',
                 'Texting must end at least an hour after it starts (same day).', 'a window under an hour is refused');
select lives_ok($$update public.businesses set quiet_hours_start = '08:00', quiet_hours_end = '21:00' where id = (select id from b)$$,
                'the federal window itself is allowed');

-- DST both ways (New York), with the widest window 08:00-21:00
select is(pg_temp.next_at('{America/New_York}', '2026-03-08 02:30:00+00'), '2026-03-08 12:00:00+00'::timestamptz,
          'spring forward: 21:30 EST Saturday waits for 08:00 EDT Sunday (12:00 UTC)');
select is(pg_temp.next_at('{America/New_York}', '2026-11-01 01:30:00+00'), '2026-11-01 13:00:00+00'::timestamptz,
          'fall back: 21:30 EDT Saturday waits for 08:00 EST Sunday (13:00 UTC)');
select is(pg_temp.next_at('{America/New_York}', '2026-11-01 12:59:00+00'), '2026-11-01 13:00:00+00'::timestamptz,
          'fall back: 07:59 EST is still too early');
select is(pg_temp.next_at('{America/New_York}', '2026-06-02 00:59:00+00'), '2026-06-02 00:59:00+00'::timestamptz, '20:59 EDT is inside the window');
select is(pg_temp.next_at('{America/New_York}', '2026-06-02 01:00:00+00'), '2026-06-02 12:00:00+00'::timestamptz, '21:00 EDT is not (the end is exclusive)');
-- Hawaii and Arizona keep no DST
select is(pg_temp.next_at('{Pacific/Honolulu}', '2026-06-01 17:00:00+00'), '2026-06-01 18:00:00+00'::timestamptz,
          'Hawaii: 07:00 HST waits for 08:00 HST (18:00 UTC)');
select is(pg_temp.next_at('{America/Phoenix}', '2026-07-01 14:30:00+00'), '2026-07-01 15:00:00+00'::timestamptz,
          'Arizona in July: 07:30 MST waits for 08:00 MST (15:00 UTC), an hour after Denver''s 08:00 MDT');
select is(pg_temp.next_at('{America/Denver}', '2026-07-01 14:30:00+00'), '2026-07-01 14:30:00+00'::timestamptz,
          '...while Denver (08:30 MDT) may be texted already');
select is(pg_temp.next_at('{America/Phoenix,America/Denver}', '2026-07-02 03:30:00+00'), '2026-07-02 15:00:00+00'::timestamptz,
          'area code 928 (Arizona and the Navajo Nation): 20:30 MST is already 21:30 MDT, so the next common morning');
select is(pg_temp.next_at('{America/Chicago,America/New_York}', '2026-06-01 12:30:00+00'), '2026-06-01 13:00:00+00'::timestamptz,
          'area code 850: 08:30 EDT is 07:30 CDT, so it waits for 08:00 CDT');

-- the owner narrows it; a state narrows it further
update public.businesses set quiet_hours_start = '10:00', quiet_hours_end = '18:00' where id = (select id from b);
select is(pg_temp.next_at('{America/Chicago}', '2026-06-01 14:30:00+00'), '2026-06-01 15:00:00+00'::timestamptz,
          'an owner''s 10:00 start holds (09:30 CDT waits for 10:00)');
update public.businesses set quiet_hours_start = '08:00', quiet_hours_end = '21:00' where id = (select id from b);
select is(pg_temp.next_at('{America/New_York}', '2026-06-02 00:30:00+00', 'FL'), '2026-06-02 12:00:00+00'::timestamptz,
          'Florida: 20:30 EDT is after the state''s 20:00 end');
select is(pg_temp.next_at('{America/Chicago}', '2026-06-02 01:30:00+00', 'TX'), '2026-06-02 01:30:00+00'::timestamptz,
          'Texas: 20:30 CDT is inside the federal window');
select is((select reason from private.next_lead_send_time(pg_temp.biz(), pg_temp.lead_in('{America/New_York}', 'FL'), '2026-06-02 00:30:00+00')), 'quiet_hours',
          'and says why it waits');

-- Florida, Oklahoma, Maryland: at most 3 texts to the lead per 24 hours
create temp table fl as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+13053450123') as lead;
select is((select region from public.leads where id = (select lead from fl)), 'FL', 'a 305 lead is in Florida');
insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status, sent_at)
select (select id from b), (select lead from fl), (select id from public.conversations where lead_id = (select lead from fl)), 'outbound', 'question', '+13053450123',
       (select twilio_number from public.businesses where id = (select id from b)),
       'q' || n, 'delivered', now() - interval '1 hour' * n
  from generate_series(1, 3) n;
select is((select n.send_at || ' ' || n.reason from private.next_lead_send_time(pg_temp.biz(), (select l from public.leads l where id = (select lead from fl)), now()) n
             where n.send_at = now() + interval '21 hours'),
          (now() + interval '21 hours') || ' state_limit', 'a fourth text waits until the oldest of the three is 24 hours old');

-- checked again when claimed: a text due now for a lead where it is now night goes back to deferred
create temp table day_lead as select pg_temp.submit(pg_temp.widget_of((select id from b)), '+14153461001') as lead;
update public.leads set timezones = array[pg_temp.zone_where_it_is('02:00')], timezone_source = 'device' where id = (select lead from day_lead);
select count(*) from public.claim_outbound_messages(500, 60) where business_id = (select id from b);
select is((select status || ' ' || status_reason from public.messages where lead_id = (select lead from day_lead) and kind = 'text_back'), 'deferred quiet_hours',
          'a text-back queued in the day but claimed at the lead''s night is deferred again, with its reason');
select ok((select send_after > now() and send_after = next_attempt_at from public.messages where lead_id = (select lead from day_lead) and kind = 'text_back'),
          '...to the lead''s next morning');
select is((select status from public.messages where lead_id = (select lead from day_lead) and kind = 'owner_alert'), 'sending',
          'the owner''s alert about that lead is not held');

select * from finish();
rollback;
