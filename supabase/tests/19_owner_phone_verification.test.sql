-- Issue 12, owner phone verification: a new or changed owner phone gets a code by SMS, owner texts wait
-- (saved, visible as waiting) until an owner of the business confirms it, then go out to it.
begin;
\ir _helpers.psql
select plan(33);

create temp table ids as select pg_temp.new_user() as owner, pg_temp.new_user() as staff, pg_temp.new_user() as stranger;
alter table ids add column business uuid, add column other uuid;
update ids set business = (select business_id from pg_temp.fixture_business(p_owner => owner, p_owner_phone_verified => false)),
               other = (select business_id from pg_temp.fixture_business(p_owner => stranger));
insert into public.business_members (business_id, user_id, role) select business, staff, 'staff' from ids;
grant select on ids to anon, authenticated;
create function pg_temp.code() returns text language sql as $$
  select substring(m.body from '^[0-9]{6}') from public.messages m
   where m.business_id = (select business from ids) and m.kind = 'verification' order by m.created_at desc limit 1 $$;

select is((select owner_phone_verified_at from public.businesses where id = (select business from ids)), null, 'a new business''s owner phone is unconfirmed');
select is((select count(*)::int from public.messages m join public.businesses b on b.id = m.business_id
            where b.id = (select business from ids) and m.kind = 'verification' and m.to_phone = b.owner_phone and m.status = 'queued'), 1,
          'a code is texted to the owner phone at once');
select matches((select body from public.messages where business_id = (select business from ids) and kind = 'verification'),
               '^[0-9]{6} is your leadloop code to confirm this phone for .* lead alerts\. It expires in 10 minutes\.', 'it says what it is for');
select ok((select code_hash <> '' and code_hash !~ pg_temp.code() from private.phone_verifications where business_id = (select business from ids) and user_id is null),
          'only a salted hash of the code is stored');

-- owner texts wait
create temp table held as select pg_temp.submit(pg_temp.widget_of((select business from ids)), pg_temp.random_phone()) as lead;
select is((select owner_alert_status from public.leads where id = (select lead from held)), 'awaiting_verification', 'the lead shows its alert waiting');
select is((select status || ' ' || status_reason from public.messages where lead_id = (select lead from held) and kind = 'owner_alert'),
          'deferred owner_phone_unverified', 'the owner alert is saved, deferred, with the reason');
select is((select send_after from public.messages where lead_id = (select lead from held) and kind = 'owner_alert'), 'infinity'::timestamptz,
          'no sweep will release it on its own');
select is((select followup_status from public.leads where id = (select lead from held)), 'started', 'the lead is still texted back (it does not go to the owner phone)');

-- the code stays secret from members, even the owner
select pg_temp.as_user((select owner from ids));
select is((select count(*)::int from public.messages where kind = 'verification'), 0, 'members cannot read the code text (RLS)');
select is((select count(*)::int from public.messages where business_id = (select business from ids) and kind = 'owner_alert'), 1, '...but see the waiting alert');

-- who may confirm
select pg_temp.as_user((select stranger from ids));
select throws_ok($$select public.confirm_owner_phone((select business from ids), '000000')$$, '42501', 'only an owner of this business can do this',
                 'not the owner of another business');
select pg_temp.as_user((select staff from ids));
select throws_ok($$select public.confirm_owner_phone((select business from ids), '000000')$$, '42501', 'only an owner of this business can do this',
                 'not a staff member');
select throws_ok($$select public.resend_owner_phone_code((select business from ids))$$, '42501', 'only an owner of this business can do this',
                 'staff cannot ask for codes either');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select public.confirm_owner_phone(gen_random_uuid(), '000000')$$, '42501', null, 'anon cannot call it at all');
select throws_ok($$select public.resend_owner_phone_code(gen_random_uuid())$$, '42501', null, 'nor ask for a code');
reset role;

-- a wrong code, then the right one (read here as the test's superuser: nobody else can see it)
create temp table code as select pg_temp.code() as code;
grant select on code to authenticated;
select pg_temp.as_user((select owner from ids));
select is(public.confirm_owner_phone((select business from ids), lpad(((select code::int + 1 from code) % 1000000)::text, 6, '0')), false, 'a wrong code is refused');
select pg_temp.as_postgres();
select is((select attempts from private.phone_verifications where business_id = (select business from ids) and user_id is null), 1, 'and counted');
select is((select count(*)::int from public.messages where business_id = (select business from ids) and status = 'queued' and kind = 'owner_alert'), 0,
          'nothing is released by a wrong code');
select pg_temp.as_user((select owner from ids));
select is(public.confirm_owner_phone((select business from ids), ' ' || (select code from code) || ' '), true, 'the right code confirms the phone');
select pg_temp.as_postgres();
select ok((select owner_phone_verified_at is not null from public.businesses where id = (select business from ids)), 'the phone is confirmed');
select is((select status || ' ' || coalesce(status_reason, '-') from public.messages where lead_id = (select lead from held) and kind = 'owner_alert'), 'queued -',
          'the waiting alert goes out now...');
select is((select to_phone from public.messages where lead_id = (select lead from held) and kind = 'owner_alert'),
          (select owner_phone from public.businesses where id = (select business from ids)), '...to the confirmed phone');
select is((select owner_alert_status from public.leads where id = (select lead from held)), 'queued', 'and the lead shows it queued');
create temp table after as select pg_temp.submit(pg_temp.widget_of((select business from ids)), pg_temp.random_phone()) as lead;
select is((select owner_alert_status from public.leads where id = (select lead from after)), 'queued', 'new alerts are no longer held');

-- a changed phone starts over: unconfirmed, unsent owner texts held, a code to the new phone
update public.businesses set owner_phone = '+13035550177', twilio_number = twilio_number where id = (select business from ids);
select is((select owner_phone_verified_at from public.businesses where id = (select business from ids)), null, 'a changed owner phone is unconfirmed again');
select is((select count(*)::int from public.messages where business_id = (select business from ids) and kind = 'owner_alert' and status = 'queued'), 0,
          'owner alerts not yet sent wait again');
select is((select count(*)::int from public.messages where business_id = (select business from ids) and kind = 'verification'), 1,
          'the new phone gets its code only after the throttle minute');
update private.phone_verifications set last_sent_at = now() - interval '2 minutes' where business_id = (select business from ids) and user_id is null;
select pg_temp.as_user((select owner from ids));
select is(public.resend_owner_phone_code((select business from ids)) ->> 'sent', 'true', 'the owner asks for a code for the new phone');
select is((select public.resend_owner_phone_code((select business from ids)) ->> 'reason'), 'throttled', 'asking again at once is throttled');
select pg_temp.as_postgres();
select is((select to_phone from public.messages where business_id = (select business from ids) and kind = 'verification' order by created_at desc limit 1),
          '+13035550177', 'the code goes to the new phone');

-- expired codes and used-up tries
update private.phone_verifications set expires_at = now() - interval '1 second' where business_id = (select business from ids) and user_id is null;
delete from code;
insert into code select pg_temp.code();
select pg_temp.as_user((select owner from ids));
select is(public.confirm_owner_phone((select business from ids), (select code from code)), false, 'an expired code is refused');
select pg_temp.as_postgres();
update private.phone_verifications set expires_at = now() + interval '5 minutes', attempts = 5 where business_id = (select business from ids) and user_id is null;
select pg_temp.as_user((select owner from ids));
select is(public.confirm_owner_phone((select business from ids), (select code from code)), false, 'after five wrong tries even the right code is refused');
select pg_temp.as_postgres();

-- the seed's demo owner is confirmed already
select ok((select owner_phone_verified_at is not null from public.businesses where id = '00000000-0000-4000-8000-000000000001'),
          'the demo business''s owner phone is pre-verified');

select * from finish();
rollback;
