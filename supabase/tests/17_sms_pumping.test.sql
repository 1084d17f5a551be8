-- Issue 12, SMS pumping: which numbers leadloop texts (US and Canada by default, never premium-rate,
-- toll-free, personal, impossible or fictional ones), a phone is texted once a day per business, every
-- refusal is recorded, and the owner is still alerted unless the number is junk.
begin;
\ir _helpers.psql
select plan(36);

create temp table b as select pg_temp.new_business() as id;
create function pg_temp.refusal(p_phone text) returns text
language sql as $$ select coalesce(private.texting_refusal((select b from public.businesses b where b.id = (select id from b)), p_phone), 'texted') $$;

select is(pg_temp.refusal(phone), expected, format('%s (%s): %s', phone, what, expected))
  from (values
    ('+12124560123', 'New York', 'texted'),
    ('+15124560199', 'Austin', 'texted'),
    ('+14164560123', 'Toronto, Canada', 'texted'),
    ('+16044560123', 'Vancouver, Canada', 'texted'),
    ('+18764560123', 'Jamaica', 'country_not_allowed'),
    ('+16584560123', 'Jamaica overlay', 'country_not_allowed'),
    ('+18094560123', 'Dominican Republic', 'country_not_allowed'),
    ('+12424560123', 'Bahamas', 'country_not_allowed'),
    ('+14414560123', 'Bermuda', 'country_not_allowed'),
    ('+17874560123', 'Puerto Rico', 'country_not_allowed'),
    ('+16714560123', 'Guam', 'country_not_allowed'),
    ('+19004560123', 'premium-rate 900', 'premium_rate'),
    ('+12129765555', 'premium exchange 976', 'premium_rate'),
    ('+18004560123', 'toll-free 800', 'non_geographic'),
    ('+18884560123', 'toll-free 888', 'non_geographic'),
    ('+15004560123', 'personal 500', 'non_geographic'),
    ('+15334560123', 'personal 533', 'non_geographic'),
    ('+17104560123', 'US government 710', 'non_geographic'),
    ('+16004560123', 'Canadian non-geographic 600', 'non_geographic'),
    ('+12125550142', 'fictional 555-01XX', 'fictional_number'),
    ('+12125551234', '555 outside 01XX', 'texted'),
    ('+14114560123', 'N11 area code', 'invalid_phone'),
    ('+12124115555', 'N11 exchange', 'invalid_phone'),
    ('+11124560123', 'area code starting with 1', 'invalid_phone'),
    ('+12120550123', 'exchange starting with 0', 'invalid_phone'),
    ('+1212555012', 'ten digits short', 'invalid_phone'),
    ('+447700900123', 'UK, +44 not allowed', 'country_not_allowed')) as cases(phone, what, expected);

update public.businesses set allowed_nanp_regions = '{US,CA,JM,PR}' where id = (select id from b);
select is(pg_temp.refusal('+18764560123') || ' ' || pg_temp.refusal('+17874560123'), 'texted texted',
          'a business that serves Jamaica and Puerto Rico may text them');
update public.businesses set allowed_nanp_regions = '{US}' where id = (select id from b);
select is(pg_temp.refusal('+14164560123'), 'country_not_allowed', 'a US-only business does not text Canada');

-- at intake: the reason is recorded; junk numbers do not wake the owner, foreign ones do
update public.businesses set allowed_nanp_regions = '{US,CA}', duplicate_window_minutes = 0 where id = (select id from b);
create temp table leads as
select phone, pg_temp.submit(pg_temp.widget_of((select id from b)), phone) as id
  from unnest(array['+18764560111', '+19004560111', '+18004560111']) as phone;
select results_eq(
  $$select l.phone, l.not_texted_reason, l.owner_alert_status from public.leads l join leads x on x.id = l.id order by l.phone$$,
  $$values ('+18004560111', 'non_geographic', 'queued'), ('+18764560111', 'country_not_allowed', 'queued'),
           ('+19004560111', 'premium_rate', 'skipped_suspicious')$$,
  'a Jamaican and a toll-free lead alert the owner but are not texted; a premium-rate one is kept, and nobody is texted');
select is((select count(*)::int from public.messages m join leads x on x.id = m.lead_id where x.phone = '+19004560111'), 0,
          'nothing at all is queued for the premium-rate lead');
select is((select count(*)::int from public.messages m where m.to_phone in ('+18764560111', '+19004560111', '+18004560111')), 0,
          'no text goes to any of those numbers');

-- a phone already texted today by this business is not texted again, even once its conversation ended
select is(pg_temp.reason_for((select id from b), '+12124560177'), 'started', 'a new number is texted');
update public.conversations set status = 'completed', completion_reason = 'slots_filled', next_action_at = null where lead_phone = '+12124560177';
select is(pg_temp.reason_for((select id from b), '+12124560177'), 'texted_today', 'the same number again the same day is not');
select is((select count(*)::int from public.messages m join public.leads l on l.id = m.lead_id
            where l.phone = '+12124560177' and m.kind = 'owner_alert'), 2, '...but the owner hears about the new submission');

-- every path to a lead goes through the same guard: a HELP answer to a premium-rate number is not sent
create temp table help as
select private.enqueue_outbound((select b from public.businesses b where b.id = (select id from b)), 'help', '+19004560199',
                                'Help text. Reply STOP to opt out.') as id;
select is((select status || ' ' || status_reason from public.messages where id = (select id from help)),
          'canceled premium_rate', 'a HELP answer to a premium-rate number is canceled with the reason');

select * from finish();
rollback;
