-- The lead's history (who, when, from, to for status, assignee and notes), spam onto the do-not-text list,
-- and business_team.
begin;
\ir _helpers.psql
select plan(20);
select pg_temp.two_businesses();
update auth.users set raw_user_meta_data = '{"full_name": "Sam Staff"}' where id = (select staff_a from ids);

-- every change is recorded with who made it
select pg_temp.as_user((select staff_a from ids));
update public.leads set status = 'contacted', assigned_to = (select staff_a from ids) where id = (select lead_a from ids);
update public.leads set notes = 'Voicemail, call after 5' where id = (select lead_a from ids);
update public.leads set notes = 'Voicemail, call after 5' where id = (select lead_a from ids);
select is((select count(*)::int from public.lead_events where lead_id = (select lead_a from ids)), 3,
          'one history row per changed field; saving the same notes again records nothing');
select is((select from_value || '->' || to_value || ' by ' || actor_name || ' via ' || via from public.lead_events
            where lead_id = (select lead_a from ids) and field = 'status'),
          'new->contacted by Sam Staff via dashboard', 'status change: from, to, the member''s name, dashboard');
select is((select to_value::uuid from public.lead_events where lead_id = (select lead_a from ids) and field = 'assigned_to'),
          (select staff_a from ids), 'assignment change records the assignee');
select is((select coalesce(from_value, '-') || ' | ' || to_value from public.lead_events where lead_id = (select lead_a from ids) and field = 'notes'),
          '- | Voicemail, call after 5', 'notes change records the text before and after');
select ok((select bool_and(actor_id = (select staff_a from ids) and created_at is not null) from public.lead_events where lead_id = (select lead_a from ids)),
          'every row has the actor and a time');

-- lead_events/select: members of the business only
select is((select count(*)::int from public.lead_events), 3, 'lead_events/select: a member reads their business''s history');
select throws_ok($$insert into public.lead_events (business_id, lead_id, field, to_value) select business_a, lead_a, 'status', 'won' from ids$$,
                 '42501', null, 'lead_events: members cannot write history themselves');
select throws_ok($$delete from public.lead_events$$, '42501', null, 'lead_events: ...nor erase it');
select pg_temp.as_user((select owner_b from ids));
select is((select count(*)::int from public.lead_events where lead_id = (select lead_a from ids)), 0,
          'lead_events/select: another business''s owner reads none of it');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select count(*) from public.lead_events$$, '42501', null, 'lead_events/select: anon reads nothing');
reset role;

-- removing the assignee unassigns, recorded as a system change
delete from public.business_members where user_id = (select staff_a from ids);
select is((select coalesce(actor_id::text, '-') || ' ' || via || ' ' || coalesce(to_value, 'nobody') from public.lead_events
            where lead_id = (select lead_a from ids) and field = 'assigned_to' order by id desc limit 1),
          '- system nobody', 'a removed member''s lead is unassigned, recorded as a system change');
insert into public.business_members (business_id, user_id, role) select business_a, staff_a, 'staff' from ids;

-- spam: onto the do-not-text list, the conversation ends, waiting texts are canceled
create temp table spam_lead as select pg_temp.submit((select widget_a from ids), pg_temp.random_phone()) as id;
alter table spam_lead add column phone text, add column conversation_id uuid;
update spam_lead s set phone = l.phone, conversation_id = c.id from public.leads l join public.conversations c on c.lead_id = l.id where l.id = s.id;
grant select on spam_lead to authenticated;
select is((select status from public.conversations where id = (select conversation_id from spam_lead)), 'pending', 'the spam lead''s conversation is open');
select pg_temp.as_user((select owner_a from ids));
update public.leads set status = 'spam' where id = (select id from spam_lead);
select pg_temp.as_postgres();
select is((select source || ' ' || matched_rule from public.opt_outs where business_id = (select business_a from ids) and phone = (select phone from spam_lead)),
          'owner spam', 'marking spam puts the number on the do-not-text list (source owner, rule spam)');
select is(pg_temp.state((select conversation_id from spam_lead)), 'opted_out/opted_out', '...which ends its conversation');
select is((select count(*)::int from public.messages where conversation_id = (select conversation_id from spam_lead) and status in ('queued', 'deferred')), 0,
          '...and cancels the text-back still waiting');
select is((select count(*)::int from public.opt_outs where business_id = (select business_b from ids) and phone = (select phone from spam_lead)), 0,
          'only this business''s list');

-- business_team
select pg_temp.as_user((select staff_a from ids));
select is((select string_agg(role || ':' || (name is not null), ',') from public.business_team((select business_a from ids))), 'owner:true,staff:true',
          'business_team: a member lists their team with names, owners first');
select is((select name from public.business_team((select business_a from ids)) where user_id = (select staff_a from ids)), 'Sam Staff',
          '...the name from the sign-up metadata');
select throws_ok($$select * from public.business_team((select business_b from ids))$$, '42501', null, 'business_team: another business is refused');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select * from public.business_team((select business_a from ids))$$, '42501', null, 'business_team: anon may not call it');
reset role;

select * from finish();
rollback;
