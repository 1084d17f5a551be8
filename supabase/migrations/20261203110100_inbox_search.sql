-- The inbox: one search over what an owner remembers of a lead (name, phone typed any way, email, the
-- form message, the summary's need, timing, location and constraints), filters by pipeline status,
-- follow-up state and what needs attention, keyset pages, and the counts behind the badges.
--
-- Why a stored column and an RPC: the summary lives on conversations, so a GENERATED column on leads
-- cannot see it; leads.search_text is kept by two triggers (the lead's own fields, and the conversation's
-- summary when it is written) from one function, private.lead_search_text. One GIN trigram index on that
-- column serves every word of a search, and because the filters and the page order are on the same
-- table, the planner can choose between the index (a rare word) and walking the newest leads until a page
-- is full (a common one). search_leads builds only the predicates a request uses, with its values inline,
-- so each search is planned for its own words rather than with a generic plan.

create extension if not exists pg_trgm with schema extensions;
create extension if not exists unaccent with schema extensions;

create or replace function private.search_normalize(p_text text)
returns text
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  return (
    select lower(extensions.unaccent('extensions.unaccent'::regdictionary, coalesce(p_text, ''))));
end
$$;
comment on function private.search_normalize(text) is 'Lower case without accents ("José" finds "jose"): applied to the stored search text and to every search term alike.';
revoke execute on function private.search_normalize(text) from public;

-- The phone is stored as its digits, so "(415) 555-0101", "415.555.0101" and "+1 415 555 0101" all find it.
create or replace function private.lead_search_text(p_name text, p_phone text, p_email text, p_message text, p_summary jsonb)
returns text
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  -- A lead's phone is E.164, so its digits are the number without the +.
  return (
    select private.search_normalize(concat_ws(' ', p_name, translate(coalesce(p_phone, ''), '+', ''), p_email, p_message,
      p_summary ->> 'need', p_summary ->> 'timing', p_summary ->> 'location',
      case when jsonb_typeof(p_summary -> 'constraints') = 'array'
           then (select string_agg(c, ' ') from jsonb_array_elements_text(p_summary -> 'constraints') as c) end)));
end
$$;
comment on function private.lead_search_text(text, text, text, text, jsonb) is 'What the inbox search matches for a lead: name, phone digits, email, form message and the summary''s slots, normalized.';
revoke execute on function private.lead_search_text(text, text, text, text, jsonb) from public;

alter table public.leads add column search_text text not null default '';
comment on column public.leads.search_text is 'private.lead_search_text of the lead and its summary, kept by triggers; the inbox search matches it (GIN trigram index).';

update public.leads l
   set search_text = private.lead_search_text(l.name, l.phone, l.email, l.message,
                                              (select c.summary from public.conversations c where c.lead_id = l.id));

create or replace function private.leads_set_search_text()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.search_text := private.lead_search_text(new.name, new.phone, new.email, new.message,
    case when tg_op = 'UPDATE' then (select c.summary from public.conversations c where c.lead_id = new.id) end);
  return new;
end
$$;
comment on function private.leads_set_search_text() is 'BEFORE INSERT / UPDATE OF name, phone, email, message on leads (after the intake rules normalized them): recomputes search_text.';
revoke execute on function private.leads_set_search_text() from public;

-- Named to fire after leads_intake_rules (BEFORE triggers fire in name order), which normalizes the fields.
create trigger leads_search_text before insert or update of name, phone, email, message on public.leads
  for each row execute function private.leads_set_search_text();

create or replace function private.conversations_set_lead_search_text()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.leads l
     set search_text = private.lead_search_text(l.name, l.phone, l.email, l.message, new.summary)
   where l.id = new.lead_id;
  return null;
end
$$;
comment on function private.conversations_set_lead_search_text() is 'AFTER UPDATE OF summary on conversations: the lead''s search text gains the summary''s slots.';
revoke execute on function private.conversations_set_lead_search_text() from public;

create trigger conversations_lead_search_text after update of summary on public.conversations
  for each row when (new.summary is distinct from old.summary)
  execute function private.conversations_set_lead_search_text();

create index leads_search_text_trgm_idx on public.leads using gin (search_text extensions.gin_trgm_ops);
-- Pages of one pipeline status, newest first, and the unread ones; both in keyset order.
create index leads_business_id_status_created_at_idx on public.leads (business_id, status, created_at desc, id desc);
create index leads_unread_idx on public.leads (business_id, created_at desc, id desc) where unread_count > 0;
-- Failed deliveries are few however long the history grows.
create index messages_failed_lead_id_idx on public.messages (business_id, lead_id)
  where status in ('failed', 'undelivered') and lead_id is not null;

create type public.inbox_followup as enum ('texting', 'replied', 'completed', 'no_reply', 'opted_out', 'failed', 'not_texted', 'duplicate');
comment on type public.inbox_followup is 'Where the SMS follow-up with a lead stands, as the inbox filters it (the words of its status chip).';
create type public.inbox_attention as enum ('unread', 'failed_delivery', 'dead_letter', 'notified');
comment on type public.inbox_attention is 'Why a lead needs the owner: texts nobody read, a text that could not be delivered, one given up after every retry (dead letter), an open owner notification about it.';

-- Each follow-up state and attention reason as a predicate on lead l, the one definition search_leads and inbox_counts use.
create or replace function private.inbox_followup_predicate(p_followup public.inbox_followup)
returns text
language sql
immutable
set search_path = ''
as $$
  select case p_followup
    when 'duplicate' then 'l.is_duplicate'
    when 'texting' then 'exists (select 1 from public.conversations c where c.lead_id = l.id and c.status in (''pending'', ''awaiting_reply''))'
    when 'replied' then 'exists (select 1 from public.conversations c where c.lead_id = l.id and c.status = ''active'')'
    when 'completed' then 'exists (select 1 from public.conversations c where c.lead_id = l.id and c.status = ''completed'')'
    when 'no_reply' then 'exists (select 1 from public.conversations c where c.lead_id = l.id and c.status = ''no_reply'')'
    when 'failed' then 'exists (select 1 from public.conversations c where c.lead_id = l.id and c.status = ''failed'')'
    -- An earlier STOP reads as opted out too, whether it ended this lead''s conversation or prevented one.
    when 'opted_out' then '(exists (select 1 from public.conversations c where c.lead_id = l.id and c.status = ''opted_out'')'
                          || ' or (l.not_texted_reason = ''opted_out'' and not exists (select 1 from public.conversations c where c.lead_id = l.id)))'
    when 'not_texted' then '(not l.is_duplicate and l.followup_status = ''not_texted'' and l.not_texted_reason <> ''opted_out'''
                           || ' and not exists (select 1 from public.conversations c where c.lead_id = l.id))'
  end
$$;
comment on function private.inbox_followup_predicate(public.inbox_followup) is 'SQL text of the condition on lead l for one follow-up filter (same precedence as the dashboard''s status chip: duplicate, then the conversation, then the intake decision).';
revoke execute on function private.inbox_followup_predicate(public.inbox_followup) from public;

create or replace function private.inbox_attention_predicate(p_attention public.inbox_attention)
returns text
language sql
immutable
set search_path = ''
as $$
  select case p_attention
    when 'unread' then 'l.unread_count > 0'
    when 'failed_delivery' then 'exists (select 1 from public.messages m where m.business_id = l.business_id and m.lead_id = l.id'
                                || ' and m.status in (''failed'', ''undelivered''))'
    when 'dead_letter' then 'exists (select 1 from public.messages m where m.business_id = l.business_id and m.lead_id = l.id'
                            || ' and m.status in (''failed'', ''undelivered'') and m.status_reason like ''dead\_letter%'')'
    when 'notified' then 'exists (select 1 from public.owner_notifications n where n.lead_id = l.id and n.resolved_at is null)'
  end
$$;
comment on function private.inbox_attention_predicate(public.inbox_attention) is 'SQL text of the condition on lead l for one attention filter.';
revoke execute on function private.inbox_attention_predicate(public.inbox_attention) from public;

-- A search is at most 8 words; words are matched as substrings of search_text, all of them.
create or replace function private.search_terms(p_query text)
returns text[]
language sql
immutable
set search_path = ''
as $$
  select case
    when btrim(coalesce(p_query, '')) = '' then '{}'::text[]
    -- A phone number typed any way: its digits.
    when p_query ~ '^[0-9[:space:]().+-]+$' and length(regexp_replace(p_query, '[^0-9]', '', 'g')) >= 3
      then array[regexp_replace(p_query, '[^0-9]', '', 'g')]
    else (select coalesce(array_agg(w), '{}') from (
            select w from unnest(regexp_split_to_array(private.search_normalize(btrim(p_query)), '[[:space:]]+')) as w
             where w <> '' limit 8) as words)
  end
$$;
comment on function private.search_terms(text) is 'The words of an inbox search, normalized like search_text; a phone number in any format becomes its digits.';
revoke execute on function private.search_terms(text) from public;

create or replace function public.search_leads(
  p_business_id uuid,
  p_query text default null,
  p_statuses text[] default null,
  p_followup public.inbox_followup default null,
  p_attention public.inbox_attention default null,
  p_cursor_created_at timestamptz default null,
  p_cursor_id uuid default null,
  p_newer boolean default false,
  p_limit integer default 50)
returns setof public.leads
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  query text := 'select l.* from public.leads l where l.business_id = $1';
  term text;
begin
  perform private.require_member(p_business_id);
  if p_limit is null or p_limit not between 1 and 200 then
    raise exception 'p_limit must be between 1 and 200' using errcode = '22023';
  end if;
  if length(p_query) > 200 then
    raise exception 'a search is at most 200 characters' using errcode = '22023';
  end if;
  if (p_cursor_created_at is null) <> (p_cursor_id is null) then
    raise exception 'a cursor is both p_cursor_created_at and p_cursor_id' using errcode = '22023';
  end if;
  foreach term in array private.search_terms(p_query) loop
    query := query || format(' and l.search_text like %L', '%' || replace(replace(replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%');
  end loop;
  if cardinality(p_statuses) > 0 then
    query := query || ' and l.status = any ($2)';
  end if;
  if p_followup is not null then
    query := query || ' and ' || private.inbox_followup_predicate(p_followup);
  end if;
  if p_attention is not null then
    query := query || ' and ' || private.inbox_attention_predicate(p_attention);
  end if;
  if p_cursor_id is not null then
    query := query || case when p_newer then ' and (l.created_at, l.id) > ($3, $4)' else ' and (l.created_at, l.id) < ($3, $4)' end;
  end if;
  query := query || case when p_newer then ' order by l.created_at, l.id' else ' order by l.created_at desc, l.id desc' end || ' limit $5';
  return query execute query using p_business_id, p_statuses, p_cursor_created_at, p_cursor_id, p_limit;
end
$$;
comment on function public.search_leads(uuid, text, text[], public.inbox_followup, public.inbox_attention, timestamptz, uuid, boolean, integer) is
  'Dashboard inbox: one keyset page of a business''s leads, newest first (p_newer: the page after the cursor, oldest first), matching every word of p_query (name, phone in any format, email, message, summary) and the filters. Members only (42501).';
revoke execute on function public.search_leads(uuid, text, text[], public.inbox_followup, public.inbox_attention, timestamptz, uuid, boolean, integer) from public, anon;
grant execute on function public.search_leads(uuid, text, text[], public.inbox_followup, public.inbox_attention, timestamptz, uuid, boolean, integer) to authenticated;

create or replace function public.inbox_counts(p_business_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  counts jsonb;
  attention public.inbox_attention;
  matching bigint;
begin
  perform private.require_member(p_business_id);
  select jsonb_build_object('unread_messages', coalesce(sum(l.unread_count), 0),
                            'open_notifications', (select count(*) from public.owner_notifications n
                                                    where n.business_id = p_business_id and n.resolved_at is null))
    into counts
    from public.leads l where l.business_id = p_business_id and l.unread_count > 0;
  -- Leads per attention filter, counted with the filter's own predicate.
  foreach attention in array enum_range(null::public.inbox_attention) loop
    execute 'select count(*) from public.leads l where l.business_id = $1 and ' || private.inbox_attention_predicate(attention)
      into matching using p_business_id;
    counts := counts || jsonb_build_object(attention::text, matching);
  end loop;
  return counts;
end
$$;
comment on function public.inbox_counts(uuid) is 'Dashboard badges: leads per attention filter (unread, failed_delivery, dead_letter, notified), unread texts, and all open owner notifications of the business. Members only (42501).';
revoke execute on function public.inbox_counts(uuid) from public, anon;
grant execute on function public.inbox_counts(uuid) to authenticated;
