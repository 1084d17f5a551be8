-- Owner notifications: told once per dedupe key; members read and resolve their own business's rows only.
begin;
\ir _helpers.psql
select plan(14);
select pg_temp.two_businesses();

create temp table told as
select private.notify_owner(business_a, 'owner_alert.dead_letter', 'dead_letter:1', 'An owner alert could not be delivered',
                            'Twilio kept failing for 24 hours.', 'critical', '{"attempts": 9}', lead_a) as first,
       private.notify_owner(business_a, 'owner_alert.dead_letter', 'dead_letter:1', 'Again', '', 'critical') as second,
       private.notify_owner(business_b, 'owner_alert.dead_letter', 'dead_letter:1', 'Other business', '') as other
  from ids;
grant select on told to authenticated, anon;
select isnt((select first from told), null, 'notify_owner records a new occurrence');
select is((select second from told), null, '...and the same dedupe key tells nobody again');
select isnt((select other from told), null, 'dedupe keys are per business');
select is((select count(*)::int from public.owner_notifications where business_id = (select business_a from ids)), 1, 'one row for the repeated occurrence');

select pg_temp.as_user((select staff_a from ids));
select is((select array_agg(title) from public.owner_notifications), array['An owner alert could not be delivered'],
          'owner_notifications/select: members read their own business''s notifications only');
select lives_ok($$update public.owner_notifications set resolved_at = now() where id = (select first from told)$$,
                'owner_notifications/update: a member resolves one');
select pg_temp.as_postgres();
select is((select resolved_by from public.owner_notifications where id = (select first from told)), (select staff_a from ids),
          'resolved_by is the member who resolved it');
select pg_temp.as_user((select staff_a from ids));
select throws_ok($$update public.owner_notifications set title = 'changed'$$, '42501', null,
                 'owner_notifications/update: only resolved_at may change');
select throws_ok($$insert into public.owner_notifications (business_id, kind, title, dedupe_key) select business_a, 'x.y', 't', 'k' from ids$$,
                 '42501', null, 'owner_notifications/insert: members cannot write notifications');
select throws_ok($$delete from public.owner_notifications$$, '42501', null, 'owner_notifications/delete: nobody deletes one');

select pg_temp.as_user((select owner_a from ids));
update public.owner_notifications set resolved_at = now() where id = (select other from told);
select pg_temp.as_postgres();
select is((select resolved_at from public.owner_notifications where id = (select other from told)), null,
          'owner_notifications/update: not another business''s row');
select pg_temp.as_user((select owner_a from ids));
update public.owner_notifications set resolved_at = null where id = (select first from told);
select pg_temp.as_postgres();
select is((select resolved_by from public.owner_notifications where id = (select first from told)), null, 'reopening clears who resolved it');

set local role anon;
select throws_ok('select * from public.owner_notifications', '42501', null, 'owner_notifications/select: anon reads nothing');
reset role;
select throws_ok($$select private.notify_owner(gen_random_uuid(), 'x.y', 'k', 't')$$, '23503', null, 'a notification needs a real business');

select * from finish();
rollback;
