-- The email outbox: rendering (escaping, links, language), enqueue_email (validation, exactly once),
-- the coalesced wake, leased claims, retries with backoff, dead letters told to the owner, the sweep.
begin;
\ir _helpers.psql
select plan(56);

delete from vault.secrets where name = 'dashboard_url';
insert into vault.secrets (name, secret) values ('dashboard_url', 'https://app.leadloop.test/');
create temp table b as select pg_temp.new_business() as id;

-- rendering
create temp table vars as select jsonb_build_object(
  'business', 'Acme & Sons', 'lead_name', E'<script>alert(1)</script>\r\nBcc: x@evil.test', 'lead_phone', '+15551230000',
  'lead_email', 'lead@example.com', 'source', 'https://shop.example/contact?a=1&b="2"', 'message', E'Leak <b>now</b>\nsecond line {lead_phone}',
  'call_link', 'tel:+15551230000', 'text_link', 'sms:+15551230000', 'lead_url', 'https://app.leadloop.test/leads/1',
  'preferences_url', 'https://app.leadloop.test/settings/email') as v;
create temp table r as select * from private.render_email('lead_alert', 'en', (select v from vars));
select is((select subject from r), 'New lead: <script>alert(1)</script> Bcc: x@evil.test', 'the subject is one line: the hostile CR LF is gone');
select ok((select body_html !~ '<script>' and body_html ~ '&lt;script&gt;alert\(1\)&lt;/script&gt;' from r), 'HTML escapes lead text');
select ok((select body_html ~ 'Leak &lt;b&gt;now&lt;/b&gt;<br>' from r), '...markup in the message is text, its newlines are <br>');
select ok((select body_html ~ 'a=1&amp;b=&quot;2&quot;' and body_html ~ 'Acme &amp; Sons' from r), '...quotes and ampersands too');
select ok((select body_html ~ 'second line \{lead_phone\}' from r), 'a value is never expanded again (one pass)');
select ok((select body_html ~ 'href="tel:\+15551230000"' and body_html ~ 'href="sms:\+15551230000"'
              and body_html ~ 'href="https://app.leadloop.test/leads/1"' and body_html ~ 'href="https://app.leadloop.test/settings/email"' from r),
          'one-tap tel:, sms:, lead page and preferences links');
select ok((select body_html ~ '^<!doctype html><html lang="en">' and body_html ~ '<title>New lead: &lt;script&gt;' from r), 'inside the layout, titled by the subject');
select ok((select body_text ~ E'Message: Leak <b>now</b>\nsecond line' and body_text ~ E'Call: tel:\\+15551230000\n' from r),
          'the text body keeps the words as written');
select ok((select body_text !~ E'\r' from r), '...without carriage returns or other control characters');
select ok((select subject = 'Nuevo cliente: ' || 'x' from private.render_email('lead_alert', 'es', (select v || '{"lead_name": "x"}' from vars))),
          'Spanish wording for a Spanish business');
select throws_ok($$select * from private.render_email('lead_alert', 'en', (select v - 'message' from vars))$$, '22023',
                 'email template "lead_alert" needs message', 'a missing value is an error that names it');
select throws_ok($$select * from private.render_email('lead_alert', 'en', (select v || '{"lead_url": "javascript:alert(1)"}' from vars))$$, '22023',
                 'email template "lead_alert": lead_url must be an http(s), tel:, sms: or mailto: URL', 'a link value must be a harmless URL');
select throws_ok($$select * from private.render_email('no_such', 'en', '{}')$$, '22023', null, 'an unknown template is an error');
select throws_ok($$select * from private.render_email('value.missing', 'en', '{}')$$, '22023', null, 'a fragment is not a whole email');
select is(private.email_fragment('role.staff', 'es'), 'miembro del equipo', 'fragments render as text');

select ok(private.is_email('Owner.Name+leads@mail.example.com'), 'is_email: a plain address');
select ok(not private.is_email(E'a@b.example\r\nBcc: c@d.example') and not private.is_email('a b@c.example')
          and not private.is_email('<a@b.example>') and not private.is_email('a@localhost') and not private.is_email(null),
          'is_email: nothing with spaces, line breaks, brackets or a bare host');

-- enqueue_email
create temp table e1 as select private.enqueue_email((select id from b), ' Owner@Example.COM ', 'owner_notification',
  '{"title": "Payment overdue", "body": "Update the card.", "link_url": "https://app.leadloop.test/billing"}', 'test:one') as id;
select isnt((select id from e1), null, 'enqueue_email queues an email');
select is((select to_address || '|' || status || '|' || locale || '|' || subject from private.email_outbox where id = (select id from e1)),
          'owner@example.com|queued|en|' || (select name from public.businesses where id = (select id from b)) || ': Payment overdue',
          '...to the trimmed address, queued, in the business''s language, {business} filled in');
select ok((select body_text ~ 'Email settings: https://app.leadloop.test/settings/email' from private.email_outbox where id = (select id from e1)),
          '...with the preferences link from the vault''s dashboard_url');
select is(private.enqueue_email((select id from b), 'owner@example.com', 'owner_notification',
            '{"title": "Again", "body": "", "link_url": "https://app.leadloop.test/"}', 'test:one'), null,
          'the same dedupe key sends nothing again');
select is((select count(*)::int from private.email_outbox where dedupe_key = 'test:one'), 1, '...one row');
select throws_ok($$select private.enqueue_email((select id from b), E'x@y.example\nBcc: z@evil.example', 'owner_notification', '{}', 'test:bad')$$,
                 '22023', null, 'a bad address is refused in the caller''s transaction');
select throws_ok($$select private.enqueue_email(gen_random_uuid(), 'x@y.example', 'owner_notification', '{}', 'test:nobiz')$$,
                 'P0002', null, 'an unknown business is refused');
select throws_ok($$select private.enqueue_email((select id from b), 'x@y.example', 'owner_notification', '{"title": "t"}', 'test:missing')$$,
                 '22023', 'email template "owner_notification" needs body, link_url', 'a missing value is refused before anything is queued');
create temp table es as select private.enqueue_email((select id from b), 'x@y.example', 'team_invitation',
  '{"inviter": "Ana", "role_name": "dueño", "accept_url": "https://app.leadloop.test/accept#t", "expires": "2026-12-10"}', 'test:es', p_locale => 'es') as id;
select is((select locale || ':' || subject from private.email_outbox where id = (select id from es)),
          'es:Ana le invitó a ' || (select name from public.businesses where id = (select id from b)) || ' en leadloop', 'p_locale picks the language');
delete from vault.secrets where name = 'dashboard_url';
select throws_ok($$select private.enqueue_email((select id from b), 'x@y.example', 'owner_notification', '{"title": "t", "body": "", "link_url": "https://a.example/"}', 'test:novault')$$,
                 '55000', null, 'without the dashboard_url vault secret nothing is queued (links would be wrong)');
insert into vault.secrets (name, secret) values ('dashboard_url', 'https://app.leadloop.test');

-- the wake: at commit, coalesced
delete from private.email_outbox;
delete from net.http_request_queue where url like 'http://functions.test/%';
set constraints all immediate;
create function pg_temp.queue(p_key text, p_now timestamptz default now()) returns uuid language sql as $$
  select private.enqueue_email((select id from b), 'owner@example.com', 'owner_notification',
    '{"title": "t", "body": "b", "link_url": "https://app.leadloop.test/"}', p_key)
$$;
select pg_temp.queue('wake:1');
select is((select count(*)::int from net.http_request_queue where url = 'http://functions.test/functions/v1/send-email'), 1, 'a queued email wakes send-email');
select is((select headers ->> 'Authorization' from net.http_request_queue where url = 'http://functions.test/functions/v1/send-email'),
          'Bearer test-service-key', '...with the service key');
select set_config('leadloop.wake_decided_send_email', '', false);  -- as if a new transaction began
select pg_temp.queue('wake:2');
select is((select count(*)::int from net.http_request_queue where url like 'http://functions.test/%'), 1, 'while that wake is pending, no second one');

-- claims and outcomes, on a clock the test moves
-- Midnight UTC tomorrow: the failures below span 14 hours and must fall on one UTC day (the dead-letter
-- notice is once per address and UTC day), whatever time the test runs.
create temp table t0 as select date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' + interval '1 day' as at;
create temp table c1 as select * from public.claim_emails(10, 60, (select at from t0));
select is((select count(*)::int from c1), 2, 'claim_emails leases the due emails');
select is((select count(*)::int from private.email_outbox where status = 'sending' and attempts = 1
            and lease_until = (select at from t0) + interval '60 seconds'), 2, '...sending, attempt 1, leased from p_now');
select is((select count(*)::int from public.claim_emails(10, 60, (select at from t0))), 0, 'a leased email is not claimed twice');
select set_config('leadloop.wake_decided_send_email', '', false);
select pg_temp.queue('wake:3');
select is((select count(*)::int from net.http_request_queue where url like 'http://functions.test/%'), 2, 'after a claim answered the wake, the next email wakes again');

create temp table one as select id from c1 order by id limit 1;
create temp table two as select id from c1 order by id desc limit 1;
select is(public.mark_email_sent((select id from one), '<abc@mail>', (select at from t0)), true, 'mark_email_sent records the provider''s acceptance');
select is((select status || '|' || provider_message_id from private.email_outbox where id = (select id from one)), 'sent|<abc@mail>', '...sent, with its id');
select is(public.mark_email_sent((select id from one), '<again@mail>', (select at from t0)), false, '...and only once');
select is(public.mark_email_failed((select id from two), 'ECONNREFUSED 127.0.0.1:1', true, (select at from t0)), 'queued',
          'a temporary failure is retried');
select is((select next_attempt_at from private.email_outbox where id = (select id from two)), (select at from t0) + interval '30 seconds',
          '...30 seconds later');
select is((select count(*)::int from public.claim_emails(10, 60, (select at from t0) + interval '29 seconds') where id = (select id from two)), 0,
          '...not before');
select is(public.mark_email_failed((select id from one), 'late', true, (select at from t0)), 'sent', 'a failure reported for a sent email changes nothing');

-- retry until the attempts run out, then a dead letter the owner is told about (not by email)
create function pg_temp.fail_until_settled(p_id uuid, p_start timestamptz) returns text language plpgsql as $$
declare
  at timestamptz := p_start;
  result text := 'queued';
begin
  while result = 'queued' loop
    at := (select next_attempt_at from private.email_outbox where id = p_id);
    perform 1 from public.claim_emails(100, 60, at) where id = p_id;
    result := public.mark_email_failed(p_id, '421 try again later', true, at);
  end loop;
  return result;
end
$$;
select is(pg_temp.fail_until_settled((select id from two), (select at from t0)), 'failed', 'the tenth failed attempt dead-letters the email');
select is((select attempts || '|' || status_reason from private.email_outbox where id = (select id from two)),
          '10|dead_letter: gave up after 10 attempts', '...after ten attempts');
select ok((select max(next_attempt_at) - (select at from t0) between interval '9 hours' and interval '10 hours' from private.email_outbox where id = (select id from two)),
          '...spread over about 10 hours (30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h)');
select is((select severity || '|' || kind || '|' || title from public.owner_notifications where business_id = (select id from b) and kind = 'email.dead_letter'),
          'warning|email.dead_letter|Emails to owner@example.com are not being delivered', 'the owner is told on the dashboard (a warning, so not by email)');
create temp table three as select pg_temp.queue('perm:1') as id;
select count(*) from public.claim_emails(10, 60, (select at from t0) + interval '14 hours');
select is(public.mark_email_failed((select id from three), '550 5.1.1 no such user', false, (select at from t0) + interval '14 hours'), 'failed',
          'a permanent refusal dead-letters at once');
select is((select status_reason from private.email_outbox where id = (select id from three)), 'dead_letter: refused by the mail provider', '...saying so');
select is((select count(*)::int from public.owner_notifications where business_id = (select id from b) and kind = 'email.dead_letter'), 1,
          'one attention row per address and day, however many emails fail');

-- the sweep
delete from net.http_request_queue where url like 'http://functions.test/%';
create temp table four as select pg_temp.queue('sweep:1') as id;
select count(*) from public.claim_emails(10, 60, now());
select is((private.email_sweep(now() + interval '61 seconds') ->> 'leases_released')::int, 1, 'the sweep takes back an email whose worker vanished');
select is((select status || '|' || status_reason || '|' || attempts from private.email_outbox where id = (select id from four)),
          'queued|lease_expired|1', '...queued again, the attempt counted');
update private.email_outbox set attempts = max_attempts, status = 'sending', lease_until = now() where id = (select id from four);
select is((private.email_sweep(now() + interval '1 minute') ->> 'dead_lettered')::int, 1, 'a lease lost on the last attempt is a dead letter');
update private.email_outbox set created_at = now() - interval '31 days' where id = (select id from one);
select is((private.email_sweep(now()) ->> 'purged')::int, 1, 'settled mail is forgotten after 30 days');
select pg_temp.queue('sweep:2');
update private.function_wakes set wake_pending = true, last_wake_at = now() where function_name = 'send-email';
select is((private.email_sweep(now()) ->> 'woken')::boolean, true, 'due email: the sweep wakes send-email even while a wake is pending');

-- who may call what
set local role authenticated;
select throws_ok($$select * from public.claim_emails(1, 60, now())$$, '42501', null, 'users cannot claim emails');
select throws_ok($$select * from private.email_outbox$$, '42501', null, 'users cannot read the outbox');
reset role;
set local role anon;
select throws_ok($$select public.mark_email_sent(gen_random_uuid(), null, now())$$, '42501', null, 'anon cannot settle emails');
reset role;

select * from finish();
rollback;
