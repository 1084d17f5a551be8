-- Extensions where Supabase keeps them, pg_cron, pg_stat_statements, pgTAP and the empty realtime publication.
create schema if not exists extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant all on functions to postgres, anon, authenticated, service_role;

create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists pgtap with schema extensions;
create extension if not exists pg_cron with schema pg_catalog;
create extension if not exists plpgsql_check with schema extensions;
-- Preloaded and installed as on every Supabase project: where query time goes (Query Performance report).
create extension if not exists pg_stat_statements with schema extensions;

alter database postgres set search_path = "$user", public, extensions;

do $$
begin
  if not exists (select from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;
