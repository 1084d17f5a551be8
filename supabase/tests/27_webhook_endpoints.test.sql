-- Webhook endpoints: owners alone manage them (staff, other owners and anon refused), the signing secret is
-- shown once and never readable back, the URL policy follows the platform mode, events come from the catalog.
begin;
\ir _helpers.psql
select plan(53);
select pg_temp.two_businesses();
insert into vault.secrets (name, secret) values ('platform_mode', 'local')
  on conflict (name) where name is not null do update set secret = 'local';

-- create_webhook_endpoint: owners only
select pg_temp.as_user((select owner_a from ids));
create temp table made as
select * from public.create_webhook_endpoint((select business_a from ids), 'https://hooks.example.com/leadloop',
                                             array['lead.created', 'summary.ready', 'lead.created'], ' CRM ');
select pg_temp.as_postgres();
grant select on made to authenticated, anon;
select matches((select signing_secret from made), '^whsec_[A-Za-z0-9+/]{43}=$', 'create_webhook_endpoint: an owner gets a whsec_ secret of 32 random bytes');
select is((select decrypted_secret from vault.decrypted_secrets where id = (select secret from public.webhook_endpoints where id = (select endpoint_id from made))),
          (select signing_secret from made), 'the secret is kept in the vault, the endpoint holds its id');
select is((select secret_hint from public.webhook_endpoints where id = (select endpoint_id from made)),
          'whsec_…' || right(rtrim((select signing_secret from made), '='), 4), 'the hint is its last four characters');
select is((select events || array[description, enabled::text] from public.webhook_endpoints where id = (select endpoint_id from made)),
          array['lead.created', 'summary.ready', 'CRM', 'true'], 'events are stored once each and sorted; the endpoint starts enabled');

select pg_temp.as_user((select staff_a from ids));
select throws_ok($$select * from public.create_webhook_endpoint((select business_a from ids), 'https://x.example.com', '{lead.created}')$$,
                 '42501', null, 'create_webhook_endpoint: staff are refused');
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select * from public.create_webhook_endpoint((select business_a from ids), 'https://x.example.com', '{lead.created}')$$,
                 '42501', null, 'create_webhook_endpoint: another business''s owner is refused');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select * from public.create_webhook_endpoint((select business_a from ids), 'https://x.example.com', '{lead.created}')$$,
                 '42501', null, 'create_webhook_endpoint: anon may not call it');
reset role;

-- The table under RLS
select pg_temp.as_user((select owner_a from ids));
select is((select array_agg(url) from public.webhook_endpoints), array['https://hooks.example.com/leadloop'],
          'webhook_endpoints/select: the owner reads their endpoints');
select throws_ok('select secret from public.webhook_endpoints', '42501', null, 'webhook_endpoints/select: the vault reference is not readable, even by the owner');
select throws_ok('select previous_secret from public.webhook_endpoints', '42501', null, '...nor the rotated-out one');
select throws_ok($$insert into public.webhook_endpoints (business_id, url, events, secret)
                   select business_a, 'https://x.example.com', '{lead.created}', (select secret from public.webhook_endpoints limit 1) from ids$$,
                 '42501', null, 'webhook_endpoints/insert: no client chooses the secret (or another endpoint''s)');
select lives_ok($$insert into public.webhook_endpoints (business_id, url, events) select business_a, 'https://direct.example.com', '{lead.created}' from ids$$,
                'webhook_endpoints/insert: the owner may insert directly; the trigger makes the secret (rotate to see one)');
select throws_ok($$update public.webhook_endpoints set secret = gen_random_uuid()$$, '42501', null, 'webhook_endpoints/update: the vault reference is not writable');
select lives_ok($$update public.webhook_endpoints set events = '{lead.opted_out,lead.created}', description = 'Zapier' where id = (select endpoint_id from made)$$,
                'webhook_endpoints/update: the owner changes events and description');
select throws_ok($$update public.webhook_endpoints set secret_hint = 'whsec_…zzzz'$$, '42501', null, 'webhook_endpoints/update: not the secret columns');
select throws_ok($$update public.webhook_endpoints set business_id = (select business_b from ids)$$, '42501', null, 'webhook_endpoints/update: nor the business');
select pg_temp.as_postgres();
select is((select events from public.webhook_endpoints where id = (select endpoint_id from made)), array['lead.created', 'lead.opted_out'], 'the change is stored');

select pg_temp.as_postgres();
select isnt((select secret from public.webhook_endpoints where url = 'https://direct.example.com'), null, '...and it has one in the vault');
delete from public.webhook_endpoints where url = 'https://direct.example.com';
select pg_temp.as_user((select staff_a from ids));
select throws_ok($$insert into public.webhook_endpoints (business_id, url, events) select business_a, 'https://x.example.com', '{lead.created}' from ids$$,
                 '42501', null, 'webhook_endpoints/insert: staff are refused');
select is((select count(*)::int from public.webhook_endpoints), 0, 'webhook_endpoints/select: staff see none');
update public.webhook_endpoints set enabled = false;
delete from public.webhook_endpoints;
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$insert into public.webhook_endpoints (business_id, url, events) select business_a, 'https://x.example.com', '{lead.created}' from ids$$,
                 '42501', null, 'webhook_endpoints/insert: another business''s owner is refused');
select is((select count(*)::int from public.webhook_endpoints), 0, 'webhook_endpoints/select: another business''s owner sees none');
update public.webhook_endpoints set enabled = false;
delete from public.webhook_endpoints;
select pg_temp.as_postgres();
select is((select enabled::text || ' ' || count(*) over () from public.webhook_endpoints where business_id = (select business_a from ids)), 'true 1',
          'webhook_endpoints/update and /delete: staff and another owner change and delete nothing');
set local role anon;
select throws_ok('select id from public.webhook_endpoints', '42501', null, 'webhook_endpoints/select: anon is refused');
select throws_ok($$insert into public.webhook_endpoints (business_id, url, events) select business_a, 'https://x.example.com', '{lead.created}' from ids$$,
                 '42501', null, 'webhook_endpoints/insert: anon is refused');
select throws_ok('update public.webhook_endpoints set enabled = false', '42501', null, 'webhook_endpoints/update: anon is refused');
select throws_ok('delete from public.webhook_endpoints', '42501', null, 'webhook_endpoints/delete: anon is refused');
reset role;

-- The URL policy
select pg_temp.as_user((select owner_a from ids));
select throws_like($$select * from public.create_webhook_endpoint((select business_a from ids), 'ftp://files.example.com/in', '{lead.created}')$$,
                   'url: the address must start with https://%', 'url: another scheme is refused');
select throws_like($$select * from public.create_webhook_endpoint((select business_a from ids), 'https://user:pw@hooks.example.com/', '{lead.created}')$$,
                   'url: the address must not contain a user name or password', 'url: credentials are refused');
select throws_like($$select * from public.create_webhook_endpoint((select business_a from ids), 'https://hooks.example.com/#x', '{lead.created}')$$,
                   'url: the address must not contain a #fragment', 'url: a fragment is refused');
select throws_like($$select * from public.create_webhook_endpoint((select business_a from ids), 'https://hooks.example.com:70000/', '{lead.created}')$$,
                   'url: the port must be between 1 and 65535', 'url: a port out of range is refused');
select throws_like($$select * from public.create_webhook_endpoint((select business_a from ids), 'https://bad_host.example.com/', '{lead.created}')$$,
                   'url: the address has no valid host name', 'url: an invalid host is refused');
select throws_like($$select * from public.create_webhook_endpoint((select business_a from ids), 'https://hooks.example.com/ a', '{lead.created}')$$,
                   'url: the address must not contain spaces', 'url: spaces are refused');
select throws_like($$select * from public.create_webhook_endpoint((select business_a from ids), 'http://hooks.example.com/', '{lead.created}')$$,
                   'url: the address must start with https:// (http:// only for 127.0.0.1 or localhost%', 'url: plain http to the internet is refused, even locally');
select lives_ok($$select * from public.create_webhook_endpoint((select business_a from ids), 'http://127.0.0.1:8080/hook', '{lead.created}')$$,
                'url: on a local platform, http://127.0.0.1 is allowed');
select lives_ok($$select * from public.create_webhook_endpoint((select business_a from ids), 'http://localhost:8080/hook', '{lead.created}')$$,
                'url: ...and http://localhost');
select pg_temp.as_postgres();
update vault.secrets set secret = 'production' where name = 'platform_mode';
select pg_temp.as_user((select owner_a from ids));
select throws_like($$select * from public.create_webhook_endpoint((select business_a from ids), 'http://127.0.0.1:8080/hook', '{lead.created}')$$,
                   'url: the address must start with https://', 'url: in production, plain http is refused even on loopback');
select throws_like($$update public.webhook_endpoints set url = 'http://localhost/x' where id = (select endpoint_id from made)$$,
                   'url: the address must start with https://', 'url: the policy applies to changes too');
select lives_ok($$update public.webhook_endpoints set enabled = false where url like 'http://%'$$,
                'an endpoint stored earlier under another mode can still be switched (its URL is checked when written)');
select pg_temp.as_postgres();
delete from vault.secrets where name = 'platform_mode';
select is(private.platform_is_local(), false, 'without the platform setting, the platform is production');

-- Events
select pg_temp.as_user((select owner_a from ids));
select throws_like($$select * from public.create_webhook_endpoint((select business_a from ids), 'https://x.example.com', '{lead.created,lead.deleted}')$$,
                   'events: unknown event type "lead.deleted"', 'events: an unknown type is refused');
select throws_like($$select * from public.create_webhook_endpoint((select business_a from ids), 'https://x.example.com', '{}')$$,
                   'events: choose at least one event', 'events: at least one');
select is((select array_agg(type order by sort_order) from public.webhook_event_types),
          array['lead.created', 'lead.updated', 'conversation.completed', 'summary.ready', 'lead.opted_out'],
          'webhook_event_types/select: signed-in users read the catalog');
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.webhook_event_types), 5, 'webhook_event_types/select: staff read it too (it is documentation, not data)');
select pg_temp.as_postgres();
set local role anon;
select throws_ok('select * from public.webhook_event_types', '42501', null, 'webhook_event_types/select: anon is refused');
reset role;

-- Rotation
select pg_temp.as_postgres();
create temp table old_secret as select secret from public.webhook_endpoints where id = (select endpoint_id from made);
select pg_temp.as_user((select owner_a from ids));
create temp table rotated as select public.rotate_webhook_endpoint_secret((select endpoint_id from made)) as secret;
select pg_temp.as_postgres();
select ok((select secret from rotated) ~ '^whsec_' and (select secret from rotated) <> (select signing_secret from made),
          'rotate_webhook_endpoint_secret: the owner gets a new secret');
select is((select previous_secret = (select secret from old_secret) and previous_secret_expires_at = now() + interval '24 hours'
             and (select decrypted_secret from vault.decrypted_secrets where id = e.secret) = (select secret from rotated)
             and secret_hint = 'whsec_…' || right(rtrim((select secret from rotated), '='), 4)
             from public.webhook_endpoints e where id = (select endpoint_id from made)),
          true, 'the old secret keeps signing for 24 hours beside the new one');
select pg_temp.as_user((select owner_a from ids));
select public.rotate_webhook_endpoint_secret((select endpoint_id from made));
select pg_temp.as_postgres();
select is((select count(*)::int from vault.secrets where id = (select secret from old_secret)), 0, 'a second rotation forgets the first secret at once');
select pg_temp.as_user((select staff_a from ids));
select throws_ok($$select public.rotate_webhook_endpoint_secret((select endpoint_id from made))$$, 'P0002', null, 'rotate: staff are refused');
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select public.rotate_webhook_endpoint_secret((select endpoint_id from made))$$, 'P0002', null, 'rotate: another business''s owner is refused');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select public.rotate_webhook_endpoint_secret(gen_random_uuid())$$, '42501', null, 'rotate: anon may not call it');
reset role;

-- Deleting an endpoint takes its secrets out of the vault
create temp table gone as select secret, previous_secret from public.webhook_endpoints where id = (select endpoint_id from made);
select pg_temp.as_user((select owner_a from ids));
delete from public.webhook_endpoints where id = (select endpoint_id from made);
select pg_temp.as_postgres();
select is((select count(*)::int from vault.secrets where id in (select secret from gone union select previous_secret from gone)), 0,
          'webhook_endpoints/delete: the owner deletes one, and its secrets leave the vault');

-- At most 10 per business
select pg_temp.as_user((select owner_b from ids));
select count(*) from generate_series(1, 10) i,
  lateral public.create_webhook_endpoint((select business_b from ids), 'https://h' || i || '.example.com/', '{lead.created}');
select throws_like($$select * from public.create_webhook_endpoint((select business_b from ids), 'https://h11.example.com/', '{lead.created}')$$,
                   'a business can have at most 10 webhook endpoints%', 'an eleventh endpoint is refused');
select pg_temp.as_postgres();

select * from finish();
rollback;
