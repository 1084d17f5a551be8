-- Issue 9 item 2: any signed-in user creates a business (owner, trial, owner phone code on its way);
-- anon cannot; bad input is refused with the field named; a user may own several businesses, up to a limit.
begin;
\ir _helpers.psql
select plan(31);

create temp table ids as select pg_temp.new_user() as founder, pg_temp.new_user() as other, pg_temp.new_user() as busy;
grant select on ids to anon, authenticated;

-- denied: anon and the API roles without a user
set local role anon;
select throws_ok($$select public.create_business('Anon Plumbing', '+14152220123', 'America/Los_Angeles')$$, '42501', null,
                 'anon cannot create a business');
reset role;
set local role service_role;
select throws_ok($$select public.create_business('Keyless Plumbing', '+14152220123', 'America/Los_Angeles')$$, '42501', null,
                 'the service role cannot call it (it creates businesses for a signed-in user only)');
reset role;
select pg_temp.as_postgres();

-- allowed: a signed-in user
select pg_temp.as_user((select founder from ids));
create temp table made as select public.create_business('  Bright   Plumbing ', '+14152220199', 'America/Los_Angeles', 'es') as id;
select pg_temp.as_postgres();
grant select on made to authenticated, service_role;
select isnt((select id from made), null, 'a signed-in user creates a business and gets its id');
select is((select name || '|' || owner_phone || '|' || timezone || '|' || default_locale from public.businesses where id = (select id from made)),
          'Bright Plumbing|+14152220199|America/Los_Angeles|es', 'the name is trimmed; phone, time zone and language are kept');
select is((select role from public.business_members where business_id = (select id from made) and user_id = (select founder from ids)), 'owner',
          'the caller is its owner');
select is((select count(*)::int from public.business_members where business_id = (select id from made)), 1, 'and its only member');
select is((select plan_id || ' ' || status || ' ' || conversation_quota || ' ' || conversations_used from public.subscriptions where business_id = (select id from made)),
          'trial trialing 50 0', 'the trial plan is started: 50 conversations');
select is((select current_period_end - current_period_start from public.subscriptions where business_id = (select id from made)), interval '14 days',
          'for 14 days, as the plans table says');
select is((select owner_phone_verified_at from public.businesses where id = (select id from made)), null, 'the owner phone is not confirmed yet');
select is((select twilio_number from public.businesses where id = (select id from made)), null, 'there is no sending number yet');
select is((select count(*)::int from public.messages where business_id = (select id from made)), 0,
          'no code can be texted before there is a number to text it from');

-- the code goes out once the number is set (what twilio-numbers does after buying it)
set local role service_role;
select lives_ok(format($$select public.set_business_sending_number(%L, '+14152220177', 'PN' || md5('create-business-test'))$$, (select id from made)),
                'the business gets its sending number');
reset role;
select is((select to_phone || ' ' || status from public.messages where business_id = (select id from made) and kind = 'verification'),
          '+14152220199 queued', 'then the owner phone''s code is texted to it');
select matches((select body from public.messages where business_id = (select id from made) and kind = 'verification'),
               '^[0-9]{6} es su código de leadloop', 'in the owner''s language');

-- what the owner can do next with their own business, and nobody else can
select pg_temp.as_user((select founder from ids));
select is((select count(*)::int from public.businesses where id = (select id from made)), 1, 'the owner reads the new business');
select lives_ok(format($$insert into public.widgets (business_id, allowed_origins, consent_text) values (%L, '{https://bright.example}',
                  'I agree to receive texts from Bright Plumbing about my service request. Msg & data rates may apply. Reply STOP to opt out, HELP for help.')$$,
                       (select id from made)), 'and creates its first widget');
select is(public.confirm_owner_phone((select id from made), '000000x'), false, 'and may try to confirm the phone');
select pg_temp.as_user((select other from ids));
select is((select count(*)::int from public.businesses where id = (select id from made)), 0, 'another user cannot see it');
select throws_ok(format($$select public.confirm_owner_phone(%L, '123456')$$, (select id from made)), '42501', null,
                 'nor confirm its phone');

-- clear errors, field by field
select throws_ok($$select public.create_business('   ', '+14152220123', 'America/Chicago')$$, '22023',
                 'name: give the business a name of 1 to 120 characters', 'a blank name');
select throws_ok($$select public.create_business(repeat('x', 121), '+14152220123', 'America/Chicago')$$, '22023',
                 'name: give the business a name of 1 to 120 characters', 'a name too long');
select throws_ok($$select public.create_business('Acme', '(415) 555-0123', 'America/Chicago')$$, '22023',
                 'owner_phone: give the owner''s mobile number with its country code, like +14155550123', 'a phone that is not E.164');
select throws_ok($$select public.create_business('Acme', '+19005550123', 'America/Chicago')$$, '22023',
                 'owner_phone: leadloop cannot text +19005550123 (premium rate); give a US or Canadian mobile number', 'a premium-rate owner phone');
select throws_ok($$select public.create_business('Acme', '+14152220123', 'Mars/Olympus')$$, '22023',
                 'timezone: "Mars/Olympus" is not a time zone; use an IANA name like America/New_York', 'an unknown time zone');
select throws_ok($$select public.create_business('Acme', '+14152220123', 'America/Chicago', 'fr')$$, '22023',
                 'locale: the language must be en or es', 'a language leadloop does not speak');
select pg_temp.as_postgres();
select is((select count(*)::int from public.business_members where user_id = (select other from ids)), 0, 'nothing refused was created');

-- several businesses per user, up to the limit
select pg_temp.as_user((select busy from ids));
select lives_ok($$select public.create_business('Second Co', '+14152220123', 'America/Chicago')$$, 'a user may own a second business');
select lives_ok($$select public.create_business('Third Co', '+14152220124', 'America/Chicago')$$, '...and a third');
select pg_temp.as_postgres();
select is((select count(*)::int from public.business_members where user_id = (select busy from ids) and role = 'owner'), 2, 'each with its owner row');
create temp table lim as select private.max_owned_businesses() as n;
grant select on lim to authenticated;
select pg_temp.as_user((select busy from ids));
select is((select count(*)::int from (select public.create_business('More Co ' || n, '+14152220123', 'America/Chicago')
                                        from generate_series(3, (select n from lim)) n) made_more),
          (select n - 2 from lim), 'up to the limit');
select throws_ok($$select public.create_business('One Too Many', '+14152220123', 'America/Chicago')$$, '54000', null,
                 'but not more than private.max_owned_businesses()');
select pg_temp.as_postgres();

select * from finish();
rollback;
