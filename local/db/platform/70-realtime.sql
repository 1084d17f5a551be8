-- Realtime's objects in the project database (docs/supabase-standin-spec.md §3.7), applied on every start and
-- idempotent, shaped like the ones Supabase Realtime's tenant migrations create, so an app can write
-- Realtime Authorization policies: private channels are authorized by RLS on realtime.messages, with
-- realtime.topic() naming the channel being joined and `extension` telling broadcast from presence.
create schema if not exists realtime;
grant usage on schema realtime to postgres, anon, authenticated, service_role;

create table if not exists realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone not null default now(),
  inserted_at timestamp without time zone not null default now(),
  id uuid not null default gen_random_uuid(),
  primary key (id, inserted_at)
);
comment on table realtime.messages is 'Realtime Authorization: RLS policies on this table decide who may read (SELECT) and write (INSERT) a private channel''s broadcast and presence; realtime.topic() is the channel.';
create index if not exists messages_topic_idx on realtime.messages (topic);
alter table realtime.messages enable row level security;
grant select, insert, update on realtime.messages to postgres, anon, authenticated, service_role;

create or replace function realtime.topic()
returns text
language sql
stable
set search_path = ''
as $$
  select nullif(current_setting('realtime.topic', true), '')::text
$$;
comment on function realtime.topic() is 'The channel topic (without the realtime: prefix) being authorized, for policies on realtime.messages.';
grant execute on function realtime.topic() to postgres, anon, authenticated, service_role;

-- The gateway's own helpers (Realtime keeps its internals out of the app's way too).
create schema if not exists _realtime;
revoke all on schema _realtime from public;
comment on schema _realtime is 'Internals of the local Realtime stand-in; callable by the gateway''s superuser connection only.';

-- postgres_changes RLS, per subscriber and in one round trip for any number of them (spec §3.6): for
-- check i, become role p_roles[i] with claims p_claims[i] and run the prepared statement p_statements[i]
-- (an `exists(select 1 from <table> where <primary key> = ...)` that the gateway prepared on this session)
-- with the argument list p_args[i] (literals the gateway quoted). Prepared statements keep their plan
-- between checks of the same role, so 200 subscribers cost 200 executions, not 200 plans. Role and
-- claims are transaction-local and reset before returning.
-- The replication stream can announce a commit in the instant between its WAL flush and the moment
-- other sessions see it, so the checks first wait (briefly) until the transactions p_xids no longer hold
-- their transaction lock, which a transaction releases only once it is visible.
drop function if exists _realtime.visible_to_subscribers(text[], text[], text[], text[]);
create or replace function _realtime.visible_to_subscribers(p_xids xid[], p_statements text[], p_args text[], p_roles text[], p_claims text[])
returns boolean[]
language plpgsql
as $$
declare
  result boolean[] := '{}';
  visible boolean;
begin
  for attempt in 1 .. 2000 loop
    exit when not exists (select 1 from pg_catalog.pg_locks l where l.locktype = 'transactionid' and l.transactionid = any(p_xids));
    perform pg_catalog.pg_sleep(0.0005 * least(attempt, 10));
  end loop;
  for i in 1 .. coalesce(array_length(p_statements, 1), 0) loop
    perform set_config('role', p_roles[i], true);
    perform set_config('request.jwt.claims', p_claims[i], true);
    execute format('execute %I(%s)', p_statements[i], p_args[i]) into visible;
    result := result || coalesce(visible, false);
  end loop;
  perform set_config('role', 'none', true);
  perform set_config('request.jwt.claims', '', true);
  return result;
end
$$;
comment on function _realtime.visible_to_subscribers(xid[], text[], text[], text[], text[]) is 'Per-subscriber RLS visibility of changed rows, once the transactions p_xids are visible: one result per (prepared statement, arguments, role, claims).';
revoke all on function _realtime.visible_to_subscribers(xid[], text[], text[], text[], text[]) from public;
