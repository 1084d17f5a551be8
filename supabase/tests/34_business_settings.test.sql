-- Issue 9 item 5: the settings an owner owns. Owners change them (RLS policy + column grants), staff and
-- other businesses change nothing, anon reaches nothing; what leadloop itself manages (sending number,
-- phone confirmation, account problems) is not writable by anyone signed in; a refused value says why.
begin;
\ir _helpers.psql
select plan(20);
select pg_temp.two_businesses();
create function pg_temp.a() returns public.businesses language sql as $$
  select * from public.businesses where id = (select business_a from ids) $$;

select pg_temp.as_user((select owner_a from ids));
update public.businesses set name = 'Renamed Plumbing', timezone = 'America/Chicago', default_locale = 'es',
       opt_out_confirmation_by = 'twilio', allowed_nanp_regions = '{US,CA,PR}', daily_sms_cap = 50,
       nudge_delay_minutes = 30, idle_timeout_minutes = 120, max_questions = 2
 where id = (select business_a from ids);
select pg_temp.as_postgres();
select is((select row(name, timezone, default_locale, opt_out_confirmation_by, allowed_nanp_regions, daily_sms_cap, nudge_delay_minutes,
                      idle_timeout_minutes, max_questions)::text from pg_temp.a()),
          row('Renamed Plumbing', 'America/Chicago', 'es', 'twilio', '{US,CA,PR}'::text[], 50, 30, 120, 2)::text,
          'businesses/update: an owner changes name, zone, language, confirmation mode, countries, cap and timing');

select pg_temp.as_user((select owner_a from ids));
select throws_ok($$update public.businesses set twilio_number = '+14155550999' where id = (select business_a from ids)$$, '42501', null,
                 'businesses/update: not the sending number (twilio-numbers sets it)');
select throws_ok($$update public.businesses set owner_phone_verified_at = now() where id = (select business_a from ids)$$, '42501', null,
                 'businesses/update: not the phone confirmation (only the code does that)');
select throws_ok($$update public.businesses set sending_problem = null where id = (select business_a from ids)$$, '42501', null,
                 'businesses/update: not the account problem Twilio reported');
select throws_ok($$update public.businesses set daily_sms_cap = private.max_daily_sms_cap() + 1 where id = (select business_a from ids)$$, '23514', null,
                 'businesses/update: the daily cap only goes down from the platform''s ceiling');
select throws_ok($$update public.businesses set timezone = 'Mars/Olympus' where id = (select business_a from ids)$$, '23514', null,
                 'businesses/update: an unknown time zone is refused');
select throws_ok($$update public.businesses set default_locale = 'fr' where id = (select business_a from ids)$$, '23514', null,
                 'businesses/update: a language leadloop does not write is refused');
select throws_ok($$update public.businesses set quiet_hours_start = '20:00', quiet_hours_end = '09:00' where id = (select business_a from ids)$$, '23514', null,
                 'businesses/update: a texting window that ends before it starts is refused');
select throws_ok($$update public.businesses set allowed_nanp_regions = '{US,XX,ZZ}' where id = (select business_a from ids)$$, '23514',
                 'XX, ZZ: not a +1 country or territory leadloop texts', 'businesses/update: unknown countries are named in the refusal');
select ok((select array['US', 'CA', 'PR', 'JM'] <@ array_agg(r) from public.texting_regions() r), 'texting_regions lists the +1 countries the guard knows');

-- staff and other businesses
select pg_temp.as_user((select staff_a from ids));
update public.businesses set name = 'Staff Was Here', daily_sms_cap = 1 where id = (select business_a from ids);
select is((select name || ' ' || daily_sms_cap from public.businesses where id = (select business_a from ids)), 'Renamed Plumbing 50',
          'businesses/update: staff change nothing (RLS: owners only), though they read the settings');
select pg_temp.as_user((select owner_b from ids));
update public.businesses set name = 'Hijacked' where id = (select business_a from ids);
select is((select count(*)::int from public.businesses where id = (select business_a from ids)), 0, 'businesses/select: another business''s owner sees nothing');
select pg_temp.as_postgres();
select is((select name from pg_temp.a()), 'Renamed Plumbing', 'businesses/update: another business''s owner changes nothing');
set local role anon;
select throws_ok($$update public.businesses set name = 'anon' where id = (select business_a from ids)$$, '42501', null, 'businesses/update: anon cannot');
select throws_ok($$select public.texting_regions()$$, '42501', null, 'texting_regions: not for anon');
reset role;

-- a new owner phone: confirmed again by code, owner texts held meanwhile
select pg_temp.as_user((select owner_a from ids));
update public.businesses set owner_phone = '+14155550177' where id = (select business_a from ids);
select pg_temp.as_postgres();
select is((select owner_phone_verified_at from pg_temp.a()), null, 'a changed owner phone is unconfirmed');
select is((select count(*)::int from public.messages where business_id = (select business_a from ids) and kind = 'verification'
             and to_phone = '+14155550177' and status = 'queued'), 1, 'its code is texted to the new phone');
create temp table later as select pg_temp.submit((select widget_a from ids), pg_temp.random_phone()) as lead;
select is((select status || ' ' || status_reason || ' ' || to_phone from public.messages where lead_id = (select lead from later) and kind = 'owner_alert'),
          'deferred owner_phone_unverified +14155550177', 'a new lead''s alert waits for the new phone');
create temp table code as select substring(body from '^[0-9]{6}') as code from public.messages
  where business_id = (select business_a from ids) and to_phone = '+14155550177' and kind = 'verification';
grant select on code to authenticated;
select pg_temp.as_user((select owner_a from ids));
select ok(public.confirm_owner_phone((select business_a from ids), (select code from code)), 'the owner confirms the new phone with its code');
select pg_temp.as_postgres();
select is((select status || ' ' || to_phone from public.messages where lead_id = (select lead from later) and kind = 'owner_alert'),
          'queued +14155550177', '...and the waiting alert goes to it');

select * from finish();
rollback;
