-- Issue 12: the client address is the one the platform sets, junk is the bucket 'unknown', and the hourly
-- limits per address, widget and business are counted rows (parallel submissions: tests/abuse).
begin;
\ir _helpers.psql
select plan(29);

-- private.client_address: the platform's headers only
select is(private.client_address('{"cf-connecting-ip": "192.0.2.99", "x-real-ip": "10.0.0.1", "x-forwarded-for": "6.6.6.6"}'), '192.0.2.99',
          'CF-Connecting-IP wins');
select is(private.client_address('{"x-real-ip": "198.51.100.4", "x-forwarded-for": "6.6.6.6"}'), '198.51.100.4', 'else X-Real-IP');
select is(private.client_address('{"x-forwarded-for": "6.6.6.6, 198.51.100.4"}'), 'unknown', 'X-Forwarded-For alone is never believed');
select is(private.client_address('{"cf-connecting-ip": "junk"}'), 'unknown', 'an unparseable address is unknown');
select is(private.client_address('{"cf-connecting-ip": "192.0.2.1, 192.0.2.2"}'), 'unknown', 'a list is not an address');
select is(private.client_address('{"cf-connecting-ip": "10.0.0.0/8"}'), 'unknown', 'a network is not an address');
select is(private.client_address('{"cf-connecting-ip": ""}'), 'unknown', 'an empty header is unknown');
select is(private.client_address('{}'), 'unknown', 'no header is unknown');
select is(private.client_address('{"cf-connecting-ip": "2001:DB8:0:0:1::7"}'), '2001:db8::1:0:0:7', 'IPv6 is written one way');
select is(private.client_address('{"cf-connecting-ip": "::ffff:192.0.2.8"}'), '192.0.2.8', 'IPv4 written as IPv6 is the IPv4 address');
select is(private.address_bucket('2001:db8:1:2:aaaa::1'), private.address_bucket('2001:db8:1:2:bbbb::9'), 'one IPv6 /64 is one bucket');
select isnt(private.address_bucket('2001:db8:1:3::1'), private.address_bucket('2001:db8:1:2::1'), 'another /64 is another bucket');

create temp table t as select * from pg_temp.fixture_business();
grant select on t to anon;
create function pg_temp.anon_lead(p_headers jsonb, p_widget uuid default null) returns text
language plpgsql as $$
begin
  perform set_config('request.headers', (jsonb_build_object('origin', 'https://shop.example') || p_headers)::text, true);
  perform set_config('role', 'anon', true);
  insert into public.leads (widget_id, name, phone) values (coalesce(p_widget, (select widget_id from t)), 'Al', pg_temp.random_phone());
  perform set_config('role', 'postgres', true);
  return 'accepted';
exception when sqlstate 'PT429' then
  perform set_config('role', 'postgres', true);
  return 'limited: ' || sqlerrm;
end
$$;

update public.widgets set max_leads_per_ip_per_hour = 2 where id = (select widget_id from t);
select is(pg_temp.anon_lead('{"cf-connecting-ip": "203.0.113.50"}'), 'accepted', 'first lead from an address');
select is(pg_temp.anon_lead('{"cf-connecting-ip": "203.0.113.50"}'), 'accepted', 'second lead from the address');
select is(pg_temp.anon_lead('{"cf-connecting-ip": "203.0.113.50"}'),
          'limited: Too many requests from your network. Please wait a little while and try again, or call us.',
          'the third from one address within the hour answers 429');
select is(pg_temp.anon_lead('{"cf-connecting-ip": "203.0.113.51"}'), 'accepted', 'another address is not affected');
select is((select hits from private.rate_counters where bucket = 'address:' || (select widget_id from t) || ':203.0.113.50'), 2,
          'a refused submission is not counted');
select is(pg_temp.anon_lead('{"cf-connecting-ip": "junk"}'), 'accepted', 'junk address: first');
select is(pg_temp.anon_lead('{"x-forwarded-for": "198.51.100.7"}'), 'accepted', 'no platform address: second in the same bucket');
select is(pg_temp.anon_lead('{"cf-connecting-ip": "not-an-ip"}'),
          'limited: Too many requests from your network. Please wait a little while and try again, or call us.',
          'unknown addresses share one bucket, limited like any address: never a bypass');
select is((select count(*)::int from public.leads where business_id = (select business_id from t) and ip is null), 2,
          'the consent evidence records the unknown address as null');
select is(pg_temp.anon_lead('{"cf-connecting-ip": "2001:db8:7:7::1"}') || pg_temp.anon_lead('{"cf-connecting-ip": "2001:db8:7:7::2"}')
          || pg_temp.anon_lead('{"cf-connecting-ip": "2001:db8:7:7:ffff::3"}'),
          'acceptedacceptedlimited: Too many requests from your network. Please wait a little while and try again, or call us.',
          'rotating addresses inside one IPv6 /64 does not get around the limit');

-- a new hour starts a new count
update private.rate_counters set window_start = window_start - interval '1 hour'
 where bucket like 'address:' || (select widget_id from t) || ':%';
select is(pg_temp.anon_lead('{"cf-connecting-ip": "203.0.113.50"}'), 'accepted', 'the next hour the address may submit again');

-- per widget and per business (a second widget of the same business shares the business limit)
update public.widgets set max_leads_per_ip_per_hour = 1000,
       max_leads_per_hour = (select hits + 1 from private.rate_counters where bucket = 'widget:' || (select widget_id from t) and window_start = date_trunc('hour', now()))
 where id = (select widget_id from t);
select is(pg_temp.anon_lead('{"cf-connecting-ip": "203.0.113.60"}'), 'accepted', 'the widget''s last lead of the hour');
select is(pg_temp.anon_lead('{"cf-connecting-ip": "203.0.113.61"}'),
          'limited: This form is receiving too many requests right now. Please try again in a few minutes, or call us.',
          'a widget over its hourly limit answers 429');
create temp table w2 as
with made as (
  insert into public.widgets (business_id, allowed_origins, consent_text)
  select t.business_id, '{https://shop.example}',
         format('I agree to receive texts from %s about my request. Msg & data rates may apply. Reply STOP to opt out, HELP for help.', b.name)
    from t join public.businesses b on b.id = t.business_id
  returning id)
select id from made;
update public.businesses set max_leads_per_hour =
  (select hits + 1 from private.rate_counters where bucket = 'business:' || (select business_id from t) and window_start = date_trunc('hour', now()))
 where id = (select business_id from t);
select is(pg_temp.anon_lead('{"cf-connecting-ip": "203.0.113.70"}', (select id from w2)),
          'accepted', 'the business''s last lead of the hour, through its other widget');
select is(pg_temp.anon_lead('{"cf-connecting-ip": "203.0.113.71"}', (select id from w2)),
          'limited: This form is receiving too many requests right now. Please try again in a few minutes, or call us.',
          'a business over its hourly limit answers 429 on every widget');

-- the sweep forgets old windows
update private.rate_counters set window_start = now() - interval '2 days' where bucket = 'widget:' || (select widget_id from t);
select cmp_ok(private.purge_limit_counters(), '>=', 1, 'the sweep purges counters older than a day...');
select ok(not exists (select 1 from private.rate_counters where bucket = 'widget:' || (select widget_id from t)), '...such as that one');

select * from finish();
rollback;
