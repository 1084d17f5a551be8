-- Businesses and members: every policy, role and command, one allowed and one denied case.
begin;
\ir _helpers.psql
select plan(17);
select pg_temp.two_businesses();

-- businesses
select pg_temp.as_user((select owner_a from ids));
select results_eq('select id from public.businesses', 'select business_a from ids', 'businesses/select: a member reads only their own business');
select is((select count(*)::int from public.businesses where id = (select business_b from ids)), 0, 'businesses/select: another business is invisible');
select lives_ok($$update public.businesses set nudge_delay_minutes = 30 where id = (select business_a from ids)$$, 'businesses/update: owner can change settings');
select pg_temp.as_postgres();
select is((select nudge_delay_minutes from public.businesses where id = (select business_a from ids)), 30, 'businesses/update: the owner''s change is stored');
select pg_temp.as_user((select staff_a from ids));
update public.businesses set nudge_delay_minutes = 99 where id = (select business_a from ids);
select pg_temp.as_user((select owner_a from ids));
update public.businesses set nudge_delay_minutes = 99 where id = (select business_b from ids);
select pg_temp.as_postgres();
select is((select array_agg(nudge_delay_minutes order by id = (select business_a from ids)) from public.businesses where id in ((select business_a from ids), (select business_b from ids))),
          array[60, 30], 'businesses/update: staff and other owners change nothing');
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$update public.businesses set twilio_number = '+15559999999' where id = (select business_a from ids)$$, '42501', null,
                 'businesses/update: the sending number is not an owner setting');
select throws_ok($$insert into public.businesses (name, owner_phone) values ('X', '+15551112222')$$, '42501', null, 'businesses/insert: denied to users');
select throws_ok($$delete from public.businesses$$, '42501', null, 'businesses/delete: denied to users');
select pg_temp.as_postgres();
set local role anon;
select throws_ok('select * from public.businesses', '42501', null, 'businesses/select: anon reads nothing');
reset role;

-- business_members
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.business_members), 2, 'business_members/select: members see their team');
select is((select count(*)::int from public.business_members where business_id = (select business_b from ids)), 0, 'business_members/select: not another team');
select throws_ok($$insert into public.business_members (business_id, user_id, role) select business_a, extra, 'staff' from ids$$, '42501', null,
                 'business_members/insert: staff cannot add members');
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$insert into public.business_members (business_id, user_id, role) select business_a, extra, 'staff' from ids$$, '42501', null,
                 'business_members/insert: not even an owner adds someone by hand (they accept an invitation)');
select pg_temp.as_postgres();
insert into public.business_members (business_id, user_id, role) select business_a, extra, 'staff' from ids;
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$insert into public.business_members (business_id, user_id, role) select business_b, extra, 'owner' from ids$$, '42501', null,
                 'business_members/insert: nobody adds themselves to another business');
delete from public.business_members where user_id = (select owner_a from ids);
select pg_temp.as_user((select staff_a from ids));
delete from public.business_members where user_id = (select extra from ids);
select pg_temp.as_postgres();
select is((select count(*)::int from public.business_members where business_id = (select business_a from ids)), 3,
          'business_members/delete: owner cannot remove themselves, staff cannot remove anyone');
select pg_temp.as_user((select owner_a from ids));
delete from public.business_members where user_id = (select extra from ids);
select pg_temp.as_postgres();
select is((select count(*)::int from public.business_members where user_id = (select extra from ids)), 0, 'business_members/delete: owner removes a member');

set local role anon;
select throws_ok('select * from public.business_members', '42501', null, 'business_members/select: anon reads nothing');
reset role;

select * from finish();
rollback;
