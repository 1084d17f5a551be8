-- The inbox: the search text, search_leads (words, phone formats, filters, keyset pages) and inbox_counts, with their refusals.
begin;
\ir _helpers.psql
select plan(45);
select pg_temp.two_businesses();

-- Four more leads of business A, a second apart (lead_a is the oldest), and named by hand.
create temp table t as
select pg_temp.submit(widget_a, '+14155552671', true, 'Water heater leaking in the garage') as maria,
       pg_temp.submit(widget_a, '+12125553847', true, 'Kitchen sink clogged, 100% blocked') as james,
       pg_temp.submit(widget_a, '+13035557142', false, null) as nomsg,
       pg_temp.submit(widget_a, '+16175558177', true, 'Need a quote for a_new shower') as newest
  from ids;
grant select on t to authenticated, anon;
update public.leads set name = 'María López' where id = (select maria from t);
update public.leads set name = 'James O''Brien' where id = (select james from t);
update public.leads set name = 'Nobody Special' where id = (select nomsg from t);
update public.leads set name = 'Zoe Newman' where id = (select newest from t);
update public.leads l set created_at = now() - interval '1 minute' + make_interval(secs => x.n)
  from (select lead_a as id, 0 as n from ids union all select maria, 1 from t union all select james, 2 from t
        union all select nomsg, 3 from t union all select newest, 4 from t) x
 where l.id = x.id;

-- the search text
select is((select search_text from public.leads where id = (select maria from t)),
          'maria lopez 14155552671 water heater leaking in the garage', 'search_text: name without accents, phone digits, message, lower case');
select matches((select search_text from public.leads where id = (select lead_a from ids)), '^lead [0-9a-f]{8} 1[0-9]+ kitchen sink',
               'search_text is written at intake, after the intake rules normalized the fields');

-- Search as a member of A.
create function pg_temp.found(p_query text, p_statuses text[] default null, p_followup public.inbox_followup default null,
                              p_attention public.inbox_attention default null) returns text[]
language sql as $$
  select coalesce(array_agg(l.name order by l.created_at desc, l.id desc), '{}')
    from public.search_leads((select business_a from ids), p_query, p_statuses, p_followup, p_attention) l
$$;
select pg_temp.as_user((select staff_a from ids));
select is(pg_temp.found(null), array['Zoe Newman', 'Nobody Special', 'James O''Brien', 'María López', (select name from public.leads where id = (select lead_a from ids))],
          'no search: every lead of the business, newest first (none of business B)');
select is(pg_temp.found('maria'), array['María López'], 'a name without its accent finds it');
select is(pg_temp.found('LÓPEZ'), array['María López'], 'case and accents do not matter either way');
select is(pg_temp.found('(415) 555-2671'), array['María López'], 'a phone number typed with formatting');
select is(pg_temp.found('+1 415.555.2671'), array['María López'], '...or with a country code and dots');
select is(pg_temp.found('5552671'), array['María López'], '...or only its last digits');
select is(pg_temp.found('heater'), array['María López'], 'a word of the form message');
select is(pg_temp.found('sink james'), array['James O''Brien'], 'every word must match, in any field and order');
select is(pg_temp.found('sink zoe'), '{}'::text[], 'a word that matches nothing empties the result');
select is(pg_temp.found('o''brien'), array['James O''Brien'], 'quotes are searched as text');
select is(pg_temp.found('100%'), array['James O''Brien'], '% is a character, not a wildcard');
select is(pg_temp.found('a_new'), array['Zoe Newman'], '_ is a character, not a wildcard');
select is(pg_temp.found('   '), pg_temp.found(null), 'a blank search is no search');

-- the summary joins the search text once it is written
select pg_temp.as_postgres();
update public.conversations set summary = '{"need": "Replace the water heater", "timing": "Friday morning", "location": "1420 Elm St", "constraints": ["Gate code 4411"], "text": "x"}',
                                summary_status = 'done', summary_due_at = now()
 where lead_id = (select newest from t);
select pg_temp.as_user((select staff_a from ids));
select is(pg_temp.found('gate code'), array['Zoe Newman'], 'the summary''s constraints are searched');
select is(pg_temp.found('elm friday'), array['Zoe Newman'], 'and its location and timing');
select is(pg_temp.found('water heater'), array['Zoe Newman', 'María López'], 'the need, beside form messages');

-- filters
update public.leads set status = 'won' where id = (select james from t);
update public.leads set status = 'booked' where id = (select maria from t);
select is(pg_temp.found(null, '{won,booked}'), array['James O''Brien', 'María López'], 'p_statuses: any of the pipeline statuses');
select is(pg_temp.found('heater', '{won}'), '{}'::text[], 'filters and words combine');
select is(pg_temp.found(null, null, 'not_texted'), array['Nobody Special'], 'p_followup not_texted: the lead without SMS consent');
select is(pg_temp.found(null, null, 'texting'), array['Zoe Newman', 'James O''Brien', 'María López', (select name from public.leads where id = (select lead_a from ids))],
          'p_followup texting: conversations waiting to send or for a reply');
select pg_temp.as_postgres();
select pg_temp.inbound('SM31000000000000000000000000000001', '+14155552671', (select twilio_number from public.businesses where id = (select business_a from ids)), 'Tomorrow at 9');
update public.messages set status = 'failed', status_reason = 'dead_letter: gave up after 5 attempts'
 where lead_id = (select james from t) and kind = 'owner_alert';
update public.messages set status = 'undelivered', error_code = '30003'
 where lead_id = (select newest from t) and kind = 'text_back';
select private.notify_owner(business_a, 'owner_alert.dead_letter', 'dl:james', 'An owner alert could not be delivered', '', 'critical', '{}', (select james from t))
  from ids;
select private.notify_owner(business_a, 'billing.past_due', 'billing:1', 'Payment failed') from ids;
select pg_temp.as_user((select staff_a from ids));
select is(pg_temp.found(null, null, 'replied'), array['María López'], 'p_followup replied: the lead answered');
select is(pg_temp.found(null, null, null, 'unread'), array['María López'], 'p_attention unread: a text nobody read');
select is(pg_temp.found(null, null, null, 'failed_delivery'), array['Zoe Newman', 'James O''Brien'], 'p_attention failed_delivery: any text about the lead that failed');
select is(pg_temp.found(null, null, null, 'dead_letter'), array['James O''Brien'], 'p_attention dead_letter: given up after every retry');
select is(pg_temp.found(null, null, null, 'notified'), array['James O''Brien'], 'p_attention notified: an open owner notification about the lead');
select is(public.inbox_counts((select business_a from ids)),
          '{"unread": 1, "failed_delivery": 2, "dead_letter": 1, "notified": 1, "unread_messages": 1, "open_notifications": 2}'::jsonb,
          'inbox_counts: leads per attention filter, unread texts and every open notification of the business');

-- keyset pages: stable under inserts, both directions
create temp table page1 as select l.id, l.created_at from public.search_leads((select business_a from ids), p_limit => 2) l;
select is((select array_agg(id order by created_at desc) from page1), array[(select newest from t), (select nomsg from t)], 'page 1: the two newest');
create temp table page2 as
select l.id from public.search_leads((select business_a from ids), p_limit => 2,
                                     p_cursor_created_at => (select min(created_at) from page1),
                                     p_cursor_id => (select id from page1 order by created_at limit 1)) l;
select is((select array_agg(id) from page2), array[(select james from t), (select maria from t)], 'page 2 starts right after the cursor');
select pg_temp.as_postgres();
select pg_temp.submit(widget_a, '+15125552398', true, 'A newer lead') from ids;
select pg_temp.as_user((select staff_a from ids));
select is((select array_agg(l.id) from public.search_leads((select business_a from ids), p_limit => 2,
                                     p_cursor_created_at => (select min(created_at) from page1),
                                     p_cursor_id => (select id from page1 order by created_at limit 1)) l),
          (select array_agg(id) from page2), 'a new lead does not move a later page');
select is((select array_agg(l.id) from public.search_leads((select business_a from ids), p_limit => 2, p_newer => true,
                                     p_cursor_created_at => (select created_at from public.leads where id = (select james from t)),
                                     p_cursor_id => (select james from t)) l),
          array[(select nomsg from t), (select newest from t)], 'p_newer: the page above the cursor, nearest first');
select is((select count(*)::int from public.search_leads((select business_a from ids), p_limit => 200)), 6, 'the new lead is on page 1');

-- refusals
select throws_ok($$select * from public.search_leads((select business_b from ids))$$, '42501', null,
                 'search_leads: another business is refused');
select throws_ok($$select * from public.search_leads(null)$$, '42501', null, 'search_leads: no business is refused');
select throws_ok($$select public.inbox_counts((select business_b from ids))$$, '42501', null, 'inbox_counts: another business is refused');
select throws_ok($$select * from public.search_leads((select business_a from ids), p_limit => 0)$$, '22023', null, 'p_limit is 1 to 200');
select throws_ok($$select * from public.search_leads((select business_a from ids), p_limit => 201)$$, '22023', null, '...not more');
select throws_ok($$select * from public.search_leads((select business_a from ids), repeat('x', 201))$$, '22023', null, 'a search is at most 200 characters');
select throws_ok($$select * from public.search_leads((select business_a from ids), p_cursor_id => gen_random_uuid())$$, '22023', null,
                 'a cursor needs both its time and its id');
select pg_temp.as_user((select extra from ids));
select throws_ok($$select * from public.search_leads((select business_a from ids))$$, '42501', null, 'search_leads: a user of no business is refused');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select * from public.search_leads((select business_a from ids))$$, '42501', null, 'search_leads: anon may not call it');
select throws_ok($$select public.inbox_counts((select business_a from ids))$$, '42501', null, 'inbox_counts: anon may not call it');
reset role;

-- the index the search relies on
select ok((select indexdef ~ 'gin \(search_text (extensions\.)?gin_trgm_ops\)' from pg_indexes where indexname = 'leads_search_text_trgm_idx'),
          'search_text has a trigram GIN index');
select ok((select indexdef ~ '\(business_id, created_at DESC, id DESC\)' from pg_indexes where indexname = 'leads_business_id_created_at_idx'),
          'the keyset order is an index order');

select * from finish();
rollback;
