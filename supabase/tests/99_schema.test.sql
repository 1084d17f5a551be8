-- Structure the rest of the system relies on, checked for every object so a new migration cannot slip:
-- RLS and comments, grants, function hygiene (the advisors' rules), indexes, realtime, cron.
begin;
select plan(26);

select is(
  (select array_agg(column_name::text order by column_name) from information_schema.column_privileges
    where grantee = 'anon' and table_schema = 'public' and table_name = 'leads' and privilege_type = 'INSERT'),
  array['email', 'honeypot', 'locale', 'message', 'name', 'phone', 'reported_timezone', 'sms_consent', 'source_url', 'widget_id'],
  'anon may insert exactly the form columns of leads (and the form''s language and the browser''s time zone)');
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
  array['apply_conversation_turn', 'claim_due_summaries', 'claim_emails', 'claim_outbound_messages', 'claim_webhook_deliveries',
        'complete_conversation_summary', 'get_conversation_context', 'mark_email_failed', 'mark_email_sent', 'mark_message_failed',
        'mark_message_sent', 'next_outbox_due_at', 'process_inbound_sms', 'receive_inbound_sms', 'record_message_status',
        'record_stripe_customer', 'record_stripe_event', 'record_webhook_attempt', 'sending_number_taken', 'sending_numbers_taken', 'set_business_sending_number'],
  'the function RPCs are granted to service_role alone');
select is(
  (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
      and not coalesce(p.proconfig @> array['search_path=""'], false)),
  null, 'every function pins search_path to empty (advisor: function_search_path_mutable)');
select is(
  (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace) and obj_description(p.oid, 'pg_proc') is null),
  null, 'every function has a comment');
select is(
  (select array_agg(format('%I.%I', schemaname, tablename) order by 1) from pg_tables
    where schemaname in ('public', 'private') and obj_description(format('%I.%I', schemaname, tablename)::regclass, 'pg_class') is null),
  null, 'every table has a comment');
select is(
  (select array_agg(format('%I.%I', schemaname, tablename) order by 1) from pg_tables where schemaname in ('public', 'private') and not rowsecurity),
  null, 'every table has RLS enabled (advisor: rls_disabled_in_public)');
select is(
  (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
      and exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a where a.grantee = 0 and a.privilege_type = 'EXECUTE')),
  null, 'no function is executable by PUBLIC: each one grants exactly who calls it');
select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc p where p.pronamespace = 'private'::regnamespace
      and has_function_privilege('authenticated', p.oid, 'execute')),
  array['all_valid_origins', 'consent_text_problems', 'is_digits', 'is_e164', 'is_place_timezone', 'is_valid_origin', 'is_valid_timezone',
        'max_daily_sms_cap', 'member_business_ids', 'owned_business_ids', 'texting_window_problem'],
  'users can execute only the RLS membership helpers and the pure validators in private (max_daily_sms_cap: the cap''s CHECK)');
select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc p where p.pronamespace = 'private'::regnamespace
      and has_function_privilege('anon', p.oid, 'execute')),
  array['all_valid_origins', 'is_digits', 'is_e164', 'is_place_timezone', 'is_valid_origin', 'is_valid_timezone'],
  'anon can execute only the validators its CHECK constraints call');
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
  array['conversations', 'leads', 'messages', 'owner_notifications', 'subscriptions', 'webhook_deliveries', 'webhook_endpoints'],
  'leads, conversations, messages, owner notifications, subscriptions and webhook endpoints and deliveries are published to realtime');
select is((select schedule from cron.job where jobname = 'leadloop-lifecycle-sweep'), '* * * * *', 'the lifecycle sweep runs every minute');
select is((select command from cron.job where jobname = 'leadloop-lifecycle-sweep'), 'select private.lifecycle_sweep()', 'through pg_cron');
select is((select schedule from cron.job where jobname = 'leadloop-prune-stripe-events'), '17 4 * * *', 'processed Stripe events are pruned daily');
select is((select command from cron.job where jobname = 'leadloop-prune-stripe-events'), 'select private.prune_stripe_events()', 'through pg_cron too');
select is((select schedule from cron.job where jobname = 'leadloop-email-sweep'), '* * * * *', 'the email sweep runs every minute');
select is((select command from cron.job where jobname = 'leadloop-email-sweep'), 'select private.email_sweep()', 'through pg_cron as well');

-- `supabase db lint`: plpgsql_check on every PL/pgSQL function (triggers against their table), with
-- its default checks: no error, no warning, no extra warning (unused variables and parameters).
select is(
  (select array_agg(p.oid::regprocedure || ': ' || r.level || ' ' || r.message order by 1)
     from pg_proc p
     join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
     left join lateral (select t.tgrelid from pg_trigger t where t.tgfoid = p.oid limit 1) trig on true
     cross join lateral extensions.plpgsql_check_function_tb(p.oid, coalesce(trig.tgrelid, 0)) r
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)),
  null, 'plpgsql_check finds nothing to report in any function or trigger');

-- service_role bypasses RLS, so the API's own queries see every business
set local role service_role;
select ok((select count(*) from public.businesses) >= 1, 'service_role reads across businesses (bypasses RLS)');
reset role;

select * from finish();
rollback;
