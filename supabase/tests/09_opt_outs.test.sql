-- Opt-outs: every policy, role and command, one allowed and one denied case; an entry ends the number's conversations.
begin;
\ir _helpers.psql
select plan(11);
select pg_temp.two_businesses();

select pg_temp.as_user((select owner_a from ids));
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
create temp table owner_stop as select pg_temp.submit((select widget_a from ids), '+15552004444') as lead;
select pg_temp.as_user((select owner_a from ids));
insert into public.opt_outs (business_id, phone) select business_a, '+15552004444' from ids;
select pg_temp.as_postgres();
select is((select status from public.conversations where lead_id = (select lead from owner_stop)), 'opted_out', 'an owner''s do-not-text entry ends the open conversation');
select is((select status || ' ' || status_reason from public.messages where lead_id = (select lead from owner_stop) and kind = 'text_back'), 'canceled opted_out',
          '...and cancels the text-back still waiting');

set local role anon;
select throws_ok('select * from public.opt_outs', '42501', null, 'opt_outs/select: anon reads nothing');
select throws_ok($$insert into public.opt_outs (business_id, phone) select business_a, '+15550005555' from ids$$, '42501', null, 'opt_outs/insert: anon cannot');
reset role;
select ok(private.is_opted_out((select business_a from ids), '+15550001111') and not private.is_opted_out((select business_a from ids), '+15550009876'),
          'is_opted_out answers per business and number');

select * from finish();
rollback;
