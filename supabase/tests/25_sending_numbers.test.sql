-- Sending numbers: who reads a business's number (owners only, by their own JWT) and who sets it
-- (the service role alone, one business per number).
begin;
\ir _helpers.psql
select plan(30);
select pg_temp.two_businesses();

-- business_sending_number
select pg_temp.as_user((select owner_a from ids));
select is((select count(*)::int from public.business_sending_number((select business_a from ids))), 1,
          'business_sending_number: the owner reads their business''s number');
select is((select twilio_number from public.business_sending_number((select business_a from ids))),
          (select twilio_number from public.businesses where id = (select business_a from ids)),
          'business_sending_number: it is the business''s number');
select is((select count(*)::int from public.business_sending_number((select business_b from ids))), 0,
          'business_sending_number: another business''s owner gets nothing');
select is((select count(*)::int from public.business_sending_number(gen_random_uuid())), 0,
          'business_sending_number: a business that does not exist looks the same as one that is not yours');
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.business_sending_number((select business_a from ids))), 0,
          'business_sending_number: staff get nothing (numbers are an owner setting)');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select * from public.business_sending_number((select business_a from ids))$$, '42501', null,
                 'business_sending_number: anon may not call it');
reset role;

-- set_business_sending_number
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$select public.set_business_sending_number((select business_a from ids), '+14155550101', 'PN' || repeat('a', 32))$$,
                 '42501', null, 'set_business_sending_number: an owner cannot set a number without Twilio');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select public.set_business_sending_number((select business_a from ids), '+14155550101', 'PN' || repeat('a', 32))$$,
                 '42501', null, 'set_business_sending_number: anon may not call it');
reset role;

create temp table previous_a as select twilio_number from public.businesses where id = (select business_a from ids);
grant select on ids, previous_a to service_role;
set local role service_role;
select is((select public.set_business_sending_number((select business_a from ids), '+14155550101', 'PN' || repeat('a', 32)) ->> 'previous_number'),
          (select twilio_number from previous_a), 'set_business_sending_number: the service role sets it and learns what it replaced');
select is((select twilio_number || ' ' || twilio_number_sid from public.businesses where id = (select business_a from ids)),
          '+14155550101 PN' || repeat('a', 32), 'set_business_sending_number: number and SID are stored');
select is((select public.set_business_sending_number((select business_a from ids), '+14155550101', 'PN' || repeat('a', 32)) ->> 'previous_number'),
          null, 'set_business_sending_number: setting the same number again replaces nothing');
select throws_ok($$select public.set_business_sending_number((select business_b from ids), '+14155550101', 'PN' || repeat('b', 32))$$,
                 '23505', null, 'set_business_sending_number: a number held by another business is refused');
select throws_ok($$select public.set_business_sending_number((select business_b from ids), '+14155550102', 'PN' || repeat('a', 32))$$,
                 '23505', null, 'set_business_sending_number: so is a SID held by another business');
select throws_ok($$select public.set_business_sending_number(gen_random_uuid(), '+14155550103', 'PN' || repeat('c', 32))$$,
                 'P0002', null, 'set_business_sending_number: a business that does not exist is an error');
select throws_ok($$select public.set_business_sending_number((select business_b from ids), '4155550104', 'PN' || repeat('d', 32))$$,
                 '22023', null, 'set_business_sending_number: the number must be E.164');

-- Replacing a number keeps the old one as the business's, so it never passes to another business.
select is((select public.set_business_sending_number((select business_a from ids), '+14155550105', 'PN' || repeat('f', 32)) ->> 'previous_sid'),
          'PN' || repeat('a', 32), 'set_business_sending_number: replacing a number returns the one replaced');
select is((select array_agg(phone_number || ' ' || coalesce(twilio_number_sid, '-') order by twilio_number_sid nulls first) from public.previous_sending_numbers
            where business_id = (select business_a from ids)),
          array[(select twilio_number from previous_a) || ' -', '+14155550101 PN' || repeat('a', 32)],
          'previous_sending_numbers: every number the business replaced is kept as its own');
select ok(public.sending_number_taken((select business_b from ids), '+14155550101'),
          'sending_number_taken: a previous number of another business is taken');
select ok(not public.sending_number_taken((select business_a from ids), '+14155550101', 'PN' || repeat('a', 32)),
          'sending_number_taken: but not for the business that had it');
select throws_ok($$select public.set_business_sending_number((select business_b from ids), '+14155550101', 'PN' || repeat('a', 32))$$,
                 '23505', null, 'set_business_sending_number: another business cannot connect a previous number');
select is((select public.set_business_sending_number((select business_a from ids), '+14155550101', 'PN' || repeat('a', 32)) ->> 'previous_number'),
          '+14155550105', 'set_business_sending_number: the business connects its previous number again');
select is((select count(*)::int from public.previous_sending_numbers where phone_number = '+14155550101'), 0,
          'previous_sending_numbers: a number connected again is current, not previous');
select is(array(select public.sending_numbers_taken((select business_b from ids),
                   array['+14155550177', '+14155550101', (select twilio_number from public.businesses where id = (select business_b from ids)), '+14155550178'],
                   array['PN' || repeat('9', 32), null, null, 'PN' || repeat('f', 32)])),
          array['+14155550101', '+14155550178'],
          'sending_numbers_taken: of a list, the numbers (or SIDs) another business sends or sent from, not the caller''s own');
select is(array(select public.sending_numbers_taken((select business_a from ids), array['+14155550101', '+14155550105'], array[null, null]::text[])),
          '{}'::text[], 'sending_numbers_taken: a business''s current and previous numbers are not taken for it');
reset role;

select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.previous_sending_numbers), 2,
          'previous_sending_numbers/select: members read their business''s previous numbers');
select pg_temp.as_user((select owner_b from ids));
select is((select count(*)::int from public.previous_sending_numbers), 0,
          'previous_sending_numbers/select: not another business''s');
select throws_ok($$insert into public.previous_sending_numbers (phone_number, business_id) select '+14155550199', business_b from ids$$,
                 '42501', null, 'previous_sending_numbers/insert: denied to users');
select throws_ok($$select public.sending_number_taken((select business_b from ids), '+14155550101')$$,
                 '42501', null, 'sending_number_taken: users may not probe other businesses'' numbers');
select throws_ok($$select public.sending_numbers_taken((select business_b from ids), array['+14155550101'], array[null]::text[])$$,
                 '42501', null, 'sending_numbers_taken: nor list them');

select pg_temp.as_user((select owner_a from ids));
select throws_ok($$update public.businesses set twilio_number_sid = 'PN' || repeat('e', 32) where id = (select business_a from ids)$$,
                 '42501', null, 'businesses/update: the number''s SID is not an owner setting either');

select * from finish();
rollback;
