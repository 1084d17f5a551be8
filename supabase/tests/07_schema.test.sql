-- Structure the rest of the system relies on: grants, function hygiene, indexes, realtime, cron.
begin;
select plan(17);

select is(
  (select array_agg(column_name::text order by column_name) from information_schema.column_privileges
    where grantee = 'anon' and table_schema = 'public' and table_name = 'leads' and privilege_type = 'INSERT'),
  array['email', 'honeypot', 'message', 'name', 'phone', 'sms_consent', 'source_url', 'widget_id'],
  'anon may insert exactly the form columns of leads');
select is(
  (select count(*)::int from information_schema.role_table_grants
    where grantee = 'anon' and table_schema in ('public', 'private') and privilege_type <> 'INSERT'),
  0, 'anon has no table privilege other than that insert');
select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc p
    where p.pronamespace = 'public'::regnamespace and has_function_privilege('anon', p.oid, 'execute')),
  array['get_widget_config'], 'the only function anon can call is get_widget_config');
select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc p
    where p.pronamespace = 'public'::regnamespace and not has_function_privilege('authenticated', p.oid, 'execute')
      and has_function_privilege('service_role', p.oid, 'execute')),
  array['apply_conversation_turn', 'claim_due_summaries', 'claim_outbound_messages', 'complete_conversation_summary',
        'get_conversation_context', 'mark_message_failed', 'mark_message_sent', 'record_inbound_sms', 'record_message_status'],
  'the function RPCs are granted to service_role alone');
select is(
  (select count(*)::int from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace) and p.prosecdef
      and not coalesce(p.proconfig @> array['search_path=""'], false)),
  0, 'every security definer function pins search_path to empty');
select is(
  (select count(*)::int from pg_proc p where p.pronamespace = 'private'::regnamespace
      and has_function_privilege('authenticated', p.oid, 'execute')
      and p.proname not in ('member_business_ids', 'owned_business_ids', 'is_e164', 'is_valid_timezone', 'is_valid_origin', 'all_valid_origins')),
  0, 'users can execute only the RLS membership helpers and the pure validators in private');
select is(
  (select count(*)::int from pg_policies where schemaname = 'public' and not (roles <@ array['anon', 'authenticated']::name[])),
  0, 'every policy names its role (anon or authenticated)');
select is(
  (select sum(regexp_count(coalesce(qual, '') || coalesce(with_check, ''), 'auth\.uid\(\)')
             - regexp_count(coalesce(qual, '') || coalesce(with_check, ''), 'SELECT auth\.uid\(\)'))::int
     from pg_policies where schemaname = 'public'),
  0, 'policies call auth.uid() only as (select auth.uid()), evaluated once per statement');

select ok((select indexdef ~ 'WHERE \(next_action_at IS NOT NULL\)' from pg_indexes where indexname = 'conversations_next_action_due_idx'),
          'due conversations have a partial index');
select ok((select indexdef ~ 'WHERE \(status = ''queued''' from pg_indexes where indexname = 'messages_outbox_queued_idx'),
          'the outbox has a partial index of queued messages');
select ok((select indexdef ~ 'WHERE \(status = ''deferred''' from pg_indexes where indexname = 'messages_outbox_deferred_idx'),
          'deferred messages have a partial index');
select ok((select indexdef ~ 'business_members USING btree \(user_id' from pg_indexes where indexname = 'business_members_user_id_idx'),
          'the column every policy filters on (business_members.user_id) is indexed');

select is(
  (select array_agg(tablename::text order by tablename) from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public'),
  array['conversations', 'leads', 'messages'], 'leads, conversations and messages are published to realtime');
select is((select schedule from cron.job where jobname = 'leadloop-lifecycle-sweep'), '* * * * *', 'the lifecycle sweep runs every minute');
select is((select command from cron.job where jobname = 'leadloop-lifecycle-sweep'), 'select private.lifecycle_sweep()', 'through pg_cron');
select is((select count(*)::int from pg_tables where schemaname = 'private' and not rowsecurity), 0, 'private tables have RLS enabled too');

-- plpgsql_check compiles every PL/pgSQL function against the schema (triggers against their table).
select is(
  (select count(*)::int
     from pg_proc p
     join lateral (
       select t.tgrelid from pg_trigger t where t.tgfoid = p.oid limit 1
     ) trig on true
     cross join lateral extensions.plpgsql_check_function_tb(p.oid, trig.tgrelid) r
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace) and p.prorettype = 'trigger'::regtype
      and r.level = 'error')
  + (select count(*)::int
     from pg_proc p
     cross join lateral extensions.plpgsql_check_function_tb(p.oid) r
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace) and p.prorettype <> 'trigger'::regtype
      and p.prolang = (select oid from pg_language where lanname = 'plpgsql') and r.level = 'error'),
  0, 'plpgsql_check finds no error in any function or trigger');

select * from finish();
rollback;
