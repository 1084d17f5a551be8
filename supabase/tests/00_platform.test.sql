-- The platform contract every migration relies on: Supabase's roles, auth helpers,
-- default-deny for the API roles, pg_cron and pg_net. Holds locally and on Supabase.
begin;
select plan(20);

select has_role('anon', 'anon role exists');
select has_role('authenticated', 'authenticated role exists');
select has_role('service_role', 'service_role role exists');
select has_role('authenticator', 'authenticator role exists');
select is_member_of('anon', 'authenticator', 'authenticator can become anon');
select is_member_of('authenticated', 'authenticator', 'authenticator can become authenticated');
select is_member_of('service_role', 'authenticator', 'authenticator can become service_role');
select ok((select rolbypassrls from pg_roles where rolname = 'service_role'), 'service_role bypasses RLS');
select ok(not (select rolinherit from pg_roles where rolname = 'authenticator'), 'authenticator does not inherit its roles');

-- auth.uid() reads the sub of request.jwt.claims, set the way PostgREST sets it.
select set_config('request.jwt.claims', '{"sub":"6f1c1bd4-5f28-4c8a-9d0e-2a7a4c1e9b11","role":"authenticated","email":"a@b.test"}', true);
select is(auth.uid(), '6f1c1bd4-5f28-4c8a-9d0e-2a7a4c1e9b11'::uuid, 'auth.uid() is the sub claim');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.jwt() ->> 'email', 'a@b.test', 'auth.jwt() exposes every claim');

-- A new table with RLS and no policy shows the API roles nothing; without grants they are refused.
create table public.platform_probe (id int primary key, secret text);
alter table public.platform_probe enable row level security;
insert into public.platform_probe values (1, 'hidden');
create table public.platform_ungranted (id int primary key);
revoke all on public.platform_ungranted from anon, authenticated;

set local role anon;
select is((select count(*) from public.platform_probe), 0::bigint, 'anon sees no rows of a table without policies');
select throws_ok('select * from public.platform_ungranted', '42501', null, 'anon is refused a table without grants');
set local role authenticated;
select is((select count(*) from public.platform_probe), 0::bigint, 'authenticated sees no rows of a table without policies');
select throws_ok('insert into public.platform_probe values (2, $$x$$)', '42501', null, 'authenticated cannot insert without a policy');
reset role;

select isnt(cron.schedule('platform-probe', '* * * * *', 'select 1'), null::bigint, 'pg_cron schedules a job');

select net.http_post('http://127.0.0.1:9/probe', '{"hello":"world"}'::jsonb) as probe_request_id \gset
select is(
  (select convert_from(body, 'UTF8')::jsonb from net.http_request_queue where id = :probe_request_id and method = 'POST'),
  '{"hello":"world"}'::jsonb,
  'net.http_post queues a request with its body'
);

-- What people type around a number goes (the form and the alert phones share this), and nothing else does.
select is(private.clean_phone(E'(415)\u00a0555-01.23 ' || chr(9)), '4155550123', 'spaces of any kind, brackets, dots and dashes are removed');
select is(private.clean_phone('+1 415 555 0123 ext 7'), '+14155550123ext7', 'anything else stays for is_e164 to refuse');
select * from finish();
rollback;
