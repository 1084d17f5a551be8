-- Platform: the extensions the state machine needs, the private schema and the pure helpers every
-- later migration uses (validators for CHECK constraints, the sending-window clock, updated_at).
-- Feature migrations follow, one per concern, each granting its functions where it defines them.

-- On a hosted project pg_cron and pg_net are extensions that must be enabled; the local stack
-- provides them already (pg_net as a compatible `net` schema), so enable only what is installable.
do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_cron')
     and not exists (select 1 from pg_extension where extname = 'pg_cron') then
    create extension pg_cron with schema pg_catalog;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'pg_net')
     and not exists (select 1 from pg_extension where extname = 'pg_net') then
    create extension pg_net with schema extensions;
  end if;
end
$$;

create schema if not exists private;
comment on schema private is 'leadloop internals: RLS helpers, triggers, RPC helpers, SMS copy, wake bookkeeping and the lifecycle sweep. Never exposed through the API.';
revoke all on schema private from public;
revoke all on schema private from anon;
-- RLS policies and CHECK constraints call helpers here as the requesting role, so that role needs
-- USAGE; EXECUTE is granted helper by helper (every function below revokes it from PUBLIC first).
grant usage on schema private to authenticated, service_role;

-- Pure validators. CHECK constraints call them as the inserting role, hence the grants to the API roles.

-- Simple shapes are checked with string functions rather than regular expressions on the paths every
-- lead takes: a backend keeps only 32 compiled regular expressions (PostgreSQL's regexp cache), and once a
-- transaction uses more than that, every one of them is compiled again each time (5 to 10 times the cost
-- of the match). The regular expressions left on those paths are the ones that need to be one.
create or replace function private.is_digits(p_text text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return length(p_text) > 0 and translate(p_text, '0123456789', '') = '';
end
$$;
comment on function private.is_digits(text) is 'True for a non-empty string of ASCII digits only.';
revoke execute on function private.is_digits(text) from public;
grant execute on function private.is_digits(text) to anon, authenticated, service_role;
create or replace function private.is_e164(p_phone text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- String functions, not a regex: see private.is_digits.
  return left(p_phone, 1) = '+' and length(p_phone) between 9 and 16 and substr(p_phone, 2, 1) <> '0'
     and private.is_digits(substr(p_phone, 2));
end
$$;
-- What people type around a phone number: spaces of any kind (a pasted number often carries no-break
-- spaces), brackets, dots and dashes. The form and the alert phones both accept a number written that way.
create or replace function private.clean_phone(p_phone text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return translate(coalesce(p_phone, ''), E' \t\n\r\f().-' || chr(11) || chr(160) || chr(8199) || chr(8201) || chr(8239), '');
end
$$;
comment on function private.clean_phone(text) is 'The phone number without the spaces, brackets, dots and dashes people write in it (not yet checked: see private.is_e164).';
revoke execute on function private.clean_phone(text) from public;

comment on function private.is_e164(text) is 'True for an E.164 number: +, country code, 8 to 15 digits in total.';
revoke execute on function private.is_e164(text) from public;
grant execute on function private.is_e164(text) to anon, authenticated, service_role;

create or replace function private.is_valid_timezone(p_timezone text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_timezone is null or length(p_timezone) > 64 then
    return false;
  end if;
  perform now() at time zone p_timezone;
  return true;
exception when others then
  return false;
end
$$;
comment on function private.is_valid_timezone(text) is 'True when Postgres knows the IANA time zone name.';
revoke execute on function private.is_valid_timezone(text) from public;
grant execute on function private.is_valid_timezone(text) to anon, authenticated, service_role;

-- A time zone a visitor's browser may report that says nothing about where they are: privacy-hardened
-- browsers report UTC, and the Etc/ zones are offsets, not places.
-- (Self-contained: CHECK constraints run it as anon, which may not look inside the private schema.)
create or replace function private.is_place_timezone(p_timezone text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_timezone is null or length(p_timezone) > 64 or p_timezone ~* '^(etc/|utc$|uct$|gmt|zulu$|universal$|greenwich$|factory$)' then
    return false;
  end if;
  perform now() at time zone p_timezone;
  return true;
exception when others then
  return false;
end
$$;
comment on function private.is_place_timezone(text) is 'True for an IANA zone that names a place (America/Chicago), false for UTC, GMT, Etc/* and invalid names.';
revoke execute on function private.is_place_timezone(text) from public;
grant execute on function private.is_place_timezone(text) to anon, authenticated, service_role;

create or replace function private.is_valid_origin(p_origin text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select p_origin ~ '^https?://[a-z0-9.-]+(:[0-9]{1,5})?$'
$$;
comment on function private.is_valid_origin(text) is 'True for a browser Origin value: scheme://host[:port], lowercase, no path.';
revoke execute on function private.is_valid_origin(text) from public;
grant execute on function private.is_valid_origin(text) to anon, authenticated, service_role;

create or replace function private.all_valid_origins(p_origins text[])
returns boolean
language sql
immutable
set search_path = ''
as $$
  select coalesce(bool_and(private.is_valid_origin(o)), true) from unnest(p_origins) as o
$$;
comment on function private.all_valid_origins(text[]) is 'True when every element is a valid browser Origin (see is_valid_origin).';
revoke execute on function private.all_valid_origins(text[]) from public;
grant execute on function private.all_valid_origins(text[]) to anon, authenticated, service_role;

-- The next moment at or after p_at that lies inside the allowed sending window of the given zone.
-- Local wall-clock arithmetic happens on `timestamp` and is converted back with AT TIME ZONE, so a
-- window start on a DST-change day maps to the right instant.
create or replace function private.next_allowed_send_time(
  p_at timestamptz,
  p_timezone text,
  p_window_start time,
  p_window_end time
)
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
declare
  local_at timestamp := p_at at time zone p_timezone;
begin
  if local_at::time >= p_window_start and local_at::time < p_window_end then
    return p_at;
  elsif local_at::time < p_window_start then
    return (local_at::date + p_window_start) at time zone p_timezone;
  else
    return ((local_at::date + 1) + p_window_start) at time zone p_timezone;
  end if;
end
$$;
comment on function private.next_allowed_send_time(timestamptz, text, time, time) is
  'Earliest instant >= p_at inside [window_start, window_end) local time in p_timezone (DST-correct).';
revoke execute on function private.next_allowed_send_time(timestamptz, text, time, time) from public;

-- The widest window anyone may text a lead in: 08:00-21:00 in the lead's local time (47 CFR
-- 64.1200(c)(1)). An owner may narrow it (and states narrow it further: state_texting_rules), never
-- widen it. One place says so: the businesses CHECK constraint and its clear error both call this.
create or replace function private.texting_window_problem(p_start time, p_end time)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when p_start is null or p_end is null then 'Set both the time texting starts and the time it ends.'
    when p_start < '08:00' then 'Texts to leads may start at 08:00 at the earliest (the federal rule): choose 08:00 or later.'
    when p_end > '21:00' then 'Texts to leads must end by 21:00 at the latest (the federal rule): choose 21:00 or earlier.'
    when p_end - p_start < interval '1 hour' then 'Texting must end at least an hour after it starts (same day).'
  end
$$;
comment on function private.texting_window_problem(time, time) is 'Why an owner''s texting window is not allowed (outside 08:00-21:00, or under an hour long), or null when it is.';
revoke execute on function private.texting_window_problem(time, time) from public;
grant execute on function private.texting_window_problem(time, time) to authenticated, service_role;

create or replace function private.touch_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
comment on function private.touch_updated_at() is 'BEFORE UPDATE trigger: updated_at is the time of the last change.';
revoke execute on function private.touch_updated_at() from public;
