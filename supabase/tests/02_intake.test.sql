-- Lead intake: every BEFORE INSERT rule, the server-set evidence, duplicates, the owner alert and the text-back.
begin;
\ir _helpers.psql
select plan(63);

create temp table t as select pg_temp.new_business() as business;
alter table t add column widget uuid;
update t set widget = pg_temp.widget_of(business);
grant select on t to anon;

create function pg_temp.anon_insert(p_sql text, p_headers jsonb default '{"origin": "https://shop.example", "x-forwarded-for": "198.51.100.9"}')
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
                 'P0001', 'phone: enter a phone number with country code, like +15551234567.', 'a phone that is not E.164 is refused');
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
                  '{"origin": "https://shop.example", "x-forwarded-for": "192.0.2.44, 10.0.0.1", "user-agent": "Mozilla/5.0 test"}')$$, 'a consenting lead is accepted');
select is((select business_id from public.leads where name = 'Consenting'), (select business from t), 'business_id comes from the widget');
select is((select consent_text from public.leads where name = 'Consenting'), (select consent_text from public.widgets where id = (select widget from t)), 'the consent text shown is snapshotted');
select ok((select consent_at is not null from public.leads where name = 'Consenting'), 'the consent time is recorded');
select is((select host(ip) from public.leads where name = 'Consenting'), '192.0.2.44', 'the client IP is the first X-Forwarded-For hop');
select is((select user_agent from public.leads where name = 'Consenting'), 'Mozilla/5.0 test', 'the user agent is recorded');
select is(host(private.request_ip('{"x-forwarded-for": "6.6.6.6, 192.0.2.1", "cf-connecting-ip": "192.0.2.99"}')), '192.0.2.99',
          'the edge proxy''s client IP wins over a client-supplied X-Forwarded-For');
select is(private.request_ip('{"x-forwarded-for": "not-an-ip"}'), null, 'an unparseable address counts as unknown');
select is((select consent_text from public.leads where name = 'Formatted'), null, 'no consent, no consent evidence');

-- rate limits (PT429 -> HTTP 429)
update public.widgets set max_leads_per_ip_per_hour = 2 where id = (select widget from t);
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Ip1'', ''+15552220001'')', (select widget from t)), '{"origin": "https://shop.example", "x-forwarded-for": "203.0.113.50"}')$$, 'first lead from an IP');
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Ip2'', ''+15552220002'')', (select widget from t)), '{"origin": "https://shop.example", "x-forwarded-for": "203.0.113.50"}')$$, 'second lead from the IP');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Ip3'', ''+15552220003'')', (select widget from t)), '{"origin": "https://shop.example", "x-forwarded-for": "203.0.113.50"}')$$,
                 'PT429', 'Too many requests from your network. Please wait a little while and try again, or call us.', 'the third lead from one IP within the hour is rate limited');
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''Ip4'', ''+15552220004'')', (select widget from t)), '{"origin": "https://shop.example", "x-forwarded-for": "203.0.113.51"}')$$, 'another IP is not affected');
update public.widgets set max_leads_per_ip_per_hour = 100, max_leads_per_hour = (select count(*)::int + 1 from public.leads where widget_id = (select widget from t)) where id = (select widget from t);
select lives_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''W1'', ''+15552220005'')', (select widget from t)), '{"origin": "https://shop.example", "x-forwarded-for": "203.0.113.60"}')$$, 'the widget''s last lead of the hour');
select throws_ok($$select pg_temp.anon_insert(format('insert into public.leads (widget_id, name, phone) values (%L, ''W2'', ''+15552220006'')', (select widget from t)), '{"origin": "https://shop.example", "x-forwarded-for": "203.0.113.61"}')$$,
                 'PT429', 'This form is receiving too many requests right now. Please try again in a few minutes, or call us.', 'a widget over its hourly limit answers 429');
update public.widgets set max_leads_per_hour = 1000 where id = (select widget from t);

-- owner alert and text-back
create temp table b2 as select pg_temp.new_business() as business;
update public.businesses set owner_alert_template = E'{business} lead {name} {phone}: {message} via {source} {call_link} {text_link}' where id = (select business from b2);
create temp table l as select pg_temp.submit(pg_temp.widget_of((select business from b2)), '+15553330001', true, 'Water heater is leaking in the basement') as lead;
select is((select count(*)::int from public.messages where lead_id = (select lead from l) and kind = 'owner_alert' and status = 'queued'), 1, 'the owner alert is queued at once');
select is((select body from public.messages where lead_id = (select lead from l) and kind = 'owner_alert'),
          (select format('%s lead %s +15553330001: Water heater is leaking in the basement via https://shop.example/contact tel:+15553330001 sms:+15553330001', b.name, ld.name)
             from public.businesses b, public.leads ld where b.id = (select business from b2) and ld.id = (select lead from l)),
          'the owner alert follows the business template with name, phone, message, page and tel:/sms: links');
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

-- The text-back asks only for what the form message leaves out (what, when, where).
create temp table tb_all as select pg_temp.submit(pg_temp.widget_of((select business from b2)), '+15553330101', true,
  'Water heater leaking, can you come tomorrow morning? 1420 Elm St, Austin 78704') as lead;
select ok((select body !~* '(what do you need|when do you need|where)'
              and body ~ 'Is there anything else we should know before we come, such as access, parking or pets\? Reply STOP to opt out\.$'
             from public.messages where lead_id = (select lead from tb_all) and kind = 'text_back'),
          'need, time and address in the form: no what/when/where question, the access question instead, then the STOP line');
create temp table tb_need_time as select pg_temp.submit(pg_temp.widget_of((select business from b2)), '+15553330102', true,
  'Water heater leaking, can you come tomorrow morning?') as lead;
select ok((select body ~ 'Where is the job \(address or area\)\?' and body !~* '(what do you need|when do you need)'
             from public.messages where lead_id = (select lead from tb_need_time) and kind = 'text_back'),
          'need and time in the form: only where is asked');
create temp table tb_time as select pg_temp.submit(pg_temp.widget_of((select business from b2)), '+15553330103', true, 'Tomorrow 9am') as lead;
select is((select body from public.messages where lead_id = (select lead from tb_time) and kind = 'text_back'),
          (select format('Hi %s, this is %s. Thanks for reaching out! To help you quickly: what do you need done, and where (address or area)? Reply STOP to opt out.',
                         private.first_name(ld.name), b.name)
             from public.leads ld, public.businesses b where ld.id = (select lead from tb_time) and b.id = (select business from b2)),
          'time only in the form: asks what and where, not when');
select is(private.text_back_body('en', 'Acme', 'Dana Smith', 'Austin 78704'),
          'Hi Dana, this is Acme. Thanks for reaching out! To help you quickly: what do you need done, and when do you need it? Reply STOP to opt out.',
          'location only in the form: asks what and when, not where');
select is(private.text_back_body('en', 'Acme', 'Dana Smith', 'Water heater leaking at 1420 Elm St'),
          'Hi Dana, this is Acme. Thanks for your request! When do you need this done? Reply STOP to opt out.',
          'need and address in the form: only when is asked');
select is(private.text_back_body('en', 'Acme', 'Dana Smith', 'Friday 3pm, 78704'),
          'Hi Dana, this is Acme. Thanks for reaching out! What do you need done? Reply STOP to opt out.',
          'time and ZIP in the form: only what is asked');
create temp table tb_es_all as select pg_temp.submit(pg_temp.widget_of((select business from b2)), '+15553330104', true,
  'Hola, tengo una fuga de agua, ¿pueden venir mañana por la tarde? Calle Ocho 123') as lead;
select ok((select body ~ '^Hola .*¿Hay algo más que debamos saber antes de ir, como acceso, estacionamiento o mascotas\? Responda STOP para no recibir más mensajes \(Reply STOP to opt out\)\.$'
              and body !~* '(cuándo|dónde|qué necesita)'
             from public.messages where lead_id = (select lead from tb_es_all) and kind = 'text_back'),
          'Spanish form with need, time and address: the Spanish access question, no qué/cuándo/dónde');
select is(private.text_back_body('es', 'Acme', 'Rosa Jiménez', 'el lunes'),
          'Hola Rosa, le escribe Acme. ¡Gracias por contactarnos! Para ayudarle rápido: ¿qué necesita y dónde (dirección o zona)? Responda STOP para no recibir más mensajes (Reply STOP to opt out).',
          'Spanish, time only: asks qué and dónde, not cuándo');
select is(private.text_back_body('es', 'Acme', 'Rosa Jiménez', 'Calle Ocho 123'),
          'Hola Rosa, le escribe Acme. ¡Gracias por contactarnos! Para ayudarle rápido: ¿qué necesita y para cuándo? Responda STOP para no recibir más mensajes (Reply STOP to opt out).',
          'Spanish, address only: asks qué and cuándo, not dónde');
select is(private.text_back_body('es', 'Acme', 'Rosa Jiménez', 'Tengo una fuga de agua, lo antes posible por favor'),
          'Hola Rosa, le escribe Acme. ¡Gracias por su solicitud! ¿Dónde es el trabajo (dirección o zona)? Responda STOP para no recibir más mensajes (Reply STOP to opt out).',
          'Spanish, need and urgency: only dónde is asked');
select is((select count(distinct body)::int
             from (select l.locale, private.text_back_body(l.locale, 'Acme', 'Dana', m.message) as body
                     from (values ('en'), ('es')) l(locale),
                          (values ('Hi'), ('Tomorrow 9am'), ('Austin 78704'), ('Friday 3pm, 78704'), ('Water heater is leaking in the basement'),
                                  ('Water heater leaking at 1420 Elm St'), ('Water heater leaking, come tomorrow'),
                                  ('Water heater leaking, come tomorrow, 78704')) m(message)) b
            where b.body ~ case when b.locale = 'es' then '\? Responda STOP para no recibir más mensajes \(Reply STOP to opt out\)\.$'
                                else '\? Reply STOP to opt out\.$' end),
          16, 'each of the eight what/when/where combinations gets its own text, en and es, each ending with a question and the STOP line');

-- What counts as saying when / where. A hit means the question is skipped, so look-alikes must not count.
select is(array(select m from unnest(array['tomorrow morning', 'ASAP', 'this weekend', 'Friday', 'evenings are best', 'at 3pm', '3 p.m.',
                                           'around 10:30', 'Dec 5th', '12/5/2026', 'hoy', 'mañana por la tarde', 'el viernes',
                                           'lo antes posible', 'la próxima semana', 'fin de semana', '15 de diciembre']) m
                 where not private.message_states_timing(m)),
          '{}'::text[], 'timing cues in English and Spanish are recognised');
select is(array(select m from unnest(array['call me', 'Please call me back about a quote', 'need 3/4 inch pipe replaced', 'I may need help',
                                           'may 5 people help?', 'holiday lights', '5 amps breaker', 'I am 5']) m
                 where private.message_states_timing(m)),
          '{}'::text[], 'call me, a pipe size, may, holiday or amps are not timing cues');
select is(array(select m from unnest(array['78704', 'Austin TX 78704-1234', '1420 Elm St', '22 N Lamar Blvd', '9 Oak Hollow Drive',
                                           'Calle Ocho 123', 'avenida Juárez #45']) m
                 where not private.message_states_location(m)),
          '{}'::text[], 'a ZIP, a street address and calle/avenida with a number are recognised');
select is(array(select m from unnest(array['Suite 5', 'Apt 12', 'Unit 12000 BTU AC not cooling', '$12000 budget', 'call 512-555-1234',
                                           'order 12345678', '2 doors on the way', 'en la calle', 'Water heater is leaking in the basement']) m
                 where private.message_states_location(m)),
          '{}'::text[], 'a suite alone, a BTU rating, a price, a phone number or "on the way" are not locations');

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
update private.dispatch_wake_state set wake_pending = false;
select set_config('leadloop.dispatch_wake_decided', '', false);
select lives_ok($$select pg_temp.submit((select widget from t), '+15553330099')$$, 'a lead is saved even when posting the wake fails');
select is((select count(*)::int from public.leads where phone = '+15553330099'), 1, '...and it is there');

select * from finish();
rollback;
