-- Issue 9 item 4: an owner sends a test lead from the dashboard; it goes through the widget's own intake
-- (from its first allowed site, with consent) to the owner phone, flagged as a test. Nobody else can.
begin;
\ir _helpers.psql
select plan(12);

create temp table ids as select pg_temp.new_user() as owner, pg_temp.new_user() as staff, pg_temp.new_user() as stranger;
alter table ids add column business uuid, add column widget uuid;
update ids set business = (select business_id from pg_temp.fixture_business(p_owner => owner));
update ids set widget = pg_temp.widget_of(business);
insert into public.business_members (business_id, user_id, role) select business, staff, 'staff' from ids;
grant select on ids to anon, authenticated;

-- denied
set local role anon;
select throws_ok($$select public.send_test_lead((select widget from ids))$$, '42501', null, 'anon cannot send a test lead');
reset role;
select pg_temp.as_user((select staff from ids));
select throws_ok($$select public.send_test_lead((select widget from ids))$$, '42501', 'only an owner of this business can do this', 'staff cannot');
select pg_temp.as_user((select stranger from ids));
select throws_ok($$select public.send_test_lead((select widget from ids))$$, '42501', 'only an owner of this business can do this',
                 'the owner of another business cannot');
select throws_ok($$select public.send_test_lead(gen_random_uuid())$$, '42501', 'only an owner of this business can do this',
                 'a widget that does not exist is refused the same way');

-- allowed: the owner, through the same intake as the widget
select pg_temp.as_user((select owner from ids));
select set_config('request.headers', '{"origin": "http://127.0.0.1:54323", "x-real-ip": "198.51.100.23", "user-agent": "dashboard"}', true);
create temp table sent as select public.send_test_lead((select widget from ids)) as id, current_setting('request.headers', true)::jsonb ->> 'origin' as origin_after;
select pg_temp.as_postgres();
grant select on sent to authenticated;
select is((select is_test from public.leads where id = (select id from sent)), true, 'the lead is flagged as a test');
select is((select l.phone = b.owner_phone from public.leads l join public.businesses b on b.id = l.business_id where l.id = (select id from sent)), true,
          'to the owner phone');
select is((select sms_consent and consent_text ilike '%Reply STOP%' from public.leads where id = (select id from sent)), true,
          'with consent and the consent text the form shows');
select is((select count(*)::int from public.messages where lead_id = (select id from sent) and kind = 'owner_alert'), 1, 'the owner alert is queued');
select ok((select followup_status in ('started', 'deferred') from public.leads where id = (select id from sent)),
          'and the text-back is decided as for a real lead (now, or in the lead''s daytime)');
select is((select origin_after from sent), 'http://127.0.0.1:54323', 'the request headers are put back as they were');

select pg_temp.as_user((select owner from ids));
update public.widgets set active = false where id = (select widget from ids);
select throws_ok($$select public.send_test_lead((select widget from ids))$$, '22023', 'this form is off: turn it on to send a test lead',
                 'an inactive form cannot');
select pg_temp.as_postgres();
select is((select count(*)::int from public.leads where is_test and business_id = (select business from ids)), 1, 'nothing else was created');

select * from finish();
rollback;
