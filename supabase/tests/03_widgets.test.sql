-- Widgets: every policy, role and command, one allowed and one denied case; the one read anon has.
begin;
\ir _helpers.psql
select plan(15);
select pg_temp.two_businesses();

-- widgets
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.widgets), 1, 'widgets/select: members read their widgets');
select throws_ok($$insert into public.widgets (business_id, allowed_origins, consent_text) select business_a, '{https://x.example}',
                   format('Texts from %s about your request. Msg & data rates may apply. Reply STOP to opt out, HELP for help.', b.name)
                   from ids join public.businesses b on b.id = business_a$$, '42501', null,
                 'widgets/insert: staff cannot create widgets');
update public.widgets set active = false;
select pg_temp.as_postgres();
select ok((select active from public.widgets where business_id = (select business_a from ids)), 'widgets/update: staff change nothing');
select pg_temp.as_user((select owner_a from ids));
select is((select count(*)::int from public.widgets where business_id = (select business_b from ids)), 0, 'widgets/select: not another business''s widgets');
select lives_ok($$insert into public.widgets (business_id, allowed_origins, consent_text) select business_a, '{https://x.example}',
                  format('Texts from %s about your request. Msg & data rates may apply. Reply STOP to opt out, HELP for help.', b.name)
                  from ids join public.businesses b on b.id = business_a$$,
                'widgets/insert: owner creates a widget');
-- (The consent check cannot read another business's name, so it neither refuses nor names it: RLS refuses.)
select throws_ok($$insert into public.widgets (business_id, allowed_origins, consent_text) select business_b, '{https://x.example}',
                   'Texts from Test Co about your request. Msg & data rates may apply. Reply STOP to opt out, HELP for help.' from ids$$, '42501', null,
                 'widgets/insert: not for another business');
select lives_ok($$update public.widgets set allowed_origins = '{https://x.example,https://y.example}' where allowed_origins = '{https://x.example}'$$,
                'widgets/update: owner changes a widget...');
select pg_temp.as_postgres();
select is((select count(*)::int from public.widgets where business_id = (select business_a from ids) and allowed_origins = '{https://x.example,https://y.example}'), 1,
          '...and the change is stored (RLS did not silently skip it)');
select pg_temp.as_user((select owner_a from ids));
update public.widgets set active = false where business_id = (select business_b from ids);
delete from public.widgets where business_id = (select business_b from ids);
select lives_ok($$delete from public.widgets where allowed_origins = '{https://x.example,https://y.example}'$$, 'widgets/delete: owner deletes a widget');
select pg_temp.as_postgres();
select is((select count(*)::int from public.widgets where allowed_origins = '{https://x.example,https://y.example}'), 0, 'widgets/delete: the owner''s delete happened');
select ok((select bool_and(active) from public.widgets where business_id = (select business_b from ids)), 'widgets/update+delete: another business''s widget is untouched');

set local role anon;
select throws_ok('select * from public.widgets', '42501', null, 'widgets/select: anon reads nothing');
select is((public.get_widget_config((select widget_a from ids)) ->> 'consent_text') like '%Reply STOP to opt out%', true,
          'get_widget_config: anon reads an active widget''s public configuration');
select is(public.get_widget_config(gen_random_uuid()), null, 'get_widget_config: unknown widget gives null');
reset role;
update public.widgets set active = false where business_id = (select business_b from ids);
set local role anon;
select is(public.get_widget_config((select widget_b from ids)), null, 'get_widget_config: inactive widget gives null');
reset role;

select * from finish();
rollback;
