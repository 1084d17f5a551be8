-- Working a lead: status, notes and assignee under RLS (exactly those columns), the unread marker and mark_lead_read.
begin;
\ir _helpers.psql
select plan(27);
select pg_temp.two_businesses();

-- defaults and constraints
select is((select status || ' ' || unread_count || ' ' || coalesce(notes, '-') || ' ' || coalesce(assigned_to::text, '-')
             from public.leads where id = (select lead_a from ids)),
          'new 0 - -', 'a new lead is status new, nothing unread, no notes, nobody assigned');
select throws_ok($$update public.leads set status = 'called' where id = (select lead_a from ids)$$, '23514', null,
                 'status is one of new, contacted, booked, won, lost, spam');
select throws_ok($$update public.leads set notes = repeat('x', 4001) where id = (select lead_a from ids)$$, '23514', null,
                 'notes are capped at 4000 characters');

-- leads/update: a member works their own business's leads
select pg_temp.as_user((select staff_a from ids));
select lives_ok($$update public.leads set status = 'contacted', notes = 'Called, voicemail', assigned_to = (select owner_a from ids)
                   where id = (select lead_a from ids)$$,
                'leads/update: a member sets status, notes and assignee of their business''s lead');
select pg_temp.as_postgres();
select is((select status || ' ' || notes || ' ' || (assigned_to = (select owner_a from ids)) from public.leads where id = (select lead_a from ids)),
          'contacted Called, voicemail true', '...and the change is stored');

select pg_temp.as_user((select staff_a from ids));
select throws_ok($$update public.leads set name = 'Changed' where id = (select lead_a from ids)$$, '42501', null,
                 'leads/update: any other column is refused (name)');
select throws_ok($$update public.leads set unread_count = 0 where id = (select lead_a from ids)$$, '42501', null,
                 'leads/update: the unread marker is not the member''s to set');
select throws_ok($$update public.leads set followup_status = 'not_texted' where id = (select lead_a from ids)$$, '42501', null,
                 'leads/update: nor the follow-up state');
select throws_ok($$update public.leads set status = 'won', business_id = (select business_b from ids) where id = (select lead_a from ids)$$, '42501', null,
                 'leads/update: nor the business');
select throws_ok($$update public.leads set assigned_to = (select owner_b from ids) where id = (select lead_a from ids)$$, '23503', null,
                 'the assignee must be a member of the lead''s business (owner of another business refused)');
select throws_ok($$update public.leads set assigned_to = (select extra from ids) where id = (select lead_a from ids)$$, '23503', null,
                 '...and a user of no business is refused');
update public.leads set status = 'spam' where id = (select lead_b from ids);
select pg_temp.as_postgres();
select is((select status from public.leads where id = (select lead_b from ids)), 'new',
          'leads/update: another business''s lead is not touched');

select pg_temp.as_user((select owner_a from ids));
select lives_ok($$update public.leads set assigned_to = null where id = (select lead_a from ids)$$, 'a lead can be unassigned');
select pg_temp.as_postgres();

set local role anon;
select throws_ok($$update public.leads set status = 'won'$$, '42501', null, 'leads/update: anon changes nothing');
reset role;

-- removing a member unassigns their leads, and only theirs
update public.leads set assigned_to = (select staff_a from ids) where id = (select lead_a from ids);
delete from public.business_members where user_id = (select staff_a from ids);
select is((select assigned_to from public.leads where id = (select lead_a from ids)), null, 'a removed member''s leads are unassigned');
select is((select business_id from public.leads where id = (select lead_a from ids)), (select business_a from ids), '...and stay in their business');
insert into public.business_members (business_id, user_id, role) select business_a, staff_a, 'staff' from ids;

-- unread: every inbound text tied to the lead raises the marker
create temp table biz_a as select * from public.businesses where id = (select business_a from ids);
create temp table phone_a as select phone from public.leads where id = (select lead_a from ids);
select public.receive_inbound_sms('SM30000000000000000000000000000001', (select phone from phone_a), (select twilio_number from biz_a), 'Tomorrow at 9 works');
select public.process_inbound_sms('SM30000000000000000000000000000001');
select public.receive_inbound_sms('SM30000000000000000000000000000002', (select phone from phone_a), (select twilio_number from biz_a), 'HELP');
select public.process_inbound_sms('SM30000000000000000000000000000002');
select public.receive_inbound_sms('SM30000000000000000000000000000001', (select phone from phone_a), (select twilio_number from biz_a), 'Tomorrow at 9 works');
select public.process_inbound_sms('SM30000000000000000000000000000001');
select is((select unread_count from public.leads where id = (select lead_a from ids)), 2,
          'each inbound text from the lead counts once (a replayed MessageSid does not)');
select is((select last_inbound_at from public.leads where id = (select lead_a from ids)),
          (select max(created_at) from public.messages where lead_id = (select lead_a from ids) and direction = 'inbound'),
          'last_inbound_at is the newest inbound text');
select is((select unread_count from public.leads where id = (select lead_b from ids)), 0, 'other leads are untouched');

-- a text from an unknown number attached to the lead later counts then
insert into public.messages (business_id, direction, kind, to_phone, from_phone, body, status)
select business_a, 'inbound', 'inbound', (select twilio_number from biz_a), '+15550009999', 'who is this', 'received' from ids;
select is((select unread_count from public.leads where id = (select lead_a from ids)), 2, 'a text tied to no lead counts for none');
update public.messages set lead_id = (select lead_a from ids) where from_phone = '+15550009999';
select is((select unread_count from public.leads where id = (select lead_a from ids)), 3, '...until it is attached to one');

-- mark_lead_read
select pg_temp.as_user((select staff_a from ids));
select lives_ok($$select public.mark_lead_read((select lead_a from ids))$$, 'mark_lead_read: a member reads their business''s lead');
select is((select unread_count from public.leads where id = (select lead_a from ids)), 0, '...and its unread count is 0');
select throws_ok($$select public.mark_lead_read((select lead_b from ids))$$, '42501', null,
                 'mark_lead_read: another business''s lead is refused');
select throws_ok($$select public.mark_lead_read(gen_random_uuid())$$, '42501', null, 'mark_lead_read: an unknown lead is refused the same way');
select pg_temp.as_user((select extra from ids));
select throws_ok($$select public.mark_lead_read((select lead_a from ids))$$, '42501', null, 'mark_lead_read: a user of no business is refused');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select public.mark_lead_read((select lead_a from ids))$$, '42501', null, 'mark_lead_read: anon may not call it');
reset role;

select * from finish();
rollback;
