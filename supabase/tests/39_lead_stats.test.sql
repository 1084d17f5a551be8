-- lead_stats: the numbers on a known fixture (totals, days in the business's time zone, sources), and its refusals.
begin;
\ir _helpers.psql
select plan(17);
select pg_temp.two_businesses();

-- Business A is in America/New_York (UTC-4 in October). The report covers Oct 5, 6 and 7 local.
create temp table f as
select pg_temp.submit(widget_a, '+14155550201', true) as l1,   -- Oct 5 10:00, alert in 4 s, texted, replied twice, completed
       pg_temp.submit(widget_a, '+14155550202', true) as l2,   -- Oct 5 23:30 local (Oct 6 UTC), alert in 10 s, texted, opted out
       pg_temp.submit(widget_a, '+14155550203', true) as l3,   -- Oct 6 09:00, alert in 2 s, texted, no reply, no source page
       pg_temp.submit(widget_a, '+14155550204', false) as l4,  -- Oct 6 09:01, no consent, alert failed
       pg_temp.submit(widget_a, '+14155550205', true) as l6    -- Oct 8: after the period
  from ids;
update public.leads l set created_at = x.at::timestamptz, source_url = x.source
  from (values ((select l1 from f), '2026-10-05 10:00:00-04', 'https://shop.example/contact?utm_source=ads#form'),
               ((select l2 from f), '2026-10-05 23:30:00-04', 'https://shop.example/contact'),
               ((select l3 from f), '2026-10-06 09:00:00-04', null),
               ((select l4 from f), '2026-10-06 09:01:00-04', 'https://shop.example/quote'),
               ((select l6 from f), '2026-10-08 09:00:00-04', 'https://shop.example/contact')) as x(id, at, source)
 where l.id = x.id;
-- The same person again a minute later: a duplicate, counted apart.
create temp table dup as select pg_temp.submit(widget_a, '+14155550204', false) as id from ids;
update public.leads set is_duplicate = true, duplicate_of = (select l4 from f), owner_alert_status = 'skipped_duplicate',
                        not_texted_reason = 'duplicate', created_at = '2026-10-06 09:02:00-04'
 where id = (select id from dup);

update public.messages m set status = 'delivered', sent_at = l.created_at + interval '1 second', delivered_at = l.created_at + x.seconds * interval '1 second'
  from public.leads l, (values ((select l1 from f), 4), ((select l2 from f), 10), ((select l3 from f), 2), ((select l6 from f), 1)) as x(id, seconds)
 where m.lead_id = x.id and l.id = x.id and m.kind = 'owner_alert';
update public.messages m set status = 'failed', status_reason = 'Twilio 30003' where m.lead_id = (select l4 from f) and m.kind = 'owner_alert';
update public.messages m set status = 'delivered', sent_at = now(), delivered_at = now()
 where m.kind = 'text_back' and m.lead_id in (select l1 from f union all select l2 from f union all select l3 from f union all select l6 from f);
update public.conversations set status = 'completed', completion_reason = 'slots_filled', turn_count = 2, completed_at = now(),
                                summary_status = 'due', summary_due_at = now()
 where lead_id = (select l1 from f);
update public.conversations set status = 'opted_out', completion_reason = 'opted_out', completed_at = now() where lead_id = (select l2 from f);
update public.conversations set status = 'no_reply', completion_reason = 'no_reply', completed_at = now(), summary_status = 'due', summary_due_at = now()
 where lead_id = (select l3 from f);

select pg_temp.as_user((select staff_a from ids));
create temp table r as select public.lead_stats((select business_a from ids), '2026-10-05 00:00:00-04', '2026-10-08 00:00:00-04') as s;
select is((select s - 'days' - 'sources' - 'business_id' from r),
          jsonb_build_object('from', '2026-10-05T04:00:00+00:00', 'to', '2026-10-08T04:00:00+00:00', 'timezone', 'America/New_York',
                             'leads', 4, 'texted', 3, 'replied', 1, 'completed', 1, 'opted_out', 1, 'duplicates', 1,
                             'reply_rate', 0.3333, 'alerts_delivered', 3, 'alert_median_seconds', 4.0, 'alert_p90_seconds', 8.8),
          'totals: leads of the period without duplicates, texted, replied, completed, opted out, reply rate, alert median and p90');
select is((select jsonb_agg(d ->> 'day') from r, jsonb_array_elements(s -> 'days') d), '["2026-10-05", "2026-10-06", "2026-10-07"]'::jsonb,
          'days: every local day of the period, in order');
select is((select s -> 'days' -> 0 from r),
          '{"day": "2026-10-05", "leads": 2, "texted": 2, "replied": 1, "completed": 1, "opted_out": 1, "reply_rate": 0.5000,
            "alerts_delivered": 2, "alert_median_seconds": 7.0, "alert_p90_seconds": 9.4}'::jsonb,
          'Oct 5 holds the 23:30 local lead that is Oct 6 in UTC');
select is((select s -> 'days' -> 1 from r),
          '{"day": "2026-10-06", "leads": 2, "texted": 1, "replied": 0, "completed": 0, "opted_out": 0, "reply_rate": 0.0000,
            "alerts_delivered": 1, "alert_median_seconds": 2.0, "alert_p90_seconds": 2.0}'::jsonb,
          'Oct 6: a lead without consent counts as a lead, not as texted; its failed alert has no time');
select is((select s -> 'days' -> 2 from r),
          '{"day": "2026-10-07", "leads": 0, "texted": 0, "replied": 0, "completed": 0, "opted_out": 0, "reply_rate": null,
            "alerts_delivered": 0, "alert_median_seconds": null, "alert_p90_seconds": null}'::jsonb,
          'a day without leads is zeros, and no rate or time');
select is((select jsonb_agg(jsonb_build_array(x ->> 'source_page', x ->> 'widget_name', (x ->> 'leads')::int, (x ->> 'replied')::int)) from r, jsonb_array_elements(s -> 'sources') x),
          jsonb_build_array(jsonb_build_array('https://shop.example/contact', (select name from public.widgets where id = (select widget_a from ids)), 2, 1),
                            jsonb_build_array('https://shop.example/quote', (select name from public.widgets where id = (select widget_a from ids)), 1, 0),
                            jsonb_build_array(null, (select name from public.widgets where id = (select widget_a from ids)), 1, 0)),
          'sources: per widget and page (query and fragment dropped), most leads first, unknown page last');
select is((select (s -> 'sources' -> 0) - 'widget_id' - 'widget_name' - 'source_page' from r),
          '{"leads": 2, "texted": 2, "replied": 1, "completed": 1, "opted_out": 1, "reply_rate": 0.5000,
            "alerts_delivered": 2, "alert_median_seconds": 7.0, "alert_p90_seconds": 9.4}'::jsonb,
          'a source has the same numbers as the totals');
select is((select (s -> 'sources' -> 0 ->> 'widget_id')::uuid from r), (select widget_a from ids), 'and names its widget');

select is(public.lead_stats((select business_a from ids), '2026-09-01 00:00:00-04', '2026-09-03 00:00:00-04') - 'days' - 'sources' - 'business_id' - 'from' - 'to',
          '{"timezone": "America/New_York", "leads": 0, "texted": 0, "replied": 0, "completed": 0, "opted_out": 0, "duplicates": 0,
            "reply_rate": null, "alerts_delivered": 0, "alert_median_seconds": null, "alert_p90_seconds": null}'::jsonb,
          'a period without leads is zeros');
select is(jsonb_array_length(public.lead_stats((select business_a from ids), '2026-09-01 00:00:00-04', '2026-09-03 00:00:00-04') -> 'sources'), 0,
          '...with no sources');

-- refusals
select throws_ok($$select public.lead_stats((select business_b from ids), now() - interval '1 day', now())$$, '42501', null,
                 'lead_stats: another business is refused');
select throws_ok($$select public.lead_stats((select business_a from ids), now(), now() - interval '1 day')$$, '22023', null,
                 'the period must run forwards');
select throws_ok($$select public.lead_stats((select business_a from ids), null, now())$$, '22023', null, 'both ends are required');
select throws_ok($$select public.lead_stats((select business_a from ids), now() - interval '401 days', now())$$, '22023', null,
                 'a report covers at most 400 days');
select pg_temp.as_user((select owner_b from ids));
select is((public.lead_stats((select business_b from ids), '2026-10-05 00:00:00-04', '2026-10-08 00:00:00-04') ->> 'leads')::int, 0,
          'business B''s owner sees only B''s leads');
select pg_temp.as_user((select extra from ids));
select throws_ok($$select public.lead_stats((select business_a from ids), now() - interval '1 day', now())$$, '42501', null,
                 'lead_stats: a user of no business is refused');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select public.lead_stats((select business_a from ids), now() - interval '1 day', now())$$, '42501', null,
                 'lead_stats: anon may not call it');
reset role;

select * from finish();
rollback;
