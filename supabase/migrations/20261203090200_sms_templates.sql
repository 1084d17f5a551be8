-- The business's own wording of its main texts (issue 9 item 5): the owner alert, the first text to a
-- lead, the reminder and the plain summary, per language. private.sms_copy_for (sms_copy.sql) puts a business's row over the
-- default, so every sender renders it through render_sms unchanged; the settings page previews a draft
-- through the same renderer (private.render_copy) with sample lead data, before saving it.

create table private.sms_template_keys (
  key text primary key,
  label text not null check (length(label) between 1 and 80),
  required text[] not null default '{}',
  needs_opt_out boolean not null
);
comment on table private.sms_template_keys is 'Which texts an owner may reword (the rest stay leadloop''s), what each must keep ({placeholders}) and whether it must say how to opt out.';
alter table private.sms_template_keys enable row level security;
revoke all on private.sms_template_keys from public, anon, authenticated;

insert into private.sms_template_keys (key, label, required, needs_opt_out) values
  ('owner_alert', 'Lead alert to you', '{phone}', false),
  ('text_back', 'First text to a lead', '{business,question}', true),
  ('nudge', 'Reminder to a quiet lead', '{business}', true),
  -- The summary itself is written by the summarizer from the conversation; this is the plain one the owner
  -- gets when the summarizer keeps failing.
  ('owner_summary_fallback', 'Summary to you (when the automatic one fails)', '{phone}', false);

create table public.sms_templates (
  business_id uuid not null references public.businesses (id) on delete cascade,
  key text not null references private.sms_template_keys (key),
  locale text not null check (locale in ('en', 'es')),
  body text not null check (length(body) between 1 and 1000),
  body_without_name text check (length(body_without_name) between 1 and 1000 and body_without_name !~ '\{first_name\}'),
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now(),
  primary key (business_id, key, locale),
  constraint sms_templates_name_form check ((body ~ '\{first_name\}') = (body_without_name is not null))
);
comment on table public.sms_templates is 'A business''s own wording of an editable text (private.sms_template_keys) in one language, used instead of the default by private.sms_copy_for. Written by set_sms_template / reset_sms_template only.';
comment on column public.sms_templates.body_without_name is 'The form used when the lead''s first name is unknown; required exactly when body uses {first_name}.';
create index sms_templates_updated_by_idx on public.sms_templates (updated_by) where updated_by is not null;

alter table public.sms_templates enable row level security;
revoke all on public.sms_templates from anon, authenticated;
grant select on public.sms_templates to authenticated;
grant all on public.sms_templates to service_role;

create policy "members can read their business wording" on public.sms_templates
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

-- Placeholders ({name}) a wording uses.
create or replace function private.sms_placeholders(p_text text)
returns text[]
language sql
immutable
set search_path = ''
as $$
  select coalesce(array_agg(distinct m[1] order by m[1]), '{}') from regexp_matches(coalesce(p_text, ''), '\{([a-z_]+)\}', 'g') m
$$;
comment on function private.sms_placeholders(text) is 'The distinct {placeholder} names in a wording, sorted.';
revoke execute on function private.sms_placeholders(text) from public;

-- What a wording may use: the placeholders leadloop's own wording of the key fills (any language).
create or replace function private.sms_template_placeholders(p_key text)
returns text[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(array_agg(distinct p order by p), '{}')
    from private.sms_copy c, unnest(private.sms_placeholders(c.body || ' ' || coalesce(c.body_without_name, ''))) p
   where c.key = p_key
$$;
comment on function private.sms_template_placeholders(text) is 'The placeholders an owner''s wording of p_key may use: those the default wording of p_key fills.';
revoke execute on function private.sms_template_placeholders(text) from public;

-- Why a draft cannot be saved, in words for the owner, or null.
create or replace function private.sms_template_problem(p_key text, p_body text, p_body_without_name text)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  spec private.sms_template_keys;
  allowed text[] := private.sms_template_placeholders(p_key);
  form text;
  label text;
  unknown text;
  missing text;
begin
  select * into spec from private.sms_template_keys k where k.key = p_key;
  if spec.key is null then
    return format('"%s" is not a text you can reword', p_key);
  end if;
  if coalesce(p_body, '') ~ '\{first_name\}' and nullif(btrim(coalesce(p_body_without_name, '')), '') is null then
    return 'this wording uses {first_name}: also write the version for a lead whose first name is unknown';
  end if;
  foreach form in array array[p_body, case when coalesce(p_body, '') ~ '\{first_name\}' then p_body_without_name end] loop
    continue when form is null and label is not null;
    label := case when label is null then 'the text' else 'the version without a name' end;
    if nullif(btrim(coalesce(form, '')), '') is null then
      return format('%s is empty', label);
    elsif length(form) > 1000 then
      return format('%s is longer than 1000 characters', label);
    elsif form ~ '[\u0001-\u0009\u000B-\u001F\u007F]' or (not spec.needs_opt_out and form ~ '\n\s*\n') then
      return format('%s contains control characters or blank lines', label);
    elsif spec.needs_opt_out and form ~ '\n' then
      return format('%s must be one paragraph (no line breaks)', label);
    end if;
    select string_agg('{' || p || '}', ', ') into unknown from unnest(private.sms_placeholders(form)) p where p <> all (allowed);
    if unknown is not null then
      return format('%s uses %s, which leadloop cannot fill: use %s', label, unknown,
                    (select string_agg('{' || a || '}', ', ') from unnest(allowed) a));
    end if;
    if label = 'the version without a name' and form ~ '\{first_name\}' then
      return 'the version without a name cannot use {first_name}';
    end if;
    select string_agg('{' || r || '}', ', ') into missing from unnest(spec.required) r where form !~ ('\{' || r || '\}');
    if missing is not null then
      return format('%s must keep %s', label, missing);
    end if;
    -- The same test private.guard_outbound makes before it appends the opt-out wording itself.
    if spec.needs_opt_out and form !~ 'Reply STOP' then
      return format('%s must tell the lead how to opt out: keep "Reply STOP to opt out" (carriers require it)', label);
    end if;
  end loop;
  return null;
end
$$;
comment on function private.sms_template_problem(text, text, text) is 'Why an owner''s wording of p_key cannot be used (unknown or missing placeholders, no opt-out wording in a text to a lead, empty, too long, line breaks where they would forge lines), or null.';
revoke execute on function private.sms_template_problem(text, text, text) from public;

-- Sample lead data for a preview, filled the way the senders fill the real texts (owner_alert_body,
-- lead_intake's text-back with every detail still to ask, the sweep's nudge).
create or replace function private.sms_template_sample(p_business public.businesses, p_key text, p_locale text, p_with_name boolean)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return case p_key
    when 'owner_alert' then jsonb_build_object(
      'business', p_business.name,
      'name', case when p_with_name then 'Maria Lopez' else '' end,
      'phone', '+14155550123',
      'message', case when p_locale = 'es' then 'Tengo una fuga debajo del fregadero, ¿pueden venir mañana?'
                      else 'Leak under the kitchen sink, can you come tomorrow morning?' end,
      'source', 'https://example.com/contact',
      'call_link', 'tel:+14155550123',
      'text_link', 'sms:+14155550123')
    when 'owner_summary_fallback' then jsonb_build_object(
      'business', p_business.name,
      'name', case when p_with_name then 'Maria Lopez' else '' end,
      'phone', '+14155550123',
      'need', case when p_locale = 'es' then 'reparar una fuga en la cocina' else 'fix a kitchen sink leak' end,
      'timing', case when p_locale = 'es' then 'mañana por la mañana' else 'tomorrow morning' end,
      'location', '94110')
    else jsonb_build_object(
      'business', p_business.name,
      'first_name', case when p_with_name then 'Maria' end,
      'question', case when p_key = 'text_back'
                       then private.render_sms('text_back.question', p_locale, '{}', '{need,timing,location}', p_business.id) end)
  end;
end
$$;
comment on function private.sms_template_sample(public.businesses, text, text, boolean) is 'Sample values for previewing p_key (a lead named Maria, or one without a usable first name), shaped like the real senders'' values.';
revoke execute on function private.sms_template_sample(public.businesses, text, text, boolean) from public;

create or replace function public.sms_template_list(p_business_id uuid)
returns table (key text, label text, locale text, audience text, needs_opt_out boolean, placeholders text[], required text[],
               default_body text, default_body_without_name text, body text, body_without_name text, updated_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_member(p_business_id);
  return query
    select k.key, k.label, c.locale, c.audience, k.needs_opt_out, private.sms_template_placeholders(k.key), k.required,
           c.body, c.body_without_name, t.body, t.body_without_name, t.updated_at
      from private.sms_template_keys k
      join private.sms_copy c on c.key = k.key
      left join public.sms_templates t on t.business_id = p_business_id and t.key = k.key and t.locale = c.locale
     order by array_position(array['owner_alert', 'text_back', 'nudge', 'owner_summary_fallback'], k.key), c.locale;
end
$$;
comment on function public.sms_template_list(uuid) is 'Members: every text the business may reword, per language: leadloop''s wording, the business''s own (null when it uses the default), the placeholders it may use and must keep.';
revoke execute on function public.sms_template_list(uuid) from public, anon;
grant execute on function public.sms_template_list(uuid) to authenticated, service_role;

create or replace function public.preview_sms_template(
  p_business_id uuid, p_key text, p_locale text, p_body text, p_body_without_name text default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  business public.businesses;
  copy private.sms_copy;
  problem text;
begin
  perform private.require_member(p_business_id);
  select * into business from public.businesses b where b.id = p_business_id;
  copy := private.sms_copy_for(null, p_key, p_locale, case p_key when 'nudge' then '{need,timing,location}'::text[] else '{}' end);
  problem := private.sms_template_problem(p_key, p_body, p_body_without_name);
  if copy.key is null or problem is not null then
    return jsonb_build_object('problem', coalesce(problem, format('no wording "%s" in "%s"', p_key, p_locale)), 'text', null, 'text_without_name', null);
  end if;
  copy.body := p_body;
  copy.body_without_name := case when p_body ~ '\{first_name\}' then p_body_without_name end;
  return jsonb_build_object('problem', null,
    'text', private.render_copy(copy, private.sms_template_sample(business, p_key, p_locale, true)),
    'text_without_name', private.render_copy(copy, private.sms_template_sample(business, p_key, p_locale, false)));
end
$$;
comment on function public.preview_sms_template(uuid, text, text, text, text) is 'Members: a draft wording rendered by the real renderer with sample lead data: {problem (why it cannot be saved, or null), text (lead named Maria), text_without_name (no usable name)}.';
revoke execute on function public.preview_sms_template(uuid, text, text, text, text) from public, anon;
grant execute on function public.preview_sms_template(uuid, text, text, text, text) to authenticated, service_role;

create or replace function public.set_sms_template(
  p_business_id uuid, p_key text, p_locale text, p_body text, p_body_without_name text default null)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  problem text;
begin
  perform private.require_owner(p_business_id);
  if p_locale is null or p_locale not in ('en', 'es') then
    raise exception 'language must be en or es' using errcode = '22023', detail = 'field: locale';
  end if;
  problem := private.sms_template_problem(p_key, p_body, p_body_without_name);
  if problem is not null then
    raise exception '%', problem using errcode = '22023', detail = 'field: body';
  end if;
  insert into public.sms_templates as t (business_id, key, locale, body, body_without_name, updated_by)
  values (p_business_id, p_key, p_locale, p_body, case when p_body ~ '\{first_name\}' then p_body_without_name end, (select auth.uid()))
  on conflict (business_id, key, locale) do update
    set body = excluded.body, body_without_name = excluded.body_without_name, updated_by = excluded.updated_by, updated_at = now();
end
$$;
comment on function public.set_sms_template(uuid, text, text, text, text) is 'Owners: save the business''s own wording of an editable text in one language (22023 with the reason when it cannot be used). Texts queued from now on use it.';
revoke execute on function public.set_sms_template(uuid, text, text, text, text) from public, anon;
grant execute on function public.set_sms_template(uuid, text, text, text, text) to authenticated, service_role;

create or replace function public.reset_sms_template(p_business_id uuid, p_key text, p_locale text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  removed integer;
begin
  perform private.require_owner(p_business_id);
  delete from public.sms_templates t where t.business_id = p_business_id and t.key = p_key and t.locale = p_locale;
  get diagnostics removed = row_count;
  return removed > 0;
end
$$;
comment on function public.reset_sms_template(uuid, text, text) is 'Owners: go back to leadloop''s wording of a text in one language. True when the business had its own.';
revoke execute on function public.reset_sms_template(uuid, text, text) from public, anon;
grant execute on function public.reset_sms_template(uuid, text, text) to authenticated, service_role;
