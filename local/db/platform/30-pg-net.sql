-- pg_net is not packaged for Debian, so its SQL surface is recreated here with the same
-- signatures (docs/supabase-standin-spec.md §4.1); local/gateway/pg-net/worker.ts plays its background worker.
create schema if not exists net;
grant usage on schema net to postgres, anon, authenticated, service_role;

do $$
begin
  create type net.request_status as enum ('PENDING', 'SUCCESS', 'ERROR');
exception when duplicate_object then null;
end
$$;

do $$
begin
  create domain net.http_method as text check (lower(value) in ('get', 'post', 'delete'));
exception when duplicate_object then null;
end
$$;

do $$
begin
  create type net.http_response as (status_code integer, headers jsonb, body text);
exception when duplicate_object then null;
end
$$;

do $$
begin
  create type net.http_response_result as (status net.request_status, message text, response net.http_response);
exception when duplicate_object then null;
end
$$;

create unlogged table if not exists net.http_request_queue (
  id bigserial,
  method net.http_method not null,
  url text not null,
  headers jsonb,
  body bytea,
  timeout_milliseconds integer not null
);
comment on table net.http_request_queue is 'pg_net: requests waiting for the worker; rows are deleted once sent.';

create unlogged table if not exists net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);
comment on table net._http_response is 'pg_net: one row per finished request, id = request id; purged after pg_net.ttl.';
create index if not exists _http_response_created_idx on net._http_response (created);

create or replace function net.wake() returns void
language sql volatile
as $$ select pg_notify('pg_net_wake', '') $$;

create or replace function net._encode_uri_component(value text) returns text
language sql immutable strict
as $$
  select coalesce(string_agg(
    case
      when b between 48 and 57 or b between 65 and 90 or b between 97 and 122 or b in (45, 46, 95, 126) then chr(b)
      else '%' || upper(lpad(to_hex(b), 2, '0'))
    end, '' order by i), '')
  from (
    select i, get_byte(convert_to(value, 'UTF8'), i) as b
    from generate_series(0, octet_length(convert_to(value, 'UTF8')) - 1) as i
  ) as bytes
$$;

-- PL/pgSQL rather than SQL: a SQL function that cannot be inlined is parsed and planned again on every
-- transaction's first call, and every wake pays that; PL/pgSQL keeps its plans for the session.
create or replace function net._url_with_params(url text, params jsonb) returns text
language plpgsql immutable
as $$
begin
  if params is null or params = '{}'::jsonb then
    return url;
  end if;
  return url || case when position('?' in url) > 0 then '&' else '?' end || (
    select string_agg(net._encode_uri_component(key) || '=' || net._encode_uri_component(value), '&' order by key)
    from jsonb_each_text(params));
end
$$;

-- Every request function ends the same way: one queue row, a wake for the worker, the row id.
create or replace function net._enqueue_request(
  method net.http_method, url text, headers jsonb, body bytea, timeout_milliseconds integer
) returns bigint
language plpgsql volatile
set search_path = net
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (method, url, headers, body, timeout_milliseconds)
  returning id into request_id;
  perform net.wake();
  return request_id;
end
$$;
revoke execute on function net._enqueue_request(net.http_method, text, jsonb, bytea, integer) from public;

create or replace function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql volatile security definer
set search_path = net
as $$
begin
  return net._enqueue_request('GET', net._url_with_params(url, params), headers, null, timeout_milliseconds);
end
$$;

create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql volatile security definer
set search_path = net
as $$
declare
  content_type text;
begin
  select value into content_type from jsonb_each_text(coalesce(headers, '{}'::jsonb)) where lower(key) = 'content-type' limit 1;
  if content_type is null then
    headers := coalesce(headers, '{}'::jsonb) || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;
  return net._enqueue_request('POST', net._url_with_params(url, params), headers, convert_to(body::text, 'UTF8'), timeout_milliseconds);
end
$$;

create or replace function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000,
  body jsonb default null
) returns bigint
language plpgsql volatile security definer
set search_path = net
as $$
begin
  return net._enqueue_request('DELETE', net._url_with_params(url, params), headers,
                              case when body is null then null else convert_to(body::text, 'UTF8') end, timeout_milliseconds);
end
$$;

create or replace function net._http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result
language plpgsql volatile
set search_path = net
as $$
declare
  found_response net._http_response;
begin
  loop
    select * into found_response from net._http_response where id = request_id;
    exit when found_response.id is not null or async;
    perform pg_sleep(0.05);
  end loop;
  if found_response.id is null then
    return row('PENDING', 'request is pending', null)::net.http_response_result;
  elsif found_response.error_msg is not null then
    return row('ERROR', found_response.error_msg, null)::net.http_response_result;
  end if;
  return row('SUCCESS', 'ok',
    row(found_response.status_code, found_response.headers, found_response.content)::net.http_response
  )::net.http_response_result;
end
$$;

revoke execute on function net.http_get(text, jsonb, jsonb, integer) from public;
revoke execute on function net.http_post(text, jsonb, jsonb, jsonb, integer) from public;
revoke execute on function net.http_delete(text, jsonb, jsonb, integer, jsonb) from public;
grant execute on function net.http_get(text, jsonb, jsonb, integer) to postgres, anon, authenticated, service_role;
grant execute on function net.http_post(text, jsonb, jsonb, jsonb, integer) to postgres, anon, authenticated, service_role;
grant execute on function net.http_delete(text, jsonb, jsonb, integer, jsonb) to postgres, anon, authenticated, service_role;

-- pg_net purges responses older than pg_net.ttl (6 hours) itself; pg_cron does it here.
select cron.schedule('pg_net_response_ttl', '*/10 * * * *',
  $$delete from net._http_response where created < now() - interval '6 hours'$$);
