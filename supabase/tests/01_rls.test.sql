-- Row level security and grants: every policy, every role and command, one allowed and one denied case.
begin;
\ir _helpers.psql
select plan(64);

-- Two businesses: A (owner + staff) and B (its own owner). Each sees only its own rows.
create temp table ids as
select pg_temp.new_user() as owner_a, pg_temp.new_user() as staff_a, pg_temp.new_user() as owner_b, pg_temp.new_user() as extra;
alter table ids add column business_a uuid, add column business_b uuid, add column widget_a uuid, add column widget_b uuid, add column lead_a uuid, add column lead_b uuid;
update ids set business_a = pg_temp.new_business(owner_a), business_b = pg_temp.new_business(owner_b);
insert into public.business_members (business_id, user_id, role) select business_a, staff_a, 'staff' from ids;
update ids set widget_a = pg_temp.widget_of(business_a), widget_b = pg_temp.widget_of(business_b);
update ids set lead_a = pg_temp.submit(pg_temp.widget_of(business_a), pg_temp.random_phone()),
               lead_b = pg_temp.submit(pg_temp.widget_of(business_b), pg_temp.random_phone());
insert into public.opt_outs (business_id, phone, source, matched_rule) select business_a, '+15550001111', 'keyword', 'keyword:STOP' from ids;
insert into public.opt_outs (business_id, phone, source, matched_rule) select business_b, '+15550001111', 'keyword', 'keyword:STOP' from ids;
grant select on ids to anon, authenticated;

select ok((select count(*) from pg_tables where schemaname = 'public' and not rowsecurity) = 0, 'RLS is enabled on every public table');
select ok((select count(*) from pg_tables t where schemaname in ('public', 'private') and obj_description(format('%I.%I', schemaname, tablename)::regclass) is null) = 0,
          'every table has a comment');

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
select lives_ok($$insert into public.business_members (business_id, user_id, role) select business_a, extra, 'staff' from ids$$,
                'business_members/insert: owner adds a member');
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

-- subscriptions
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.subscriptions where business_id = (select business_a from ids)), 1, 'subscriptions/select: members read theirs');
select is((select count(*)::int from public.subscriptions where business_id = (select business_b from ids)), 0, 'subscriptions/select: not another''s');
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$update public.subscriptions set conversation_quota = 1000000$$, '42501', null, 'subscriptions/update: owners cannot grant themselves quota');
select throws_ok($$insert into public.subscriptions (business_id, status, current_period_start, current_period_end, conversation_quota)
                   select business_a, 'active', now(), now() + interval '1 day', 5 from ids$$, '42501', null, 'subscriptions/insert: denied');

-- widgets
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.widgets), 1, 'widgets/select: members read their widgets');
select throws_ok($$insert into public.widgets (business_id, allowed_origins, consent_text) select business_a, '{https://x.example}',
                   'Texts from Test Co about your request. Msg & data rates may apply. Reply STOP to opt out.' from ids$$, '42501', null,
                 'widgets/insert: staff cannot create widgets');
update public.widgets set active = false;
select pg_temp.as_postgres();
select ok((select active from public.widgets where business_id = (select business_a from ids)), 'widgets/update: staff change nothing');
select pg_temp.as_user((select owner_a from ids));
select is((select count(*)::int from public.widgets where business_id = (select business_b from ids)), 0, 'widgets/select: not another business''s widgets');
select lives_ok($$insert into public.widgets (business_id, allowed_origins, consent_text) select business_a, '{https://x.example}',
                  'Texts from Test Co about your request. Msg & data rates may apply. Reply STOP to opt out.' from ids$$,
                'widgets/insert: owner creates a widget');
select throws_ok($$insert into public.widgets (business_id, allowed_origins, consent_text) select business_b, '{https://x.example}',
                   'Texts from Test Co about your request. Msg & data rates may apply. Reply STOP to opt out.' from ids$$, '42501', null,
                 'widgets/insert: not for another business');
select lives_ok($$update public.widgets set allowed_origins = '{https://x.example,https://y.example}' where allowed_origins = '{https://x.example}'$$,
                'widgets/update: owner changes a widget');
update public.widgets set active = false where business_id = (select business_b from ids);
delete from public.widgets where business_id = (select business_b from ids);
select lives_ok($$delete from public.widgets where allowed_origins = '{https://x.example,https://y.example}'$$, 'widgets/delete: owner deletes a widget');
select pg_temp.as_postgres();
select is((select count(*)::int from public.widgets where allowed_origins = '{https://x.example,https://y.example}'), 0, 'widgets/delete: the owner''s delete happened');
select ok((select bool_and(active) from public.widgets where business_id = (select business_b from ids)), 'widgets/update+delete: another business''s widget is untouched');

-- leads
select pg_temp.as_user((select staff_a from ids));
select results_eq('select id from public.leads', 'select lead_a from ids', 'leads/select: members read their business''s leads only');
select throws_ok($$insert into public.leads (widget_id, name, phone) select pg_temp.widget_of(business_a), 'X', '+15551230000' from ids$$, '42501', null,
                 'leads/insert: authenticated users cannot insert leads');
select throws_ok($$update public.leads set name = 'changed'$$, '42501', null, 'leads/update: denied');
select throws_ok($$delete from public.leads$$, '42501', null, 'leads/delete: denied');
select pg_temp.as_postgres();
select isnt((select pg_temp.submit(pg_temp.widget_of(business_a), pg_temp.random_phone()) from ids), null, 'leads/insert: anon submits through a widget');
set local role anon;
select set_config('request.headers', '{"origin": "https://shop.example"}', true);
select throws_ok($$insert into public.leads (widget_id, business_id, name, phone) select widget_b, business_a, 'X', '+15551230000' from ids$$,
                 '42501', null, 'leads/insert: anon cannot choose business_id (column grant)');
select throws_ok($$insert into public.leads (widget_id, name, phone, consent_text) values (gen_random_uuid(), 'X', '+15551230000', 'fake')$$,
                 '42501', null, 'leads/insert: anon cannot write consent evidence');
select throws_ok($$insert into public.leads (name, phone) values ('X', '+15551230000')$$, 'P0001', 'widget_id is required.', 'leads/insert: the anon policy needs a widget');
select throws_ok('select * from public.leads', '42501', null, 'leads/select: anon reads nothing');
select throws_ok('select * from public.messages', '42501', null, 'messages/select: anon reads nothing');
select throws_ok('select * from public.conversations', '42501', null, 'conversations/select: anon reads nothing');
select throws_ok('select * from public.opt_outs', '42501', null, 'opt_outs/select: anon reads nothing');
select throws_ok('select * from public.widgets', '42501', null, 'widgets/select: anon reads nothing');
select is((public.get_widget_config((select widget_a from ids)) ->> 'consent_text') like '%Reply STOP to opt out%', true,
          'get_widget_config: anon reads an active widget''s public configuration');
select is(public.get_widget_config(gen_random_uuid()), null, 'get_widget_config: unknown widget gives null');
select throws_ok($$select * from public.claim_outbound_messages()$$, '42501', null, 'RPCs: anon cannot claim messages');
reset role;
update public.widgets set active = false where business_id = (select business_b from ids);
set local role anon;
select is(public.get_widget_config((select widget_b from ids)), null, 'get_widget_config: inactive widget gives null');
reset role;

-- conversations and messages
select pg_temp.as_user((select owner_a from ids));
select ok((select count(*) from public.conversations) >= 1 and (select bool_and(business_id = (select business_a from ids)) from public.conversations),
          'conversations/select: members read their business''s conversations only');
select ok((select count(*) from public.messages) >= 2 and (select bool_and(business_id = (select business_a from ids)) from public.messages),
          'messages/select: members read their business''s messages only');
select throws_ok($$insert into public.messages (business_id, direction, kind, to_phone, from_phone, body, status)
                   select business_a, 'outbound', 'owner_alert', '+15551230000', '+15551230001', 'x', 'queued' from ids$$, '42501', null,
                 'messages/insert: users cannot queue texts');
select throws_ok($$update public.conversations set status = 'completed'$$, '42501', null, 'conversations/update: denied to users');
select throws_ok($$select * from public.claim_outbound_messages()$$, '42501', null, 'RPCs: authenticated users cannot claim messages');
select throws_ok($$select private.lifecycle_sweep()$$, '42501', null, 'private functions are not callable by users');

-- opt_outs
select is((select count(*)::int from public.opt_outs), 1, 'opt_outs/select: members read their own suppression list only');
select lives_ok($$insert into public.opt_outs (business_id, phone) select business_a, '+15550002222' from ids$$, 'opt_outs/insert: owner adds a do-not-text number');
select throws_ok($$insert into public.opt_outs (business_id, phone) select business_b, '+15550002222' from ids$$, '42501', null,
                 'opt_outs/insert: not to another business''s list');
select throws_ok($$delete from public.opt_outs$$, '42501', null, 'opt_outs/delete: nobody lifts an opt-out by hand');
select pg_temp.as_user((select staff_a from ids));
select throws_ok($$insert into public.opt_outs (business_id, phone) select business_a, '+15550003333' from ids$$, '42501', null,
                 'opt_outs/insert: staff cannot');
select pg_temp.as_postgres();
select is((select source from public.opt_outs where phone = '+15550002222'), 'owner', 'opt_outs/insert: owner entries are recorded as source owner');
create temp table owner_stop as select pg_temp.submit((select widget_a from ids), '+15550004444') as lead;
select pg_temp.as_user((select owner_a from ids));
insert into public.opt_outs (business_id, phone) select business_a, '+15550004444' from ids;
select pg_temp.as_postgres();
select is((select status from public.conversations where lead_id = (select lead from owner_stop)), 'opted_out', 'an owner''s do-not-text entry ends the open conversation');
select is((select status || ' ' || status_reason from public.messages where lead_id = (select lead from owner_stop) and kind = 'text_back'), 'canceled opted_out',
          '...and cancels the text-back still waiting');

-- service_role acts only through RPCs but is not blocked by RLS
set local role service_role;
select ok((select count(*) from public.leads) >= 3, 'service_role reads across businesses (bypasses RLS)');
reset role;

select * from finish();
rollback;
