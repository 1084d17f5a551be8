-- Lead intake: the leads policies, every BEFORE INSERT rule, the server-set evidence, duplicates, the owner alert,
-- the conversation and its text-back, and the commit-time wake.
begin;
\ir _helpers.psql
select plan(56);

select pg_temp.two_businesses();

-- leads
select pg_temp.as_user((select staff_a from ids));
select results_eq('select id from public.leads', 'select lead_a from ids', 'leads/select: members read their business''s leads only');
select throws_ok($$insert into public.leads (widget_id, name, phone) select pg_temp.widget_of(business_a), 'X', '+15551230000' from ids$$, '42501', null,
                 'leads/insert: authenticated users cannot insert leads');
select throws_ok($$update public.leads set name = 'changed'$$, '42501', null, 'leads/update: denied');
select throws_ok($$delete from public.leads$$, '42501', null, 'leads/delete: denied');
select pg_temp.as_postgres();
select isnt((select pg_temp.submit(pg_temp.widget_of(business_a), pg_temp.random_phone()) from ids), null, 'leads/insert: anon submits through a widget');
set local role anon;
select set_config('request.headers', '{"origin": "https://shop.example"}', true);
select throws_ok($$insert into public.leads (widget_id, business_id, name, phone) select widget_b, business_a, 'X', '+15551230000' from ids$$,
                 '42501', null, 'leads/insert: anon cannot choose business_id (column grant)');
select throws_ok($$insert into public.leads (widget_id, name, phone, consent_text) values (gen_random_uuid(), 'X', '+15551230000', 'fake')$$,
                 '42501', null, 'leads/insert: anon cannot write consent evidence');
select throws_ok($$insert into public.leads (name, phone) values ('X', '+15551230000')$$, 'P0001', 'widget_id is required.', 'leads/insert: the anon policy needs a widget');
select throws_ok('select * from public.leads', '42501', null, 'leads/select: anon reads nothing');
reset role;


create temp table t as select pg_temp.new_business() as business;
alter table t add column widget uuid;
update t set widget = pg_temp.widget_of(business);
grant select on t to anon;

create function pg_temp.anon_insert(p_sql text, p_headers jsonb default '{"origin": "https://shop.example", "cf-connecting-ip": "198.51.100.9"}')
returns void language plpgsql as $$
begin
  perform set_config('request.headers', p_headers::text, true);
  perform set_config('role', 'anon', true);
  execute p_sql;
  perform set_config('role', 'postgres', true);
exception when others then
  perform set_config('role', 'postgres', true);
  raise;
end
$$;

-- widget and origin
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Al'', ''+15551234567'')', gen_random_uuid()))$$,
                 'P0001', 'This form is not accepting submissions (unknown or inactive widget).', 'an unknown widget is refused');
update public.widgets set active = false where id = (select widget from t);
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Al'', ''+15551234567'')', (select widget from t)))$$,
                 'P0001', 'This form is not accepting submissions (unknown or inactive widget).', 'an inactive widget is refused');
update public.widgets set active = true where id = (select widget from t);
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Al'', ''+15551234567'')', (select widget from t)), '{}')$$,
                 'P0001', 'Submissions from an unknown website are not allowed for this form.', 'a request without Origin is refused');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Al'', ''+15551234567'')', (select widget from t)), '{"origin": "https://evil.example"}')$$,
                 'P0001', 'Submissions from https://evil.example are not allowed for this form.', 'a foreign Origin is refused');
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Al'', ''+15551234567'')', (select widget from t)), '{"origin": "https://SHOP.example/"}')$$,
                'an allowed Origin is accepted (case and trailing slash normalised)');

-- honeypot, sizes, formats
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone, honeypot) values (%L, ''Al'', ''+15551234568'', ''http://spam'')', (select widget from t)))$$,
                 'P0001', 'The submission looks automated and was not accepted.', 'a filled honeypot is refused');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''  '', ''+15551234568'')', (select widget from t)))$$,
                 'P0001', 'name: enter your name (1 to 100 characters).', 'an empty name is refused');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, %L, ''+15551234568'')', (select widget from t), repeat('n', 101)))$$,
                 'P0001', 'name: enter your name (1 to 100 characters).', 'a name over 100 characters is refused');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Al'', ''555-1234'')', (select widget from t)))$$,
                 'P0001', 'phone: enter a phone number with country code, like +15125550123.', 'a phone that is not E.164 is refused');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone, email) values (%L, ''Al'', ''+15551234568'', ''not-an-email'')', (select widget from t)))$$,
                 'P0001', 'email: enter a valid email address or leave it empty.', 'a malformed email is refused');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone, message) values (%L, ''Al'', ''+15551234568'', %L)', (select widget from t), repeat('m', 2001)))$$,
                 'P0001', 'message: keep the message under 2000 characters.', 'a message over 2000 characters is refused');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone, source_url) values (%L, ''Al'', ''+15551234568'', ''javascript:alert(1)'')', (select widget from t)))$$,
                 'P0001', 'source_url: must be the http(s) address of the page (at most 2048 characters).', 'a non-http source page is refused');
select is((select phone from public.leads where name = 'Al'), '+15551234567', 'the accepted lead is stored with its E.164 phone');
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Formatted'', ''+1 (555) 123-4569'')', (select widget from t)))$$,
                'a phone with spaces, dashes and parentheses is accepted...');
select is((select phone from public.leads where name = 'Formatted'), '+15551234569', '...and stored as E.164');

-- server-set fields: business, consent evidence, IP, user agent
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone, sms_consent) values (%L, ''Consenting'', ''+15551230001'', true)', (select widget from t)),
                  '{"origin": "https://shop.example", "x-forwarded-for": "6.6.6.6, 10.0.0.1", "cf-connecting-ip": "192.0.2.44", "user-agent": "Mozilla/5.0 test"}')$$, 'a consenting lead is accepted');
select is((select business_id from public.leads where name = 'Consenting'), (select business from t), 'business_id comes from the widget');
select is((select consent_text from public.leads where name = 'Consenting'), (select consent_text from public.widgets where id = (select widget from t)), 'the consent text shown is snapshotted');
select ok((select consent_at is not null from public.leads where name = 'Consenting'), 'the consent time is recorded');
select is((select host(ip) from public.leads where name = 'Consenting'), '192.0.2.44', 'the client address is the one the platform set (CF-Connecting-IP)');
select is((select user_agent from public.leads where name = 'Consenting'), 'Mozilla/5.0 test', 'the user agent is recorded');
select is((select consent_text from public.leads where name = 'Formatted'), null, 'no consent, no consent evidence');

-- rate limits (PT429 -> HTTP 429)
update public.widgets set max_leads_per_ip_per_hour = 2 where id = (select widget from t);
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Ip1'', ''+15552220001'')', (select widget from t)), '{"origin": "https://shop.example", "cf-connecting-ip": "203.0.113.50"}')$$, 'first lead from an IP');
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Ip2'', ''+15552220002'')', (select widget from t)), '{"origin": "https://shop.example", "cf-connecting-ip": "203.0.113.50"}')$$, 'second lead from the IP');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Ip3'', ''+15552220003'')', (select widget from t)), '{"origin": "https://shop.example", "cf-connecting-ip": "203.0.113.50"}')$$,
                 'PT429', 'Too many requests from your network. Please wait a little while and try again, or call us.', 'the third lead from one IP within the hour is rate limited');
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Ip4'', ''+15552220004'')', (select widget from t)), '{"origin": "https://shop.example", "cf-connecting-ip": "203.0.113.51"}')$$, 'another IP is not affected');
update public.widgets set max_leads_per_ip_per_hour = 100, max_leads_per_hour = (select count(*)::int + 1 from public.leads where widget_id = (select widget from t)) where id = (select widget from t);
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''W1'', ''+15552220005'')', (select widget from t)), '{"origin": "https://shop.example", "cf-connecting-ip": "203.0.113.60"}')$$, 'the widget''s last lead of the hour');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''W2'', ''+15552220006'')', (select widget from t)), '{"origin": "https://shop.example", "cf-connecting-ip": "203.0.113.61"}')$$,
                 'PT429', 'This form is receiving too many requests right now. Please try again in a few minutes, or call us.', 'a widget over its hourly limit answers 429');
update public.widgets set max_leads_per_hour = 1000 where id = (select widget from t);

-- owner alert and text-back
create temp table b2 as select pg_temp.new_business() as business;
create temp table l as select pg_temp.submit(pg_temp.widget_of((select business from b2)), '+15553330001', true, 'Water heater is leaking in the basement') as lead;
select is((select count(*)::int from public.messages where lead_id = (select lead from l) and kind = 'owner_alert' and status = 'queued'), 1, 'the owner alert is queued at once');
select is((select body from public.messages where lead_id = (select lead from l) and kind = 'owner_alert'),
          (select format(E'New lead for %s: %s +15553330001\nWater heater is leaking in the basement\nPage: https://shop.example/contact\nCall: tel:+15553330001\nText: sms:+15553330001'
                         '\nReply from this number: text %s and your message, or %s CALLED', b.name, ld.name, ld.short_code, ld.short_code)
             from public.businesses b, public.leads ld where b.id = (select business from b2) and ld.id = (select lead from l)),
          'the owner alert says who, what, which page, with tel:/sms: links and the lead''s code to answer by text');
select is((select to_phone from public.messages where lead_id = (select lead from l) and kind = 'owner_alert'),
          (select owner_phone from public.businesses where id = (select business from b2)), 'the owner alert goes to the owner phone');
select is((select followup_status from public.leads where id = (select lead from l)), 'started', 'a lead passing every rule is followed up');
select is((select status from public.conversations where lead_id = (select lead from l)), 'pending', 'its conversation starts pending');
select matches((select body from public.messages where lead_id = (select lead from l) and kind = 'text_back'), 'Reply STOP to opt out\.$', 'the text-back carries "Reply STOP to opt out"');
select ok((select body !~ 'what do you need' and body ~ 'When do you need this done, and where' from public.messages where lead_id = (select lead from l) and kind = 'text_back'),
          'the text-back does not ask for the need the form message already states');
create temp table vague as select pg_temp.submit(pg_temp.widget_of((select business from b2)), '+15553330002', true, 'Hi') as lead;
create temp table spanish as select pg_temp.submit(pg_temp.widget_of((select business from b2)), '+15553330003', true, 'Hola, necesito reparar una fuga de agua en mi casa') as lead;
select ok((select body ~ 'what do you need done, when do you need it, and where' from public.messages m
            where m.kind = 'text_back' and m.lead_id = (select lead from vague)),
          'a vague form message gets asked what, when and where');
select ok((select body ~ '^Hola .*Reply STOP to opt out' from public.messages m
            where m.kind = 'text_back' and m.lead_id = (select lead from spanish)),
          'a Spanish form message gets the Spanish text-back (still with the STOP wording)');

create temp table b_es as select pg_temp.new_business() as business;
update public.businesses set default_locale = 'es' where id = (select business from b_es);
create temp table l_es as select pg_temp.submit(pg_temp.widget_of((select business from b_es)), '+15553330005', false, '') as lead;
select matches((select body from public.messages where lead_id = (select lead from l_es) and kind = 'owner_alert'),
               E'^Nuevo cliente para .*\n\\(sin mensaje\\)\nPágina: https://shop.example/contact\nLlamar: tel:\\+15553330005',
               'a Spanish-speaking owner gets the alert in Spanish, saying when the form had no message');
-- duplicates
create temp table dup as select pg_temp.submit(pg_temp.widget_of((select business from b2)), '+15553330001', true, 'Same person again') as lead;
select is((select is_duplicate from public.leads where id = (select lead from dup)), true, 'the same phone within the window is stored and marked duplicate');
select is((select duplicate_of from public.leads where id = (select lead from dup)), (select lead from l), 'the duplicate points at the first lead');
select is((select count(*)::int from public.messages where lead_id = (select lead from dup)), 0, 'a duplicate alerts nobody twice and texts nobody');
select is((select not_texted_reason from public.leads where id = (select lead from dup)), 'duplicate', 'the duplicate records why it was not texted');
create temp table other as select pg_temp.submit((select widget from t), '+15553330001') as lead;
select is((select is_duplicate from public.leads where id = (select lead from other)), false, 'the same phone at another business is not a duplicate');

-- wake: a sendable message posts one coalesced sms-dispatch request when the transaction commits
set constraints all immediate;
select is((select count(*)::int from net.http_request_queue where url = 'http://functions.test/functions/v1/sms-dispatch'), 1,
          'all the texts queued in one transaction wake sms-dispatch once');
select is((select headers ->> 'Authorization' from net.http_request_queue where url like 'http://functions.test/%' limit 1), 'Bearer test-service-key', 'the wake carries the service key from the vault');

-- a broken vault URL costs the wake, never the lead
alter function net.http_post(text, jsonb, jsonb, jsonb, integer) rename to http_post_real;
create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}', headers jsonb default '{}', timeout_milliseconds integer default 5000)
returns bigint language plpgsql as $$ begin raise exception 'pg_net refused the request'; end $$;
update private.function_wakes set wake_pending = false where function_name = 'sms-dispatch';
select set_config('leadloop.wake_decided_sms_dispatch', '', false);
select lives_ok($$select pg_temp.submit((select widget from t), '+15553330099')$$, 'a lead is saved even when posting the wake fails');
select is((select count(*)::int from public.leads where phone = '+15553330099'), 1, '...and it is there');

select * from finish();
rollback;
